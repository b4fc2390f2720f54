"""Attach (and reload, retarget): parse, check, compile, load and swap in under the lock.

On a cgroup that is already attached, attach is a reload: the new generation
replaces the old one with one map update, or the old one stays in force.
"""

from __future__ import annotations

import ctypes as C
import logging
import os
import time
import uuid

from .. import abi
from ..compile import pipeline
from ..compile.records import Records
from ..errors import EXIT_POLICY, BpfsystraceError, TargetError, UsageError
from ..kernel import loader, maps, system
from ..model import syscalls
from ..state import Attachment, encode, load_attachment, locked
from .compiled import compile_cached, fingerprint
from .nesting import check_nesting
from .query import decisions

log = logging.getLogger(__name__)


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
            f"--allow-drop --cgroup {old.cgroup}' if dropping is what you want"
        )


def _rule_table(recs: Records) -> list[dict]:
    out = []
    for info in recs.rules:
        r = info.rule
        out.append(
            {
                "policy": info.policy,
                "op": syscalls.BY_OP[info.op].name,
                "action": info.action,
                "errno": info.errno,
                "implicit": info.implicit,
                "generated": bool(r and (r.approx or "").startswith("generated")),
                "where": str(r.coord) if r else "",
                "text": r.source.strip() if r else info.describe(),
            }
        )
    return out


def program_paths(policies) -> dict[str, int]:
    """path -> policy index for exe_paths: each policy's program path as
    written and as it resolves now (the kernel sees the resolved path of the
    file an execve opens), so that a file renamed over it (a package upgrade)
    is found by path (docs/enforcement.md)."""
    out: dict[str, int] = {}
    for idx, pol in enumerate(policies):
        for path in dict.fromkeys((os.path.normpath(pol.binary), os.path.realpath(pol.binary))):
            if len(path.encode()) >= abi.BST_EXE_PATH_MAX:
                log.warning(
                    "%s: %s is longer than %d bytes: this policy follows the file, not the path "
                    "(an upgrade of it needs 'bpfsystrace reload')",
                    pol.coord,
                    path,
                    abi.BST_EXE_PATH_MAX - 1,
                )
                continue
            if out.setdefault(path, idx) != idx:
                raise UsageError(f"two policies name the program {path}; keep one")
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


_written: dict = {}  # cgroup id -> (nonce, records, exe_ids, exe_paths) of what this process installed

MODES = ("enforce", "audit", "learn")
_MODE_FLAGS = {"enforce": 0, "audit": abi.BST_TARGET_AUDIT, "learn": abi.BST_TARGET_LEARN}


def attach(
    cgroup: str,
    policy_paths: list[str],
    default: str = "deny",
    manager: str = "auto",
    progress=lambda msg: None,
    mode: str = "enforce",
    allow_drop: bool = True,
) -> Attachment:
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
    policies, recs = compile_cached(sources, default_spec, fp)
    cgpath = system.resolve_cgroup(cgroup)
    cgid = system.cgroup_id(cgpath)
    exe_ids, pol_meta = {}, []
    exe_paths = program_paths(policies)
    for idx, pol in enumerate(policies):
        ident = None
        try:
            ident = system.file_identity(pol.binary)
            exe_ids[idx] = ident
        except OSError:
            log.warning(
                "%s: %s does not exist yet; this policy applies to it once it is installed there",
                pol.coord,
                pol.binary,
            )
        pol_meta.append(
            {
                "binary": pol.binary,
                "file": pol.coord.file,
                "line": pol.coord.line,
                "identity": list(ident) if ident else None,
            }
        )
    if len(set(exe_ids.values())) != len(exe_ids):
        raise UsageError(
            "two policies name the same executable (hard links or symlinks to one file); keep one"
        )
    mgr_id, mgr_path = _manager_identity(manager)
    progress("loading BPF programs")
    with locked():
        k = loader.open_kernel(load=True)
        try:
            check_nesting(k, cgpath, cgid)
            old = load_attachment(cgid) if cgid in maps.gens_by_target(k) else None
            if old is not None and not allow_drop:
                _refuse_drop(old, policies)
            meta = Attachment(
                cgpath,
                cgid,
                0,
                default_spec,
                pol_meta,
                _rule_table(recs),
                mgr_path,
                time.time(),
                sources,
                default_spec,
                manager,
                fp,
                mode=mode,
                texts=texts,
            )
            if old is not None:
                meta.attached_at = old.attached_at
                meta.reloads, meta.reload_failures = old.reloads + 1, old.reload_failures
                meta.carried = dict(old.carried)
            progress("installing policy generation")
            mine = _written.get(cgid)
            previous = (old.gen, *mine[1:]) if (old and mine and old.nonce and mine[0] == old.nonce) else None
            gen, old_hits = maps.install(
                k, recs, exe_ids, exe_paths, cgid, mgr_id, previous, _MODE_FLAGS[mode]
            )
            meta.gen, meta.nonce = gen, uuid.uuid4().hex
            _written[cgid] = (meta.nonce, recs, exe_ids, exe_paths)
            if old is not None:
                for (pol, op, action), n in decisions(old, old_hits).items():
                    key = f"{pol}\t{op}\t{action}"
                    meta.carried[key] = meta.carried.get(key, 0) + n
            data = encode(meta)  # thousands of rules: encode once for both files
            meta.save(data)
            meta.save_generation(data)
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
        raise TargetError(
            f"{meta.cgroup} was attached by an older bpfsystrace that did not "
            f"record its policy paths; attach it again once"
        )
    try:
        return attach(
            meta.cgroup,
            meta.sources,
            meta.default_spec,
            meta.manager_spec,
            mode=meta.mode,
            allow_drop=allow_drop,
        )
    except Exception as e:
        with locked():
            cur = load_attachment(meta.cgroup_id) or meta
            cur.reload_failures += 1
            cur.last_error = (e.render() if hasattr(e, "render") else str(e)).splitlines()[0][:500]
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
            k.targets.update(C.c_uint64(new_id), target)  # enforce on the new one first
            k.targets.delete(C.c_uint64(meta.cgroup_id))
        finally:
            k.close()
        old_path = meta.path
        meta.cgroup_id = new_id
        meta.save()
        if old_path != meta.path:
            os.unlink(old_path)
    return meta
