"""Policy generations in the kernel maps: write one, swap it in, remove one.

A generation is every record of one compiled attachment, keyed by its `gen`.
install() writes the whole new generation first and then points the target
at it with a single update of `targets`; until that update the kernel keeps
deciding with the old generation, after it with the new one. Nothing is
edited in place under load. A failure before the swap removes what was
written, so no half-applied policy is ever in force.

A replaced (or detached) generation is not deleted at the swap: a hook on
another CPU that read the target's gen just before it may still be walking
that generation's tables (regions.py: a freed region is reused), and
deleting them under it would fail closed with a decision neither policy
gives. It is *retired* instead (Retired): its records
and its number stay for GRACE_S seconds, and reap() deletes it afterwards, at
the next install or removal, or from the daemon's tick.
"""

from __future__ import annotations

import ctypes as C
import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Protocol

from .. import abi
from ..errors import KernelError
from ..state.atomic import write_atomic
from . import regions

log = logging.getLogger(__name__)


class Tables(Protocol):
    """compile.tables.Tables: the packed DFAs (u32 arrays, regions.copy_tables)."""

    states: Sequence[int]
    cells: Sequence[int]

    @property
    def nstates(self) -> int: ...

    @property
    def ncells(self) -> int: ...


class Records(Protocol):
    """One generation's map contents, as compile.records.Records holds them
    (the kernel layer takes them as given and imports nothing above it)."""

    default_policy: int
    rules: Sequence
    tables: Tables
    policy_ops: dict[tuple[int, int], list[tuple[int, int]]]  # -> (start, first rule) per part
    rule_base: dict[tuple[int, int], int]  # -> its first rule id

    def rule_record(self, rule_id: int) -> abi.BstRule: ...


# maps keyed by generation (the states and cells arrays are not: a generation
# holds the region its `regions` entry names, free again once that is deleted)
GEN_MAPS = ("exes", "policy_ops", "regions", "rules", "rule_hits")


def gens_by_target(k) -> dict[int, int]:
    """cgroup id -> generation for every attached target."""
    out = {}
    for key in k.targets.keys():
        t = k.targets.lookup(key)
        if t is not None:
            out[key.value] = t.gen
    return out


GRACE_S = 2.0  # how long a replaced generation stays readable (decisions in flight)


def _now() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class Retired:
    """Generations replaced less than GRACE_S ago: kept, and their numbers reserved.

    Shared by every process that writes the maps (attach, reload, detach, the
    daemon) through a small JSON file beside their common lock; callers hold
    that lock. Each entry is gen -> CLOCK_BOOTTIME of its retirement.
    """

    # in this process: (gen, retired at) -> (records, exe_ids) it was written from,
    # so that reap() deletes it key by key instead of scanning every map
    _exact: dict[tuple[int, float], tuple[Records, dict]] = {}

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path) as f:
                self.gens = {int(g): float(t) for g, t in json.load(f).items()}
        except (OSError, ValueError, AttributeError):
            self.gens = {}

    def add(self, gen: int, written: tuple[Records, dict] | None = None) -> None:
        t = self.gens[gen] = _now()
        if written is not None:
            Retired._exact[(gen, t)] = written
        self.save()

    def expired(self, now: float | None = None) -> list[int]:
        now = _now() if now is None else now
        return [g for g, t in self.gens.items() if now - t >= GRACE_S]

    def forget(self, gens, save: bool = True) -> None:
        for g in gens:
            t = self.gens.pop(g, None)
            if t is not None:
                Retired._exact.pop((g, t), None)
        if save:
            self.save()

    def clear(self) -> None:
        self.forget(list(self.gens))

    def save(self) -> None:
        if not self.gens and not os.path.exists(self.path):
            return
        write_atomic(self.path, json.dumps({str(g): t for g, t in self.gens.items()}))


def _keep(k, retired: Retired) -> set[int]:
    """Generations whose records must stay: in force, or retired and not yet reaped."""
    return set(gens_by_target(k).values()) | set(retired.gens)


