"""Keeps the configured and recorded attachments in force.

* attachments from the configuration are made, or adopted when the pinned
  state already enforces the same policy files (no gap, nothing duplicated);
* a cgroup removed and created again (systemd does so on every restart) gets
  the same generation back (follow, every tick);
* changed policy files are reloaded once they stayed the same for one check,
  and on SIGHUP; a policy that does not compile leaves the old one in force;
* attachments recorded but gone from the kernel (pins removed) are reported
  at CRIT and re-attached from their policy files.
"""

from __future__ import annotations

import ctypes as C
import logging
import os
from collections.abc import Callable

from .. import attachments
from ..errors import BpfsystraceError, TargetError
from ..kernel import loader, system
from .config import Spec
from .notify import sd_notify

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, specs: list[Spec], alert: Callable[[str], None]):
        """alert(text): a CRIT message for syslog (nothing when syslog is off)."""
        self.specs = specs
        self.alert = alert
        self.pending: dict[str, Spec] = {}  # configured, waiting for their cgroup
        self.gone: set[int] = set()  # attachments whose cgroup is missing (logged once)
        self.bad_fp: dict[int, str] = {}  # fingerprints that failed to reload (logged once)
        self.settling: dict[int, str] = {}  # changed fingerprints waiting one check to settle
        self.lost_alarm = False  # kernel state lost, CRIT logged (once per episode)
        self.relost_err: dict[int, str] = {}  # re-attach failures (logged once each)

    def start(self) -> None:
        """Every configured attachment, made or adopted (errors propagate: a bad start)."""
        for spec in self.specs:
            self.ensure(spec)

    def check(self) -> None:
        """Once per check period: lost kernel state, waiting cgroups, changed files."""
        self.check_kernel_state()
        for spec in list(self.pending.values()):
            self.ensure_logged(spec)
        self.reload_all(forced=False)

    def ensure(self, spec: Spec) -> None:
        """Attach as configured, or adopt the pinned state when it is the same policy."""
        cgpath = system.resolve_cgroup(spec.cgroup)
        if spec.create and not os.path.isdir(cgpath):
            try:
                os.makedirs(cgpath)
                log.info(
                    "[attach %s] created cgroup %s, to confine it before anything runs in it",
                    spec.name,
                    cgpath,
                )
            except OSError as e:
                log.error("[attach %s] cannot create cgroup %s: %s", spec.name, cgpath, e.strerror)
        try:
            cgid = system.cgroup_id(cgpath)
        except TargetError:
            if spec.name not in self.pending:
                log.warning(
                    "[attach %s] cgroup %s does not exist yet: it will be confined as soon as it appears",
                    spec.name,
                    spec.cgroup,
                )
            self.pending[spec.name] = spec
            return
        self.pending.pop(spec.name, None)
        meta = attachments.load_attachment(cgid) if loader.is_loaded() else None
        if meta is not None and self.same(meta, spec):
            try:
                fp = attachments.fingerprint(meta.sources, meta.default_spec)
            except (BpfsystraceError, OSError):
                fp = None
            if fp == meta.fingerprint and self.is_live(cgid, meta.gen):
                log.info(
                    "[attach %s] adopted %s (generation %d): already enforcing these policies",
                    spec.name,
                    cgpath,
                    meta.gen,
                )
                return
        meta = attachments.attach(cgpath, spec.policies, spec.default, spec.manager, mode=spec.mode)
        log.info(
            "[attach %s] " + ("auditing" if spec.mode == "audit" else "enforcing") + " on %s (generation %d)",
            spec.name,
            meta.cgroup,
            meta.gen,
        )

    @staticmethod
    def same(meta, spec) -> bool:
        default = spec.default if spec.default in ("deny", "permit") else os.path.abspath(spec.default)
        return (
            meta.sources == [os.path.abspath(p) for p in spec.policies]
            and meta.default_spec == default
            and meta.manager_spec == spec.manager
            and meta.mode == spec.mode
        )

    def is_live(self, cgid: int, gen: int) -> bool:
        k = loader.open_kernel()
        try:
            t = k.targets.lookup(C.c_uint64(cgid))
            return t is not None and t.gen == gen
        finally:
            k.close()

    def follow(self) -> None:
        """Cgroups removed and created again get their policies back."""
        for meta in attachments.all_attachments():
            try:
                cur = system.cgroup_id(meta.cgroup)
            except OSError:
                if meta.cgroup_id not in self.gone:
                    self.gone.add(meta.cgroup_id)
                    log.warning(
                        "cgroup %s is gone; its policies apply again as soon as it is created again",
                        meta.cgroup,
                    )
                continue
            if cur == meta.cgroup_id:
                self.gone.discard(meta.cgroup_id)
                continue
            old_id = meta.cgroup_id
            try:
                attachments.retarget(meta, cur)
            except BpfsystraceError as e:
                log.error("cannot confine the new %s: %s", meta.cgroup, e.render())
                continue
            self.gone.discard(old_id)
            log.warning(
                "cgroup %s was created again (id %d -> %d): generation %d enforced on it",
                meta.cgroup,
                old_id,
                cur,
                meta.gen,
            )

    def check_kernel_state(self) -> None:
        """Attachments recorded but no longer in the kernel (pins removed): CRIT, re-attach."""
        try:
            with attachments.locked():
                lost = attachments.lost_state()
                reason = attachments.lost_reason() if lost else ""
        except BpfsystraceError as e:
            log.error("cannot read the kernel state: %s", e.render())
            return
        if not lost:
            self.lost_alarm = False
            return
        if not self.lost_alarm:
            self.lost_alarm = True
            log.critical(
                "kernel state lost: %d attachment(s) recorded in %s are NOT ENFORCED "
                "(%s): %s; re-attaching from their policy files",
                len(lost),
                attachments.RUN_DIR,
                reason,
                ", ".join(m.cgroup for m in lost),
            )
            self.alert(
                f"CRIT: enforcement lost on {', '.join(m.cgroup for m in lost)} ({reason}); re-attaching"
            )
        for meta in lost:
            if attachments.load_attachment(meta.cgroup_id) is None or not os.path.isdir(meta.cgroup):
                continue  # detached meanwhile, or the cgroup is gone (_follow says so)
            try:
                new = attachments.reload(meta, allow_drop=True)
            except BpfsystraceError as e:
                msg = e.render()
                if self.relost_err.get(meta.cgroup_id) != msg:
                    self.relost_err[meta.cgroup_id] = msg
                    log.critical("cannot re-attach %s: %s", meta.cgroup, msg)
                continue
            self.relost_err.pop(meta.cgroup_id, None)
            log.critical("re-attached %s (generation %d): enforced again", new.cgroup, new.gen)

    def ensure_logged(self, spec: Spec) -> None:
        try:
            self.ensure(spec)
        except BpfsystraceError as e:
            log.error("[attach %s] %s", spec.name, e.render())

    def reload_all(self, forced: bool) -> None:
        if forced:
            sd_notify("RELOADING=1")
            for spec in self.specs:
                if spec.name in self.pending:
                    self.ensure_logged(spec)
        for meta in attachments.all_attachments():
            if not meta.sources:
                continue
            try:
                fp = attachments.fingerprint(meta.sources, meta.default_spec)
            except (BpfsystraceError, OSError) as e:
                fp = f"unreadable: {e}"
            if not forced and (fp == meta.fingerprint or self.bad_fp.get(meta.cgroup_id) == fp):
                self.settling.pop(meta.cgroup_id, None)
                continue
            if not forced and self.settling.get(meta.cgroup_id) != fp:
                # changed since the last check: reload once the files have stayed the
                # same for one more check, so that a file being written is not read
                # half-way (and reloaded again when the writer finishes)
                self.settling[meta.cgroup_id] = fp
                continue
            self.settling.pop(meta.cgroup_id, None)
            why = "SIGHUP" if forced else "policy files changed"
            try:
                new = attachments.reload(meta)
            except BpfsystraceError as e:
                self.bad_fp[meta.cgroup_id] = fp
                log.error(
                    "reload of %s (%s) refused, the previous policies stay in force: %s",
                    meta.cgroup,
                    why,
                    e.render(),
                )
                continue
            self.bad_fp.pop(meta.cgroup_id, None)
            log.info("reloaded %s (%s): generation %d -> %d", meta.cgroup, why, meta.gen, new.gen)
        if forced:
            sd_notify("READY=1")
