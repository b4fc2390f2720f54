"""What is attached and what its rule hits mean: status, lost state, decisions."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

from ..errors import KernelError
from ..kernel import loader, maps, regions
from ..state import Attachment, all_attachments, load_attachment


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


def lost_state(targets: list[TargetStatus] | None = None) -> list[Attachment]:
    """Attachments recorded in RUN_DIR whose kernel state is gone (not enforced).

    The pins removed (by hand, or by an attacker outside every target), or a
    target's entry deleted from the targets map: either way the record says
    the cgroup is confined and the kernel no longer does it."""
    recorded = [m for m in all_attachments() if m.mode != "learn"]
    if targets is not None:
        live = {t.cgroup_id for t in targets}
    elif not recorded or not loader.is_loaded():
        live = set()
    else:  # only the targets map (the daemon asks every second)
        try:
            k = loader.open_kernel()
        except KernelError:
            live = set()
        else:
            try:
                live = set(maps.gens_by_target(k))
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
    memory: int = 0  # bytes of the kernel's maps this generation takes
    programs: dict[int, list[tuple[int, int]]] | None = None  # policy -> files (dev, ino) it applies to


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
        for cgid, gen in sorted(maps.gens_by_target(k).items()):
            meta = load_attachment(cgid)
            exists = meta is not None and os.path.isdir(meta.cgroup)
            mem = regions.generation_bytes(k, gen)
            progs = maps.programs(k, gen)
            out.append(TargetStatus(meta, cgid, gen, maps.rule_hits(k, gen), exists, mem, progs))
        return out, maps.counters(k)
    finally:
        k.close()
