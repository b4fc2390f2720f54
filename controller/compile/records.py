"""Checked policies -> flat records for the kernel maps (one generation).

Numbering is local to a generation: policy i is policies[i] (the default
policy comes last), rules and states are numbered from 0. `RuleInfo` keeps,
in Python only, what each rule id means (policy, source line) for status,
logs and explain.
"""

from __future__ import annotations

import errno as _errno
import time
from dataclasses import dataclass, field

from .. import abi
from ..errors import Diagnostic, PolicyError
from ..model import syscalls
from ..model.types import Const, Policy, Rule, atoms
from . import dfa as dfa_mod
from . import split
from . import tables as tables_mod
from .nfa import NFA, PatternError, atom_fragment

DEFAULT_DENY = "deny"
DEFAULT_PERMIT = "permit"
MAX_STATES_PER_DFA = 200_000  # two generations of one fit BST_MAX_STATES (a reload)
BINDING_FLAGS = {"inherit": abi.BST_RULE_INHERIT, "detach": abi.BST_RULE_DETACH}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    policy: int
    op: int
    errno: int
    log: bool
    implicit: bool  # "no rule matched" (or a synthetic default rule)
    rule: Rule | None  # the source rule, None when implicit/synthetic
    binding: str | None  # execve permit[inherit] / permit[detach]

    @property
    def action(self) -> str:
        return "permit" if self.errno == 0 else "deny"

    def describe(self) -> str:
        if self.rule is not None:
            return f"{self.rule.coord}: {self.rule.source.strip()}"
        return "no rule matched (deny)" if self.errno else "default permit"


@dataclass(slots=True)
class Records:
    binaries: list[str | None]  # policy index -> Policy: path (None: default)
    default_policy: int
    rules: list[RuleInfo] = field(default_factory=list)
    # -> (start state, first rule) of each part (split.py): part 0 first
    policy_ops: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    tables: tables_mod.Tables = field(default_factory=lambda: tables_mod.pack([], [], [], []))
    ntrans: int = 0  # explicit transitions (the cells they were packed into: tables.ncells)
    parts: dict[tuple[int, int], list[dfa_mod.DFA]] = field(default_factory=dict)
    dfas: dict[tuple[int, int], dfa_mod.DFA | split.Product] = field(default_factory=dict)  # parts as one
    rule_base: dict[tuple[int, int], int] = field(default_factory=dict)  # first rule id
    seconds: float = 0.0

    def rule_record(self, rule_id: int) -> abi.BstRule:
        info = self.rules[rule_id]
        flags = (
            (abi.BST_RULE_LOG if info.log else 0)
            | (abi.BST_RULE_IMPLICIT if info.implicit else 0)
            | (BINDING_FLAGS.get(info.binding, 0) if info.binding else 0)
        )
        return abi.BstRule(info.errno, flags, info.policy, info.op)

    @property
    def nstates(self) -> int:
        return self.tables.nstates

    def kernel_bytes(self) -> int:
        """What this generation takes in the kernel's maps (values and keys)."""
        return abi.generation_bytes(
            self.tables.nstates,
            self.tables.ncells,
            sum(map(len, self.policy_ops.values())),
            len(self.rules),
        )

    def decide(self, policy: int, op: int, data: bytes) -> int:
        """Rule id the kernel would pick (the compiled automata, walked in Python)."""
        local = self.dfas[(policy, op)].run(data)
        return self.rule_base[(policy, op)] + local


# operators whose value is any string: nothing to validate (and no NFA to build
# twice for the thousands of eq rules of a large policy)
_LITERAL_OPS = frozenset(("eq", "neq", "sub", "nsub", "inpath"))


