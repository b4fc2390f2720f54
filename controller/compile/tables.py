"""A generation's DFAs as one comb-packed table: what the kernel walks.

The layout is AppArmor's (base, next, check), without byte classes: state s
has a `base`, a default `next`, its rule and flags; its transition on byte b
is cell base + b when that cell's `check` is s + 1, else `next`. Cells of
different states interleave, so the table stays about as small as the list
of explicit transitions (bpf/bpfsystrace.h, struct bst_state and bst_cell).

pack() places the states first-fit: the lowest free cell at or above a
state's smallest byte, found through a "next free cell" forest, is tried
first; a state with several transitions tries up to TRIES more bases and is
otherwise put past the end. walk() is the kernel's walk (bpf/decide.bpf.h),
in Python, for the tests.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

TRIES = 512


class Tables:
    """states: 4 u32 per state (base, next, rule, flags); cells: 2 u32 per
    cell (check, next). Both are local to the generation's region."""

    __slots__ = ("states", "cells")

    def __init__(self, states: array, cells: array):
        self.states = states
        self.cells = cells

    @property
    def nstates(self) -> int:
        return len(self.states) // 4

    @property
    def ncells(self) -> int:
        return len(self.cells) // 2

    def walk(self, start: int, data: bytes, final_flag: int) -> int | None:
        """The rule the kernel's walk ends on, from the operation's rule_base
        (None: it would fail closed)."""
        st, ce = self.states, self.cells
        s = start
        for b in data:
            if s >= self.nstates:
                return None
            if st[4 * s + 3] & final_flag:
                break
            c = st[4 * s] + b
            if c < self.ncells and ce[2 * c] == s + 1:
                s = ce[2 * c + 1]
            else:
                s = st[4 * s + 1]
        return st[4 * s + 2] if s < self.nstates else None


def _find(nf: list[int], c: int) -> int:
    """Lowest free cell >= c (nf[c] == c: free; cells past the end are free)."""
    root = c
    n = len(nf)
    while root < n and nf[root] != root:
        root = nf[root]
    while c < n and c != root:
        nf[c], c = root, nf[c]
    return root


def pack(
    trans: Sequence[dict[int, int]], nexts: Sequence[int], rules: Sequence[int], flags: Sequence[int]
) -> Tables:
    """Tables for states 0..n-1: trans[s] its explicit transitions (byte -> next)."""
    n = len(trans)
    bases = [0] * n
    nf: list[int] = []  # the "next free cell" forest
    check: list[int] = []
    nxt: list[int] = []
    cursor: dict[tuple[int, ...], int] = {}  # shape -> lowest base still worth trying
    order = sorted((s for s in range(n) if trans[s]), key=lambda s: -len(trans[s]))
    for s in order:
        t = trans[s]
        if len(t) == 1:  # most states of a large policy: the lowest free cell
            ((b0, to),) = t.items()
            c = _find(nf, b0)
            if c >= len(nf):
                grow = c + 1 - len(nf)
                nf.extend(range(len(nf), c + 1))
                check.extend([0] * grow)
                nxt.extend([0] * grow)
            nf[c] = c + 1
            check[c] = s + 1
            nxt[c] = to
            bases[s] = c - b0
            continue
        bs = sorted(t)
        b0 = bs[0]
        rest = bs[1:]
        # cells are only ever taken, so a base that failed this shape fails it
        # again: start past the last base found for the same shape
        shape = tuple(b - b0 for b in rest)
        cand = _find(nf, b0 + cursor.get(shape, 0))
        tries = 0
        while True:
            base = cand - b0
            size = len(nf)
            if all(base + b >= size or nf[base + b] == base + b for b in rest):
                break
            tries += 1
            if tries > TRIES:
                base = max(size - b0, 0)  # past the end: every cell is free there
                break
            cand = _find(nf, cand + 1)
        top = base + bs[-1] + 1
        if top > len(nf):
            nf.extend(range(len(nf), top))
            check.extend([0] * (top - len(check)))
            nxt.extend([0] * (top - len(nxt)))
        for b in bs:
            c = base + b
            nf[c] = c + 1
            check[c] = s + 1
            nxt[c] = t[b]
        bases[s] = base
        cursor[shape] = base + 1
    states = array("I", bytes(16 * n))
    states[0::4] = array("I", bases)
    states[1::4] = array("I", nexts)
    states[2::4] = array("I", rules)
    states[3::4] = array("I", flags)
    cells = array("I", bytes(8 * len(check)))
    cells[0::2] = array("I", check)
    cells[1::2] = array("I", nxt)
    return Tables(states, cells)
