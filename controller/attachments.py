"""Attach, detach and list: the kernel state plus what it means.

The kernel keeps the decisions (pinned maps and links); Python keeps, beside
it in /run/bpfsystrace, what each attachment means to a person: which files
the policies came from and what every rule id is. Both live until reboot or
detach, so any later command (status, the daemon) can explain an event.
"""
from __future__ import annotations

import contextlib
import ctypes as C
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field

from . import abi, pipeline
from .compile.records import Records
from .errors import EXIT_POLICY, BpfsystraceError, KernelError, TargetError, UsageError
from .kernel import loader, maps, system
from .model import syscalls

log = logging.getLogger(__name__)

RUN_DIR = os.environ.get("BPFSYSTRACE_RUN_DIR", "/run/bpfsystrace")
GENS_KEPT = 32       # generations whose meaning is kept for events still waiting


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
    # what reload needs: the arguments attach was given, and a digest of the files they named
    sources: list[str] = field(default_factory=list)
    default_spec: str = "deny"
    manager_spec: str = "auto"
    fingerprint: str = ""
    nonce: str = ""          # unique per install: proves which process wrote the generation
    reloads: int = 0
    reload_failures: int = 0
    last_error: str = ""
    # decisions counted by generations that reloads replaced: "policy\top\taction" -> count
    carried: dict = field(default_factory=dict)
    # enforce: deny what the policy denies; audit: count and report it, permit it;
    # learn: permit everything, report each new (executable, operation, object) once
    mode: str = "enforce"
    # the text of every policy file compiled into this generation, [[path, text], ...]
    # (the --default FILE last): what 'reload --dry-run' compares the files on disk with
    texts: list = field(default_factory=list)

    @property
    def path(self) -> str:
        return os.path.join(RUN_DIR, f"{self.cgroup_id}.json")

    def save(self) -> None:
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(self.__dict__, separators=(",", ":")))   # dumps: the C encoder
        os.replace(tmp, self.path)

    def save_generation(self) -> None:
        """Also keep this generation's meaning under gens/GEN.json: events it decided
        may still wait in the kernel's buffer after a reload replaced it."""
        d = os.path.join(RUN_DIR, "gens")
        os.makedirs(d, mode=0o755, exist_ok=True)
        tmp = os.path.join(d, f".{self.gen}.tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps(self.__dict__, separators=(",", ":")))
        os.replace(tmp, os.path.join(d, f"{self.gen}.json"))
        names = sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
        for n in names[:-GENS_KEPT]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(d, n))

    def policy_name(self, idx: int) -> str:
        if 0 <= idx < len(self.policies):
            return self.policies[idx]["binary"]
        return f"default ({self.default})"


class DropRefused(BpfsystraceError):
    """A reload would drop a policy that is in force; the old generation stays."""
    exit_code = EXIT_POLICY

    def __init__(self, old: Attachment, dropped: list[str]):
        self.dropped = dropped
        names = ", ".join(dropped)
        super().__init__(
            f"reload would drop the polic{'y' if len(dropped) == 1 else 'ies'} for {names} "
            f"(in force in generation {old.gen}): the policy files no longer hold "
            f"{'it' if len(dropped) == 1 else 'them'}, and those programs would fall to the "
            f"default ({old.default})\nhint: restore the file, or run 'bpfsystrace reload "
            f"--allow-drop --cgroup {old.cgroup}' if dropping is what you want")


def all_attachments() -> list[Attachment]:
    """Every attachment recorded in RUN_DIR (live or not)."""
    out = []
    try:
        names = os.listdir(RUN_DIR)
    except FileNotFoundError:
        return out
    for n in sorted(names):
        if n.endswith(".json") and n[:-5].isdigit():
            meta = load_attachment(int(n[:-5]))
            if meta:
                out.append(meta)
    return out


def retired() -> maps.Retired:
    """Replaced generations still in their grace period (call with locked() held)."""
    return maps.Retired(os.path.join(RUN_DIR, "retired.json"))


def reap(k=None) -> int:
    """Delete replaced generations whose grace period is over (the daemon's tick)."""
    try:
        if os.path.getsize(os.path.join(RUN_DIR, "retired.json")) <= 2:
            return 0
    except OSError:
        return 0
    with locked():
        if not loader.is_loaded():
            return 0
        own = k is None
        k = loader.open_kernel() if own else k
        try:
            return maps.reap(k, retired())
        finally:
            if own:
                k.close()