def reap(k, retired: Retired) -> int:
    """Delete retired generations older than GRACE_S; returns how many."""
    done = retired.expired()
    if not done:
        return 0
    scan = False
    for gen in done:
        written = Retired._exact.get((gen, retired.gens[gen]))
        if written is None:
            scan = True
            continue
        by_map: dict[str, list] = {}
        for name, key, _ in _entries(k, written[0], written[1], gen):
            by_map.setdefault(name, []).append(key)
        try:
            for name, keys in by_map.items():
                getattr(k, name).delete_many(keys)
        except KernelError:
            scan = True  # something else removed part of it: sweep instead
    retired.forget(done)
    if scan:
        prune(k, keep=_keep(k, retired))
    return len(done)


def _free_gen(k, retired: Retired) -> int:
    used = set(gens_by_target(k).values()) | set(retired.gens)
    for gen in range(1, 1 << 20):
        if gen not in used:
            return gen
    raise KernelError("allocate generation", "targets", 28)


_CAPACITY = {
    "regions": abi.BST_MAX_REGIONS,
    "rules": abi.BST_MAX_RULES,
    "rule_hits": abi.BST_MAX_RULES,
    "exes": abi.BST_MAX_EXES,
    "policy_ops": abi.BST_MAX_POLICY_OPS,
}


def _explain_full(e: KernelError) -> KernelError:
    """A full map (E2BIG/ENOSPC on update) as something an administrator can act on."""
    name = e.obj
    if e.errno in (7, 28) and name in _CAPACITY:
        return KernelError(
            "install policy in map",
            name,
            e.errno,
            f"the map holds at most {_CAPACITY[name]} entries for all attached "
            f"policies together: detach other targets or simplify the policies "
            f"('bpfsystrace check --stats' shows their size)",
        )
    return e


def install(
    k,
    recs: Records,
    exe_ids: dict[int, tuple[int, int]],
    cgid: int,
    manager: tuple[int, int] | None,
    retired: Retired,
    previous: tuple[int, Records, dict] | None = None,
    mode_flags: int = 0,
) -> tuple[int, dict[int, int]]:
    """Write a generation for cgroup `cgid` and swap it in.

    Returns its gen and the rule hits of the generation it replaced (read just
    after the swap, so that counters can carry over; decisions still in flight
    on other CPUs during the swap may be missed). The replaced generation is
    retired, not deleted (see the module's doc). `previous` = (gen, records,
    exe_ids) that the generation in force was written from, when the caller
    knows it for certain: it is then deleted key by key instead of by a scan.
    `mode_flags`: BST_TARGET_AUDIT or BST_TARGET_LEARN (0: enforce).
    """
    reap(k, retired)
    gen = _free_gen(k, retired)
    retired.add(gen)  # reserved while written: if this process dies half-way, reap() sweeps it

    def undo():
        retired.forget([gen])
        prune(k, keep=_keep(k, retired))

    if mode_flags & abi.BST_TARGET_LEARN:
        forget_seen(k, gen)  # a generation number used before must report afresh
    try:
        _write(k, recs, exe_ids, gen)
    except KernelError as e:
        undo()
        raise _explain_full(e) from None
    except BaseException:
        undo()
        raise
    flags = (abi.BST_TARGET_MANAGER if manager else 0) | mode_flags
    mdev, mino = manager or (0, 0)
    old = k.targets.lookup(C.c_uint64(cgid))
    # a reload keeps the attachment's id: inherit/detach bindings made under it stay valid
    attach_id = old.attach_id if old is not None else int.from_bytes(os.urandom(8), "little") or 1
    target = abi.BstTarget(gen, recs.default_policy, flags, mdev, mino, attach_id)
    try:
        k.targets.update(C.c_uint64(cgid), target)  # the swap
    except BaseException:
        undo()
        raise
    retired.forget([gen], save=False)  # saved with the old generation's retirement below
    if old is None:
        bump_epoch(k)
        retired.save()
        return gen, {}
    written = (previous[1], previous[2]) if previous is not None and previous[0] == old.gen else None
    old_hits = rule_hits(k, old.gen)  # one batched read of the map, not a lookup per rule
    retired.add(old.gen, written)
    return gen, old_hits


