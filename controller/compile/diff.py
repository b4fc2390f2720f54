"""What changes between two policy sets: decisions, not text.

Both sides are compiled as `attach` would compile them (compile/records.py),
and for every executable and operation the two DFAs are walked together
(the product automaton), breadth first, so that the first string reaching a
pair of states whose decisions differ is a shortest example of that change.
The walk is exhaustive: when it ends without a difference, the two sides
decide every object string of that operation the same.

Strings are shaped as the kernel renders objects: a filename starts with
'/', a uid or gid is digits, no string holds a NUL except the one that
separates the two parts of a two-part operation (rename, link, socket,
kill), and no part is empty.
"""

from __future__ import annotations

import errno as _errno
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..model import syscalls
from . import records as records_mod

MAX_PAIRS = 200_000  # product states one (executable, operation) may visit
KINDS = (
    "permitted -> denied",
    "denied -> permitted",
    "errno changed",
    "log flag changed",
    "exec binding changed",
)
_PREF = b"abcdefghijklmnopqrstuvwxyz0123456789/._-ABCDEFGHIJKLMNOPQRSTUVWXYZ" + bytes(
    b for b in range(1, 256) if not (chr(b).isalnum() or b in b"/._-")
)
_RANK = {b: i for i, b in enumerate(_PREF)}
_DIGITS = frozenset(b"0123456789")


@dataclass(frozen=True, slots=True)
class Verdict:
    errno: int
    log: bool
    binding: str | None
    where: str  # the deciding rule, as a person reads it

    def kind_to(self, new: Verdict) -> str | None:
        if self.errno == 0 and new.errno:
            return KINDS[0]
        if self.errno and new.errno == 0:
            return KINDS[1]
        if self.errno != new.errno:
            return KINDS[2]
        if self.log != new.log:
            return KINDS[3]
        if self.binding != new.binding:
            return KINDS[4]
        return None

    def describe(self) -> str:
        if self.errno == 0:
            what = (
                "permitted"
                + (" and logged" if self.log else "")
                + (f" [{self.binding}]" if self.binding else "")
            )
        else:
            what = f"denied ({_errno.errorcode.get(self.errno, self.errno)})"
        return f"{what} by {self.where}"


@dataclass(slots=True)
class Change:
    kind: str
    example: str  # object string; two-part objects hold "first\0second"
    old: Verdict
    new: Verdict


@dataclass(slots=True)
class OpDiff:
    binary: str  # Policy: path, or "(default)" for processes with no policy
    op: str
    changes: list[Change] = field(default_factory=list)
    complete: bool = True  # False: MAX_PAIRS reached, there may be more
    more: dict = field(default_factory=dict)  # kind -> pairs of deciding rules not shown


@dataclass(slots=True)
class Side:
    """One compiled policy set: what attach would install."""

    policies: dict[str, int]  # binary -> policy index in recs
    recs: records_mod.Records
    label: str  # "old" / "new" (for 'no policy' wording)
    default: str  # the --default as given

    @classmethod
    def build(cls, policies, default, label: str, default_spec: str) -> Side:
        recs = records_mod.compile_policies(policies, default)
        return cls({p.binary: i for i, p in enumerate(policies)}, recs, label, default_spec)

    def index(self, binary: str | None) -> int:
        return self.policies.get(binary, self.recs.default_policy) if binary else self.recs.default_policy

    def verdict(self, pidx: int, op: int, local: int, has_own: bool) -> Verdict:
        info = self.recs.rules[self.recs.rule_base[(pidx, op)] + local]
        if info.rule is not None:
            where = f"{info.rule.coord}: {info.rule.source.strip()}"
        elif pidx == self.recs.default_policy and not has_own:
            where = f"the default policy ({self.default})"
        else:
            where = "no rule matched" if info.errno else "default permit"
        binding = info.binding if info.errno == 0 and op == syscalls.OPERATIONS["execve"].op else None
        return Verdict(info.errno, info.log or info.errno != 0, binding, where)