def _validate_patterns(policies, diags):
    for pol in policies:
        for rule in pol.rules:
            for a in atoms(rule.expr):
                if a.op in _LITERAL_OPS or (a.op == "match" and "[:" not in a.value):
                    continue  # only a glob's [:class:] can be wrong
                op = a.op
                try:
                    atom_fragment(NFA(), op, a.value)
                except PatternError as e:
                    diags.append(
                        Diagnostic(
                            rule.coord, f"cannot compile '{a.op} \"{a.value}\"': {e}", source=rule.source
                        )
                    )


def _check_capacity(recs: Records, pols, diags) -> None:
    """What can never fit the kernel's maps is a policy error at check, not a full map at attach."""
    sizes = (
        (
            "rule records",
            len(recs.rules),
            abi.BST_MAX_RULES,
            "one per rule and operation it decides (an fsread rule decides fsread and stat: "
            "two), plus one 'no rule matched' per policy and operation",
        ),
        ("automaton states", recs.tables.nstates, abi.BST_MAX_STATES, "all operations"),
        ("transition cells", recs.tables.ncells, abi.BST_MAX_CELLS, "all operations"),
    )
    anchor = max((p for p in pols if p is not None), key=lambda p: len(p.rules), default=None)
    for what, n, cap, how in sizes:
        if n > cap and anchor is not None:
            diags.append(
                Diagnostic(
                    anchor.coord,
                    f"these policies compile to {n} {what} "
                    f"({how}); the kernel's map holds {cap} for all attached "
                    f"policies together",
                    hints=(
                        "merge rules (filename match \"/dir/*\" or inpath "
                        "for the files of one directory) or split the "
                        "policies over several cgroups",
                    ),
                )
            )


def compile_policies(policies: tuple[Policy, ...] | list[Policy], default=DEFAULT_DENY) -> Records:
    """Compile policies plus the default (DEFAULT_DENY, DEFAULT_PERMIT or a Policy)."""
    t0 = time.monotonic()
    diags: list[Diagnostic] = []
    all_pols = list(policies)
    if isinstance(default, Policy):
        all_pols.append(default)
    _validate_patterns(all_pols, diags)
    if diags:
        raise PolicyError(diags)
    binaries = [p.binary for p in policies] + [None]
    recs = Records(binaries, len(policies))
    parts = _Parts()
    for pidx, pol in enumerate(all_pols if isinstance(default, Policy) else all_pols + [None]):
        for op in sorted(syscalls.BY_OP):
            rules = _rules_for(pol, default, op)
            _add_dfa(recs, parts, pidx, op, rules, pol, diags)
    if not diags:
        recs.tables = tables_mod.pack(parts.trans, parts.nexts, parts.rules, parts.flags)
        recs.ntrans = parts.ntrans
    if not diags:
        _check_capacity(recs, all_pols, diags)
    if diags:
        raise PolicyError(diags)
    recs.seconds = time.monotonic() - t0
    return recs


def _rules_for(pol, default, op):
    if pol is not None and pol.detached:
        return [None]  # `detached`: this program is not confined
    if pol is not None:
        return list(pol.rules_for(op))
    if default == DEFAULT_PERMIT:
        return [None]  # one synthetic "permit"
    if default == DEFAULT_DENY:
        return []
    raise ValueError(f"bad default {default!r}")


