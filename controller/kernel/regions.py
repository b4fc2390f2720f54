"""Where a generation's DFA tables live in the `states` and `cells` arrays.

Each generation holds one region of each array (bpf/bpfsystrace.h): the
`regions` map records it (gen -> bst_region), and a generation's region is
free again once that entry is deleted with the rest of the generation
(maps.delete_gen, maps.prune). place() finds the first gap that fits among the
regions in use; copy_tables() writes the tables into it through the maps'
mmap, one copy per array. The kernel never reads a region before the
target's swap names its generation, nor after maps.grace() has let every reader of a
replaced generation finish and it is deleted.
"""

from __future__ import annotations

from .. import abi
from ..errors import KernelError

ENOSPC = 28


def regions_in_use(k) -> dict[int, abi.BstRegion]:
    """gen -> its region, for every generation that holds one."""
    out = {}
    for key in k.regions.keys():
        r = k.regions.lookup(key)
        if r is not None:
            out[key.gen] = r
    return out


def _first_fit(used: list[tuple[int, int]], size: int, capacity: int) -> int | None:
    """Lowest start of `size` free slots among the (start, length) in use."""
    at = 0
    for start, length in sorted(used):
        if start - at >= size:
            return at
        at = max(at, start + length)
    return at if capacity - at >= size else None


def place(k, gen: int, nstates: int, ncells: int) -> abi.BstRegion:
    """A free region for a generation's tables, recorded in `regions`."""
    used = regions_in_use(k).values()
    sb = _first_fit([(r.state_base, r.nstates) for r in used], nstates, abi.BST_MAX_STATES)
    cb = _first_fit([(r.cell_base, r.ncells) for r in used], ncells, abi.BST_MAX_CELLS)
    if sb is None or cb is None:
        what, n, cap = (
            ("states", nstates, abi.BST_MAX_STATES) if sb is None else ("cells", ncells, abi.BST_MAX_CELLS)
        )
        raise KernelError(
            "place policy tables",
            what,
            ENOSPC,
            f"{n} {what} do not fit beside the generations in the kernel ({cap} for all "
            f"attached policies together, and a reload needs room for old and new at once): "
            f"detach other targets or simplify the policies ('bpfsystrace check --stats')",
        )
    region = abi.BstRegion(sb, nstates, cb, ncells)
    k.regions.update(abi.BstRegionKey(gen), region)
    return region


def copy_tables(k, region: abi.BstRegion, tables) -> None:
    """Write tables (compile.tables.Tables) into their region: one copy per array."""
    for name, base, size, data in (
        ("states", region.state_base, 16, tables.states),
        ("cells", region.cell_base, 8, tables.cells),
    ):
        raw = memoryview(data).cast("B")
        if not len(raw):
            continue
        mem = getattr(k, name).mmap()
        try:
            mem[base * size : base * size + len(raw)] = raw
        finally:
            mem.close()


def generation_bytes(k, gen: int) -> int:
    """What one generation takes in the kernel's maps: its region of the
    tables and its keyed records (values and keys), as compile's
    Records.kernel_bytes() counts them."""
    r = k.regions.lookup(abi.BstRegionKey(gen))
    ops = sum(1 for key in k.policy_ops.keys() if key.gen == gen)
    rules = sum(1 for key in k.rules.keys() if key.gen == gen)
    return abi.generation_bytes(r.nstates if r else 0, r.ncells if r else 0, ops, rules)