def _shape(op: int):
    """(allowed(byte, part) -> bool, parts) for the strings the kernel renders for op."""
    o = syscalls.BY_OP[op]
    labels = o.labels

    def allowed(b: int, part: int, first: bool) -> bool:
        if b == 0:
            return False
        arg = labels[part].split("[")[0]
        if arg == "filename" and first:
            return b == ord("/")
        if arg in ("uid", "gid"):
            return b in _DIGITS
        return True

    return allowed, len(labels)


def diff_op(old: Side, new: Side, binary: str | None, op: int, per_kind: int = 3) -> OpDiff:
    """Every kind of decision change for (binary, op), up to per_kind examples each
    (one per pair of deciding rules, shortest first)."""
    name = syscalls.BY_OP[op].name
    out = OpDiff(binary or "(default)", name)
    pa, pb = old.index(binary), new.index(binary)
    # one DFA, or a split operation's parts as one (states are tuples)
    da: Any = old.recs.dfas[(pa, op)]
    db: Any = new.recs.dfas[(pb, op)]
    own_a, own_b = binary in old.policies, binary in new.policies
    allowed, parts = _shape(op)
    start = (da.start, db.start, 0, True)
    prev: dict = {start: None}
    todo = deque([start])
    seen_rules: set = set()
    counts: dict[str, int] = {}
    while todo:
        if len(prev) > MAX_PAIRS:
            out.complete = False
            break
        key = todo.popleft()
        sa, sb, part, first = key
        if part == parts - 1 and not first:
            ra, rb = da.states[sa].rule, db.states[sb].rule
            if (ra, rb) not in seen_rules:
                seen_rules.add((ra, rb))
                va, vb = old.verdict(pa, op, ra, own_a), new.verdict(pb, op, rb, own_b)
                kind = va.kind_to(vb)
                if kind and counts.get(kind, 0) < per_kind:
                    counts[kind] = counts.get(kind, 0) + 1
                    out.changes.append(Change(kind, _path(prev, key), va, vb))
                elif kind:
                    out.more[kind] = out.more.get(kind, 0) + 1
        for b, nxt in _steps(da, db, sa, sb, part, first, parts, allowed):
            if nxt not in prev:
                prev[nxt] = (key, b)
                todo.append(nxt)
    out.changes.sort(key=lambda c: (KINDS.index(c.kind), len(c.example), c.example))
    return out


def _steps(da, db, sa, sb, part, first, parts, allowed):
    A, B = da.states[sa], db.states[sb]
    fa, fb = A.final(sa), B.final(sb)
    explicit = set() if fa else set(A.trans)
    if not fb:
        explicit |= set(B.trans)
    cands = sorted((b for b in explicit if allowed(b, part, first)), key=_RANK.__getitem__)
    other = next((b for b in _PREF if b not in explicit and allowed(b, part, first)), None)
    if other is not None:
        cands.append(other)
    for b in cands:
        na = sa if fa else A.trans.get(b, A.next)
        nb = sb if fb else B.trans.get(b, B.next)
        yield b, (na, nb, part, False)
    if part < parts - 1 and not first:  # the separator of a two-part object
        na = sa if fa else A.trans.get(0, A.next)
        nb = sb if fb else B.trans.get(0, B.next)
        yield 0, (na, nb, part + 1, True)


def _path(prev, key) -> str:
    out = bytearray()
    while prev[key] is not None:
        key, b = prev[key]
        out.append(b)
    return bytes(reversed(out)).decode("utf-8", "surrogateescape")


def diff(old: Side, new: Side, per_kind: int = 3) -> list[OpDiff]:
    """Every (executable, operation) whose decisions change, in a stable order."""
    out = []
    binaries = sorted(set(old.policies) | set(new.policies)) + [None]
    for binary in binaries:
        for op in sorted(syscalls.BY_OP):
            d = diff_op(old, new, binary, op, per_kind)
            if d.changes or not d.complete:
                out.append(d)
    return out


def show(value: str) -> str:
    """An example object as a person reads it: two parts apart, odd bytes escaped."""
    parts = value.split("\0")
    return " ".join(
        '"'
        + p.encode("utf-8", "surrogateescape")
        .decode("latin-1")
        .encode("unicode_escape")
        .decode("ascii")
        .replace('"', '\\"')
        + '"'
        for p in parts
    )
