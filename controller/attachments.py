"""Attach, detach and list: the kernel state plus what it means.

The kernel keeps the decisions (pinned maps and links); Python keeps, beside
it in /run/bpfsystrace, what each attachment means to a person: which files
the policies came from and what every rule id is. Both live until reboot or
detach, so any later command (status, the daemon) can explain an event.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import time
from dataclasses import dataclass

from . import pipeline
from .compile.records import Records
from .errors import KernelError, TargetError, UsageError
from .kernel import loader, maps, system
from .model import syscalls

log = logging.getLogger(__name__)

RUN_DIR = os.environ.get("BPFSYSTRACE_RUN_DIR", "/run/bpfsystrace")


@dataclass
class Attachment:
    cgroup: str
    cgroup_id: int
    gen: int
    default: str
    policies: list[dict]     # {binary, file, line, identity}
    rules: list[dict]        # per rule id: {policy, op, action, errno, implicit, where, text}
    manager: str | None
    attached_at: float

    @property
    def path(self) -> str:
        return os.path.join(RUN_DIR, f"{self.cgroup_id}.json")

    def save(self) -> None:
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.__dict__, f, indent=1)
        os.replace(tmp, self.path)

    def policy_name(self, idx: int) -> str:
        if 0 <= idx < len(self.policies):
            return self.policies[idx]["binary"]
        return f"default ({self.default})"


def load_attachment(cgid: int) -> Attachment | None:
    try:
        with open(os.path.join(RUN_DIR, f"{cgid}.json")) as f:
            return Attachment(**json.load(f))
    except (OSError, ValueError, TypeError):
        return None


def _rule_table(recs: Records) -> list[dict]:
    out = []
    for info in recs.rules:
        r = info.rule
        out.append({"policy": info.policy, "op": syscalls.BY_OP[info.op].name,
                    "action": info.action, "errno": info.errno, "implicit": info.implicit,
                    "where": str(r.coord) if r else "", "text": r.source.strip() if r else
                    info.describe()})
    return out


def _manager_identity(spec: str):
    if spec == "none":
        return None, None
    if spec == "auto":
        try:
            exe = os.path.realpath("/proc/1/exe")
        except OSError:
            return None, None
        if "systemd" not in os.path.basename(exe):
            return None, None
        spec = exe
    if not os.path.exists(spec):
        raise UsageError(f"--manager {spec}: no such file")
    return system.file_identity(spec), os.path.realpath(spec)


def _check_nesting(k, cgpath: str, cgid: int) -> None:
    for other_id in maps.live_gens(k):
        if other_id == cgid:
            continue
        meta = load_attachment(other_id)
        other = meta.cgroup if meta else f"cgroup id {other_id}"
        if meta and (cgpath.startswith(meta.cgroup.rstrip("/") + "/")
                     or meta.cgroup.startswith(cgpath.rstrip("/") + "/")):
            raise TargetError(f"{cgpath} is nested with the already attached {other}; "
                              f"attachments cannot nest (detach {other} first)")


def attach(cgroup: str, policy_paths: list[str], default: str = "deny",
           manager: str = "auto", progress=lambda msg: None) -> Attachment:
    """Parse, check, compile, load and swap in. Returns only when enforcing."""
    progress("checking policies")
    policies, warnings = pipeline.load_policies(policy_paths)
    for w in warnings:
        log.warning("%s", w.render().splitlines()[0])
    default_policy = pipeline.load_default(default)
    progress("compiling")
    recs = pipeline.compile_all(policies, default_policy)
    cgpath = system.resolve_cgroup(cgroup)
    cgid = system.cgroup_id(cgpath)
    exe_ids, pol_meta = {}, []
    for idx, pol in enumerate(policies):
        ident = None
        try:
            ident = system.file_identity(pol.binary)
            exe_ids[idx] = ident
        except OSError:
            log.warning("%s: %s does not exist; this policy applies to nothing until it does "
                        "and you attach again", pol.coord, pol.binary)
        pol_meta.append({"binary": pol.binary, "file": pol.coord.file, "line": pol.coord.line,
                         "identity": list(ident) if ident else None})
    if len(set(exe_ids.values())) != len(exe_ids):
        raise UsageError("two policies name the same executable (hard links or symlinks "
                         "to one file); keep one")
    mgr_id, mgr_path = _manager_identity(manager)
    progress("loading BPF programs")
    k = loader.open_kernel(load=True)
    try:
        _check_nesting(k, cgpath, cgid)
        progress("installing policy generation")
        meta = Attachment(cgpath, cgid, 0, default if isinstance(default, str) else str(default),
                          pol_meta, _rule_table(recs), mgr_path, time.time())
        gen = maps.install(k, recs, exe_ids, cgid, mgr_id)
        meta.gen = gen
        meta.save()
    finally:
        k.close()
    return meta


def detach(cgroup: str | None = None, everything: bool = False) -> list[str]:
    """Remove one attachment (or all); unload the programs when none is left."""
    if not loader.is_loaded():
        if everything:
            loader.unload()
            return []
        raise TargetError("nothing is attached")
    k = loader.open_kernel()
    removed = []
    try:
        if everything:
            ids = list(maps.live_gens(k))
        else:
            ids = [_attached_id(k, system.resolve_cgroup(cgroup))]
        for cgid in ids:
            meta = load_attachment(cgid)
            maps.remove_target(k, cgid)
            removed.append(meta.cgroup if meta else f"cgroup id {cgid}")
            try:
                os.unlink(os.path.join(RUN_DIR, f"{cgid}.json"))
            except FileNotFoundError:
                pass
        left = maps.live_gens(k)
    finally:
        k.close()
    if not left:
        loader.unload()
    return removed


def _attached_id(k, cgpath: str) -> int:
    """The cgroup id under which `cgpath` is attached (its directory may be gone)."""
    live = maps.live_gens(k)
    if os.path.isdir(cgpath) and system.cgroup_id(cgpath) in live:
        return system.cgroup_id(cgpath)
    for cgid in live:
        meta = load_attachment(cgid)
        if meta and meta.cgroup == cgpath:
            return cgid
    raise TargetError(f"{cgpath} is not attached", )


@dataclass
class TargetStatus:
    meta: Attachment | None
    cgroup_id: int
    gen: int
    hits: dict[int, int]
    exists: bool


def status() -> tuple[list[TargetStatus], list[int]]:
    """Every attached target with its rule hit counts, and the kernel counters."""
    if not loader.is_loaded():
        return [], []
    try:
        k = loader.open_kernel()
    except KernelError as e:
        if e.errno == errno.ENOENT:
            return [], []
        raise
    try:
        out = []
        for cgid, gen in sorted(maps.live_gens(k).items()):
            meta = load_attachment(cgid)
            exists = bool(meta) and os.path.isdir(meta.cgroup)
            out.append(TargetStatus(meta, cgid, gen, maps.rule_hits(k, gen), exists))
        return out, maps.counters(k)
    finally:
        k.close()