def _budget_diagnostic(op, rules, pol, limit, diags) -> Diagnostic:
    """Which rules made the automaton too big, and why (docs/policy-language.md, Limits).

    An alias (fsread also decides stat) fails once per operation with the same
    rules: the earlier diagnostic is replaced by one naming both."""
    name = syscalls.BY_OP[op].name
    real = [r for r in rules if r is not None]
    heavy = [r for r in real if any(a.op in ("match", "re", "sub", "nsub") for a in atoms(r.expr))]
    coord_rule = heavy[-1] if heavy else real[-1]
    written = sorted({r.syscall for r in real})
    if heavy:
        hint = (
            "the patterns (match/re/sub) of the rules at lines "
            + ", ".join(str(r.coord.line) for r in heavy[:10])
            + (" ..." if len(heavy) > 10 else "")
            + " multiply states: simplify or merge them"
        )
    else:
        chars = sum(len(a.value) for r in real for a in atoms(r.expr))
        hint = (
            f"the {len(real)} rules compare {chars} characters of exact strings, and every "
            f"character not shared with another string's prefix is a state: cover files "
            f"of one directory with one rule (filename match \"/dir/*\" or inpath)"
        )
    if diags and diags[-1].coord == coord_rule.coord and "automaton states" in diags[-1].message:
        prev = diags.pop()
        name = prev.message.split(" (")[0] + " and " + name
    return Diagnostic(
        coord_rule.coord,
        f"{name} ({', '.join(written)} rules) of {pol.binary} need more than "
        f"{limit} automaton states, the limit per operation of one policy",
        source=coord_rule.source,
        hints=(hint,),
    )


class _Parts:
    """Every DFA's states, numbered across the generation, before packing."""

    def __init__(self):
        self.trans: list[dict[int, int]] = []
        self.nexts: list[int] = []
        self.rules: list[int] = []
        self.flags: list[int] = []
        self.ntrans = 0
        self.built: dict[tuple, list[dfa_mod.DFA]] = {}  # (rules, two-part op) -> its parts
        self.placed: dict[int, int] = {}  # id(DFA) -> its first state in the table


def _build_parts(exprs, o) -> list[dfa_mod.DFA]:
    if o.parts > 1:  # several-string operations: one automaton (few rules, short strings)
        return [dfa_mod.build(exprs, MAX_STATES_PER_DFA, lambda a: o.part(a.arg, a.index), o.parts)]
    out = []
    for part in split.assign(exprs, abi.BST_MAX_PARTS):
        d = dfa_mod.build([exprs[i] for i in part], MAX_STATES_PER_DFA)
        out.append(split.renumber(d, part, len(exprs)) if len(part) < len(exprs) else d)
    return out


def _add_dfa(recs: Records, parts: _Parts, pidx: int, op: int, rules, pol, diags) -> None:
    exprs = [Const(True) if r is None else r.expr for r in rules]
    o = syscalls.BY_OP[op]
    # operations deciding the same rules (fsread and stat) share their automata
    key = (tuple(map(id, rules)), o.parts > 1 and op)  # the rules outlive the compile
    try:
        ds = parts.built.get(key)
        if ds is None:
            ds = parts.built[key] = _build_parts(exprs, o)
    except dfa_mod.StateBudgetExceeded as e:
        diags.append(_budget_diagnostic(op, rules, pol, e.limit, diags))
        return
    base = len(recs.rules)
    for r in rules:
        if r is None:
            recs.rules.append(RuleInfo(pidx, op, 0, False, True, None, None))
        else:
            recs.rules.append(RuleInfo(pidx, op, r.errno, r.log, False, r, r.binding))
    recs.rules.append(RuleInfo(pidx, op, _errno.EPERM, True, True, None, None))  # no rule matched
    recs.rule_base[(pidx, op)] = base
    recs.parts[(pidx, op)] = ds
    recs.dfas[(pidx, op)] = ds[0] if len(ds) == 1 else split.Product(ds)
    starts = []
    for d in ds:
        offset = parts.placed.get(id(d))
        if offset is None:  # its states' rules count from rule_base: one table serves all users
            offset = parts.placed[id(d)] = len(parts.nexts)
            final = abi.BST_STATE_FINAL
            for i, st in enumerate(d.states):
                parts.flags.append(final if st.final(i) else 0)
                parts.nexts.append(offset + st.next)
                parts.rules.append(st.rule)
                parts.trans.append({b: offset + n for b, n in st.trans.items()} if offset else st.trans)
                parts.ntrans += len(st.trans)
        starts.append((offset + d.start, min(st.rule for st in d.states)))
    recs.policy_ops[(pidx, op)] = starts
