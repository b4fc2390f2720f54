"""Policy generations in the kernel maps: write one, swap it in, remove one.

A generation is every record of one compiled attachment, keyed by its `gen`.
install() writes the whole new generation first and then points the target
at it with a single update of `targets`; until that update the kernel keeps
deciding with the old generation, after it with the new one. Nothing is
edited in place under load. A failure before the swap removes what was
written, so no half-applied policy is ever in force.

A replaced (or detached) generation is deleted right after the swap, once no
program can still be reading it: a hook on another CPU that read the target's
gen just before the swap may still be walking that generation's tables
(regions.py: a freed region is reused), and deleting them under it would fail
closed with a decision neither policy gives. grace() waits for that: it
updates the `grace` map of maps, and the kernel returns from such an update
only after an RCU grace period (maybe_wait_bpf_programs: synchronize_rcu),
which every program in flight has left (they are all non-sleepable and run
under rcu_read_lock). No timer, no file: writers hold the common lock, and a
writer that died half-way leaves a generation no target names, which the
next install sweeps (sweep()).
"""

from __future__ import annotations

import ctypes as C
import logging
import os
from collections.abc import Sequence
from typing import Protocol

from .. import abi
from ..errors import KernelError
from . import libbpf, regions

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
GEN_MAPS = ("exes", "exe_paths", "policy_ops", "regions", "rules", "rule_hits")


def gens_by_target(k) -> dict[int, int]:
    """cgroup id -> generation for every attached target."""
    out = {}
    for key in k.targets.keys():
        t = k.targets.lookup(key)
        if t is not None:
            out[key.value] = t.gen
    return out


def grace(k) -> None:
    """Return once every program that could have read the maps before now has
    finished: an update of the `grace` map of maps, which the kernel completes
    after synchronize_rcu() (the new inner map is a fresh one-entry array)."""
    fd = libbpf.create_array_map(4, 4, 1)
    try:
        k.grace.update(C.c_uint32(0), C.c_uint32(fd))
    finally:
        os.close(fd)


def stored_gens(k) -> set[int]:
    """Generations with records in the maps (each has its `regions` entry)."""
    return {key.gen for key in k.regions.keys()}


def sweep(k) -> int:
    """Delete generations that no target names: what a writer that died
    half-way left (callers hold the common lock, so no one is writing)."""
    if stored_gens(k) <= set(gens_by_target(k).values()):
        return 0
    grace(k)
    return prune(k, keep=set(gens_by_target(k).values()))


def delete_gen(k, gen: int, written: tuple[Records, dict, dict] | None = None) -> None:
    """Delete one generation no target names any more; call grace() first.
    Key by key when `written` (records, exe_ids, exe_paths) says what it
    holds, else by a scan of the maps."""
    if gen in gens_by_target(k).values():
        return
    if written is None:
        prune(k, keep=set(gens_by_target(k).values()))
        return
    by_map: dict[str, list] = {}
    for name, key, _ in _entries(k, written[0], written[1], gen, exe_paths=written[2]):
        by_map.setdefault(name, []).append(key)
    # and the programs the kernel found by path (bpf/open.bpf.h binary_policy)
    by_map["exes"] = [key for key in k.exes.keys() if key.gen == gen]
    try:
        for name, keys in by_map.items():
            getattr(k, name).delete_many(keys)
    except KernelError:
        prune(k, keep=set(gens_by_target(k).values()))  # something else removed part of it


def _free_gen(k) -> int:
    used = set(gens_by_target(k).values()) | stored_gens(k)
    for gen in range(1, 1 << 20):
        if gen not in used:
            return gen
    raise KernelError("allocate generation", "targets", 28)