def bump_epoch(k) -> None:
    """After a new target is in `targets`: tasks the kernel remembered as
    outside every target look again (bpf/maps.bpf.h `epoch`, bpf/subject.bpf.h)."""
    zero = C.c_uint32(0)
    cur = k.epoch.lookup(zero)
    k.epoch.update(zero, C.c_uint64((cur.value if cur is not None else 0) + 1))


def _entries(k, recs: Records, exe_ids, gen: int, region: abi.BstRegion | None = None):
    """Every (map name, key, value) of one generation keyed by it (the region's
    entry included; its tables are copied by regions.copy_tables)."""
    r = region or abi.BstRegion()
    yield "regions", abi.BstRegionKey(gen), r
    zero_hits = (C.c_uint64 * k.rule_hits._ncpu)()
    for rid in range(len(recs.rules)):
        key = abi.BstRuleKey(gen, rid)
        yield "rules", key, recs.rule_record(rid)
        yield "rule_hits", key, zero_hits
    for (policy, op), starts in recs.policy_ops.items():
        base = recs.rule_base[(policy, op)]
        for part, (start, first) in enumerate(starts):
            yield (
                "policy_ops",
                abi.BstPolicyOpKey(gen, policy, op, part),
                abi.BstPolicyOp(
                    start, r.state_base, r.nstates, r.cell_base, r.ncells, base, len(starts), first
                ),
            )
    for policy, (dev, ino) in exe_ids.items():
        yield "exes", abi.BstExeKey(gen, dev, ino), C.c_uint32(policy)


def _write(k, recs: Records, exe_ids, gen: int) -> None:
    """The region first (recorded, so no other generation is placed over it),
    its tables copied in, then every keyed record in one batch per map."""
    region = regions.place(k, gen, recs.tables.nstates, recs.tables.ncells)
    regions.copy_tables(k, region, recs.tables)
    by_map: dict[str, list] = {}
    for name, key, value in _entries(k, recs, exe_ids, gen, region):
        if name != "regions":
            by_map.setdefault(name, []).append((key, value))
    for name, items in by_map.items():  # one batch syscall per map (BPF_MAP_UPDATE_BATCH)
        getattr(k, name).update_many(items)


def prune(k, keep: set[int]) -> int:
    """Delete every record of generations not in `keep` (one pass over the maps)."""
    removed = 0
    for name in GEN_MAPS:
        m = getattr(k, name)
        stale = [key for key in m.keys() if key.gen not in keep]
        m.delete_many(stale)
        removed += len(stale)
    return removed


def forget_seen(k, gen: int) -> int:
    """Learn mode's record of what was reported, for one generation: delete it."""
    stale = [key for key in k.seen.keys() if key.gen == gen]
    k.seen.delete_many(stale)
    return len(stale)


def remove_target(k, cgid: int, retired: Retired) -> bool:
    """Stop deciding for `cgid`; its generation is retired (reaped after GRACE_S)."""
    old = k.targets.lookup(C.c_uint64(cgid))
    if old is None:
        return False
    k.targets.delete(C.c_uint64(cgid))
    if old.gen not in gens_by_target(k).values():
        retired.add(old.gen)
    reap(k, retired)
    return True


def rule_hits(k, gen: int) -> dict[int, int]:
    """rule id -> hits summed over CPUs, for one generation."""
    return {key.rule: sum(val) for key, val in k.rule_hits.items() if key.gen == gen}


def counters(k) -> list[int]:
    out = []
    for i in range(abi.BST_NR_COUNTERS):
        val = k.counters.lookup(C.c_uint32(i))
        out.append(sum(v for v in val) if val is not None else 0)
    return out
