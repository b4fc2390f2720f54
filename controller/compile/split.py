"""One operation's rules split over several automata walked in turn.

Thousands of globs that start in one directory (`/srv/www/*/x*.conf`) are
all alive at once while a path is read, and one automaton would have to
remember every combination of them. Split over parts that each hold few
globs with related anchors (the literal text before a glob's first
wildcard; one anchor a prefix of the other), every part stays small; the
kernel walks each part and the first match is the lowest rule any part gives
(bpf/decide.bpf.h, bst_match). Each part's states name rules of the whole
operation, so "no rule matched" is the same number in every part.

Ordinary policies are not split: an operation is split only when it has more
than SPLIT_AT pattern rules, so a policy walks one automaton per operation.
"""

from __future__ import annotations

import os
from collections import Counter

from ..model.types import Atom, Expr, atoms
from .dfa import DFA, DState
from .nfa import GLOB_SPECIAL

HEAVY = ("match", "re", "sub", "nsub")  # atoms that are alive beyond their first bytes
SPLIT_AT = 64  # an operation with more pattern rules than this is split ...
MAX_RELATED = 8  # ... into parts of at most this many rules with related anchors


def _atom_anchor(a: Atom) -> str:
    if a.op != "match":
        return ""  # sub, nsub, re: anywhere in the string, related to every anchor
    value = a.value
    cut = min((i for i in (value.find(c) for c in GLOB_SPECIAL) if i >= 0), default=len(value))
    return value[:cut]


def anchor(expr: Expr) -> str | None:
    """The literal prefix every string the rule's patterns follow starts with
    (None: a rule without patterns: exact strings, numbers)."""
    heavy = [_atom_anchor(a) for a in atoms(expr) if a.op in HEAVY]
    return os.path.commonprefix(heavy) if heavy else None  # by character, not by path component


class _Anchors:
    """The anchors of one part, to count those related to a new one."""

    def __init__(self) -> None:
        self.exact: Counter[str] = Counter()
        self.prefixes: Counter[str] = Counter()  # every prefix of every anchor

    def related(self, a: str) -> int:
        return self.prefixes[a] + sum(self.exact[a[:k]] for k in range(len(a)))

    def add(self, a: str) -> None:
        self.exact[a] += 1
        for k in range(len(a) + 1):
            self.prefixes[a[:k]] += 1


def assign(exprs: list[Expr], max_parts: int) -> list[list[int]]:
    """Rule indices per part, ascending in each; part 0 holds every rule
    without patterns. One part when there are at most SPLIT_AT pattern rules."""
    anchors = [anchor(e) for e in exprs]
    if sum(a is not None for a in anchors) <= SPLIT_AT:
        return [list(range(len(exprs)))]
    parts: list[list[int]] = [[]]
    seen = [_Anchors()]
    for i, a in enumerate(anchors):
        if a is None:
            parts[0].append(i)
            continue
        counts = [s.related(a) for s in seen]
        p = next((p for p, n in enumerate(counts) if n < MAX_RELATED), None)
        if p is None and len(parts) < max_parts:
            parts.append([])
            seen.append(_Anchors())
            p = len(parts) - 1
        elif p is None:
            p = min(range(len(parts)), key=counts.__getitem__)
        parts[p].append(i)
        seen[p].add(a)
    return [p for p in parts if p] or [[]]


def renumber(d: DFA, part: list[int], nrules: int) -> DFA:
    """A part's DFA decides its own rule list: make its states name the
    operation's rules (its "none" becomes nrules, the operation's none)."""
    glob = part + [nrules]
    for st in d.states:
        st.rule = glob[st.rule]
    return d


class Product:
    """Several automata walked in turn, seen as one (diff, explain, tests): a
    state is the tuple of their states, its rule the lowest of theirs."""

    def __init__(self, parts: list[DFA]):
        self.parts = parts
        self.start = tuple(d.start for d in parts)
        self.states = _States(parts)

    def run(self, data: bytes) -> int:
        return min(d.run(data) for d in self.parts)


class _States(dict):
    def __init__(self, parts: list[DFA]):
        super().__init__()
        self.parts = parts

    def __missing__(self, key: tuple) -> DState:
        sts = [d.states[s] for d, s in zip(self.parts, key, strict=True)]
        final = [st.final(s) for st, s in zip(sts, key, strict=True)]

        def step(b: int | None) -> tuple:
            return tuple(
                s if f else (st.next if b is None else st.trans.get(b, st.next))
                for st, s, f in zip(sts, key, final, strict=True)
            )

        explicit = set().union(*(st.trans for st, f in zip(sts, final, strict=True) if not f))
        trans: dict = {b: step(b) for b in explicit}
        ds = DState(step(None), min(st.rule for st in sts), trans)  # type: ignore[arg-type]
        self[key] = ds
        return ds