_CAPACITY = {
    "regions": abi.BST_MAX_REGIONS,
    "rules": abi.BST_MAX_RULES,
    "rule_hits": abi.BST_MAX_RULES,
    "exes": abi.BST_MAX_EXES,
    "exe_paths": abi.BST_MAX_EXES,
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
    exe_paths: dict[str, int],
    cgid: int,
    manager: tuple[int, int] | None,
    previous: tuple[int, Records, dict, dict] | None = None,
    mode_flags: int = 0,
) -> tuple[int, dict[int, int]]:
    """Write a generation for cgroup `cgid` and swap it in (callers hold the
    common lock).

    Returns its gen and the rule hits of the generation it replaced, read once
    no program can still count one there (grace()); that generation is then
    deleted. `exe_paths`: policy program path -> policy (bpf/bpfsystrace.h
    exe_paths). `previous` = (gen, records, exe_ids, exe_paths) that the
    generation in force was written from, when the caller knows it for
    certain: it is then deleted key by key instead of by a scan. `mode_flags`:
    BST_TARGET_AUDIT or BST_TARGET_LEARN (0: enforce).
    """
    sweep(k)
    gen = _free_gen(k)

    def undo():
        prune(k, keep=set(gens_by_target(k).values()))  # never in force: nothing reads it

    if mode_flags & abi.BST_TARGET_LEARN:
        forget_seen(k, gen)  # a generation number used before must report afresh
    try:
        _write(k, recs, exe_ids, gen, exe_paths)
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
    if old is None:
        bump_epoch(k)
        return gen, {}
    grace(k)  # no program still reads (or counts a hit in) the old generation
    old_hits = rule_hits(k, old.gen)  # one batched read of the map, not a lookup per rule
    delete_gen(k, old.gen, previous[1:] if previous is not None and previous[0] == old.gen else None)
    return gen, old_hits


def bump_epoch(k) -> None:
    """After a new target is in `targets`: tasks the kernel remembered as
    outside every target look again (bpf/maps.bpf.h `epoch`, bpf/subject.bpf.h)."""
    zero = C.c_uint32(0)
    cur = k.epoch.lookup(zero)
    k.epoch.update(zero, C.c_uint64((cur.value if cur is not None else 0) + 1))


def _entries(k, recs: Records, exe_ids, gen: int, region: abi.BstRegion | None = None, exe_paths=None):
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
    for path, policy in (exe_paths or {}).items():
        yield "exe_paths", exe_path_key(gen, path), C.c_uint32(policy)


def exe_path_key(gen: int, path: str) -> abi.BstExePathKey:
    """exe_paths' key: the path as bpf_d_path renders it, zero-padded."""
    raw = path.encode()
    if len(raw) >= abi.BST_EXE_PATH_MAX:
        raise ValueError(f"{path}: longer than {abi.BST_EXE_PATH_MAX - 1} bytes")
    return abi.BstExePathKey(gen, 0, raw)


def _write(k, recs: Records, exe_ids, gen: int, exe_paths: dict[str, int]) -> None:
    """The region first (recorded, so no other generation is placed over it),
    its tables copied in, then every keyed record in one batch per map."""
    region = regions.place(k, gen, recs.tables.nstates, recs.tables.ncells)
    regions.copy_tables(k, region, recs.tables)
    by_map: dict[str, list] = {}
    for name, key, value in _entries(k, recs, exe_ids, gen, region, exe_paths):
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


def remove_target(k, cgid: int) -> bool:
    """Stop deciding for `cgid`; its generation is deleted once no program reads it."""
    old = k.targets.lookup(C.c_uint64(cgid))
    if old is None:
        return False
    k.targets.delete(C.c_uint64(cgid))
    grace(k)
    delete_gen(k, old.gen)
    return True


def rule_hits(k, gen: int) -> dict[int, int]:
    """rule id -> hits summed over CPUs, for one generation."""
    return {key.rule: sum(val) for key, val in k.rule_hits.items() if key.gen == gen}


def programs(k, gen: int) -> dict[int, list[tuple[int, int]]]:
    """policy -> the (dev, ino) of every file exes gives it in one generation:
    those resolved at attach and those the kernel found by path since."""
    out: dict[int, list[tuple[int, int]]] = {}
    for key, val in k.exes.items():
        if key.gen == gen:
            out.setdefault(val.value, []).append((key.dev, key.ino))
    return out


def counters(k) -> list[int]:
    out = []
    for i in range(abi.BST_NR_COUNTERS):
        val = k.counters.lookup(C.c_uint32(i))
        out.append(sum(v for v in val) if val is not None else 0)
    return out