@contextlib.contextmanager
def locked():
    """One writer of the kernel maps and RUN_DIR at a time (attach, reload, detach, daemon).

    The lock is RUN_DIR itself (flock of the directory), so no lock file is left
    behind; an empty RUN_DIR is removed on release (a failed first attach leaves
    nothing). A directory removed while we waited for it is opened again."""
    while True:
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        fd = os.open(RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_ino == os.stat(RUN_DIR).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        try:
            if not os.listdir(RUN_DIR):
                os.rmdir(RUN_DIR)
        except OSError:
            pass
        os.close(fd)


def fingerprint(sources: list[str], default: str) -> str:
    """Digest of every policy file the sources name (directories are listed anew)."""
    h = hashlib.sha256()
    paths = list(sources) + ([default] if default not in ("deny", "permit") else [])
    for path in pipeline.policy_files(paths):
        h.update(os.path.abspath(path).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()


def generation(gen: int) -> Attachment | None:
    """What generation `gen` meant when it was installed (also a replaced one)."""
    try:
        with open(os.path.join(RUN_DIR, "gens", f"{gen}.json")) as f:
            meta = Attachment(**json.load(f))
        return meta if meta.gen == gen else None
    except (OSError, ValueError, TypeError):
        return None


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
                    "generated": bool(r and (r.approx or "").startswith("generated")),
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


_written: dict = {}    # cgroup id -> (nonce, records, exe_ids) of what this process installed
_compiled: dict = {}   # (fingerprint, ...) -> (policies, records): the same text again
_COMPILED_KEEP = 4     # a daemon swapping between a few policy versions compiles each once


def _compile(policy_paths, default, fp):
    key = (fp, default, tuple(policy_paths))
    if key not in _compiled:
        policies, warnings = pipeline.load_policies(policy_paths)
        for w in warnings:
            log.warning("%s", w.render().splitlines()[0])
        recs = pipeline.compile_all(policies, pipeline.load_default(default))
        while len(_compiled) >= _COMPILED_KEEP:
            del _compiled[next(iter(_compiled))]
        _compiled[key] = (policies, recs)
    return _compiled[key]


MODES = ("enforce", "audit", "learn")
_MODE_FLAGS = {"enforce": 0, "audit": abi.BST_TARGET_AUDIT, "learn": abi.BST_TARGET_LEARN}


def attach(cgroup: str, policy_paths: list[str], default: str = "deny",
           manager: str = "auto", progress=lambda msg: None, mode: str = "enforce",
           allow_drop: bool = True) -> Attachment:
    """Parse, check, compile, load and swap in. Returns only when enforcing.

    On a cgroup that is already attached this is a reload: the new generation
    replaces the old one with one map update, or, if anything fails before
    that, the old one stays in force untouched. With allow_drop=False a new
    generation that lacks a policy of the one in force is refused (DropRefused).
    """
    if mode not in MODES:
        raise UsageError(f"--mode {mode}: not one of {', '.join(MODES)}")
    sources = [os.path.abspath(p) for p in policy_paths]
    pipeline.check_default(default)
    default_spec = default if default in ("deny", "permit") else os.path.abspath(default)
    progress("checking policies")
    fp = fingerprint(sources, default_spec)
    texts = pipeline.snapshot(sources, default_spec)
    progress("compiling")
    policies, recs = _compile(sources, default_spec, fp)
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
    with locked():
        k = loader.open_kernel(load=True)
        try:
            _check_nesting(k, cgpath, cgid)
            old = load_attachment(cgid) if cgid in maps.live_gens(k) else None
            if old is not None and not allow_drop:
                _refuse_drop(old, policies)
            meta = Attachment(cgpath, cgid, 0, default_spec, pol_meta, _rule_table(recs),
                              mgr_path, time.time(), sources, default_spec, manager, fp,
                              mode=mode, texts=texts)
            if old is not None:
                meta.attached_at = old.attached_at
                meta.reloads, meta.reload_failures = old.reloads + 1, old.reload_failures
                meta.carried = dict(old.carried)
            progress("installing policy generation")
            mine = _written.get(cgid)
            previous = (old.gen, mine[1], mine[2]) if (old and mine and old.nonce
                                                        and mine[0] == old.nonce) else None
            gen, old_hits = maps.install(k, recs, exe_ids, cgid, mgr_id, retired(), previous,
                                         _MODE_FLAGS[mode])
            meta.gen, meta.nonce = gen, uuid.uuid4().hex
            _written[cgid] = (meta.nonce, recs, exe_ids)
            if old is not None:
                for (pol, op, action), n in decisions(old, old_hits).items():
                    key = f"{pol}\t{op}\t{action}"
                    meta.carried[key] = meta.carried.get(key, 0) + n
            meta.save()
            meta.save_generation()
        finally:
            k.close()
    return meta


def _refuse_drop(old: Attachment, policies) -> None:
    kept = {p.binary for p in policies}
    dropped = [p["binary"] for p in old.policies if p["binary"] not in kept]
    if dropped:
        raise DropRefused(old, dropped)


def reload(meta: Attachment, allow_drop: bool = False) -> Attachment:
    """Attach `meta`'s sources again; on failure count it in the metadata and re-raise.

    A reload that would drop a policy in force (a file removed or truncated) is
    refused unless allow_drop: an editor's save must not unconfine a program."""
    if not meta.sources:
        raise TargetError(f"{meta.cgroup} was attached by an older bpfsystrace that did not "
                          f"record its policy paths; attach it again once")
    try:
        return attach(meta.cgroup, meta.sources, meta.default_spec, meta.manager_spec,
                      mode=meta.mode, allow_drop=allow_drop)
    except Exception as e:
        with locked():
            cur = load_attachment(meta.cgroup_id) or meta
            cur.reload_failures += 1
            cur.last_error = str(getattr(e, "render", lambda: e)()).splitlines()[0][:500]
            cur.save()
        raise


def retarget(meta: Attachment, new_id: int) -> Attachment:
    """The cgroup was removed and created again (a new id): enforce the same generation on it."""
    with locked():
        k = loader.open_kernel()
        try:
            target = k.targets.lookup(C.c_uint64(meta.cgroup_id))
            if target is None:
                raise TargetError(f"{meta.cgroup} is no longer attached")
            k.targets.update(C.c_uint64(new_id), target)       # enforce on the new one first
            k.targets.delete(C.c_uint64(meta.cgroup_id))
        finally:
            k.close()
        old_path = meta.path
        meta.cgroup_id = new_id
        meta.save()
        if old_path != meta.path:
            os.unlink(old_path)
    return meta


def decisions(meta: Attachment, hits: dict[int, int]) -> dict[tuple[str, str, str], int]:
    """Rule hits of one generation summed by (policy, operation, action).

    action is what happened: permit, deny, or in audit mode audit_deny (the
    rule denies; the kernel permitted and reported it). In learn mode every
    decision is permitted."""
    out: dict[tuple[str, str, str], int] = {}
    for rid, n in hits.items():
        if rid < len(meta.rules) and n:
            r = meta.rules[rid]
            key = (meta.policy_name(r["policy"]), r["op"], rule_action(meta, r))
            out[key] = out.get(key, 0) + n
    return out


def rule_action(meta: Attachment, rule: dict) -> str:
    """What a hit of `rule` did under meta's mode: permit, deny or audit_deny."""
    if not rule["errno"] or meta.mode == "learn":
        return "permit"
    return "audit_deny" if meta.mode == "audit" else "deny"


def detach(cgroup: str | None = None, everything: bool = False) -> list[str]:
    """Remove one attachment (or all); unload the programs when none is left."""
    with locked():
        return _detach(cgroup, everything)


def _detach(cgroup, everything):
    if not loader.is_loaded():
        if everything:
            loader.unload()
            _forget_kernel_files()
            return []
        raise TargetError(f"{system.resolve_cgroup(cgroup)} is not attached (nothing is attached)")
    k = loader.open_kernel()
    removed = []
    try:
        if everything:
            ids = list(maps.live_gens(k))
        else:
            ids = [_attached_id(k, system.resolve_cgroup(cgroup))]
        ret = retired()
        for cgid in ids:
            meta = load_attachment(cgid)
            maps.remove_target(k, cgid, ret)
            removed.append(meta.cgroup if meta else f"cgroup id {cgid}")
            try:
                os.unlink(os.path.join(RUN_DIR, f"{cgid}.json"))
            except FileNotFoundError:
                pass
        left = maps.live_gens(k)
    finally:
        k.close()
    if not left:
        loader.unload()          # the maps go with the programs, retired generations too
        _forget_kernel_files()
    return removed


def _forget_kernel_files() -> None:
    """What RUN_DIR kept about the unloaded programs (their retired generations, events)."""
    for name in ("retired.json", "lost-reported"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(RUN_DIR, name))
    shutil.rmtree(os.path.join(RUN_DIR, "gens"), ignore_errors=True)


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


def lost_state(targets: list["TargetStatus"] | None = None) -> list[Attachment]:
    """Attachments recorded in RUN_DIR whose kernel state is gone (not enforced).

    The pins removed (by hand, or by an attacker outside every target), or a
    target's entry deleted from the targets map: either way the record says
    the cgroup is confined and the kernel no longer does it."""
    recorded = [m for m in all_attachments() if m.mode != "learn"]
    if targets is not None:
        live = {t.cgroup_id for t in targets}
    elif not recorded or not loader.is_loaded():
        live = set()
    else:                      # only the targets map (the daemon asks every second)
        try:
            k = loader.open_kernel()
        except KernelError:
            live = set()
        else:
            try:
                live = set(maps.live_gens(k))
            finally:
                k.close()
    return [m for m in recorded if m.cgroup_id not in live]


def lost_reason() -> str:
    if not loader.is_loaded():
        return f"the pinned programs under {loader.PIN_ROOT} are gone"
    return "its entry in the kernel's targets map is gone"


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
