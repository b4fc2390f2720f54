"""The reference evaluator: systrace's semantics written plainly in Python.

Given a checked policy, an operation and its object string, it returns the
rule that decides, the errno and whether it logs. It shares nothing with the
compiler (compile/nfa.py, compile/dfa.py) on purpose: differential tests
compare the two, and the kernel, on the same inputs.
"""

from __future__ import annotations

import errno as _errno
import re
from dataclasses import dataclass

from . import syscalls
from .types import Atom, Policy, Rule, evaluate


@dataclass(frozen=True, slots=True)
class Decision:
    rule: Rule | None  # None: no rule matched
    errno: int  # 0: permitted
    log: bool

    @property
    def permitted(self) -> bool:
        return self.errno == 0

    def describe(self) -> str:
        if self.rule is None:
            return "denied (EPERM): no rule matched"
        verdict = (
            "permitted" if self.permitted else f"denied ({_errno.errorcode.get(self.errno, self.errno)})"
        )
        return f"{verdict} by {self.rule.coord}: {self.rule.source.strip()}"


def fnmatch(pattern: str, string: str) -> bool:
    """fnmatch(3) without flags: `*`/`?` match any character including '/'."""
    p, s = pattern.encode(), string.encode()
    return _fnmatch_at(p, 0, s, 0)


def _fnmatch_at(p: bytes, i: int, s: bytes, j: int) -> bool:
    while i < len(p):
        c = p[i]
        if c == ord("*"):
            while i < len(p) and p[i] == ord("*"):
                i += 1
            if i == len(p):
                return True
            return any(_fnmatch_at(p, i, s, k) for k in range(j, len(s) + 1))
        if j >= len(s):
            return False
        if c == ord("?"):
            i, j = i + 1, j + 1
            continue
        if c == ord("["):
            end, ok = _bracket(p, i, s[j])
            if end is not None:
                if not ok:
                    return False
                i, j = end, j + 1
                continue
        if c == ord("\\") and i + 1 < len(p):
            i += 1
            c = p[i]
        if c != s[j]:
            return False
        i, j = i + 1, j + 1
    return j == len(s)


_CLASSES = {
    "alpha": str.isalpha,
    "digit": str.isdigit,
    "alnum": str.isalnum,
    "upper": str.isupper,
    "lower": str.islower,
    "space": lambda c: c in " \t\n\r\f\v",
    "blank": lambda c: c in " \t",
    "print": lambda c: " " <= c <= "~",
    "graph": lambda c: "!" <= c <= "~",
    "cntrl": lambda c: c < " " or c == "\x7f",
    "punct": lambda c: "!" <= c <= "~" and not c.isalnum(),
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}


def _bracket(p: bytes, i: int, ch: int):
    """(index after ']', matched) for a bracket expression, or (None, _)."""
    j = i + 1
    neg = j < len(p) and p[j] in b"!^"
    j += neg
    matched, first = False, True
    while j < len(p):
        if p[j] == ord("]") and not first:
            return j + 1, matched != neg
        first = False
        if p[j : j + 2] == b"[:":
            end = p.find(b":]", j + 2)
            if end > 0:
                test = _CLASSES[p[j + 2 : end].decode()]
                matched |= ch < 128 and test(chr(ch))
                j = end + 2
                continue
        lo = p[j]
        if lo == ord("\\") and j + 1 < len(p):
            j += 1
            lo = p[j]
        if j + 2 < len(p) and p[j + 1] == ord("-") and p[j + 2] != ord("]"):
            matched |= lo <= ch <= p[j + 2]
            j += 3
        else:
            matched |= ch == lo
            j += 1
    return None, False


def inpath(base: str, value: str) -> bool:
    base = base.rstrip("/") or ("/" if base else "")
    if base == "/":
        return value.startswith("/")
    return value == base or value.startswith(base + "/")


def atom_holds(atom: Atom, value: str) -> bool:
    v = atom.value
    if atom.op == "eq":
        return value == v
    if atom.op == "neq":
        return value != v
    if atom.op == "sub":
        return v in value
    if atom.op == "nsub":
        return v not in value
    if atom.op == "match":
        return fnmatch(v, value)
    if atom.op == "inpath":
        return inpath(v, value)
    if atom.op == "re":
        return re.search(v.encode(), value.encode(), re.DOTALL) is not None
    raise ValueError(atom.op)


def decide(policy: Policy | None, op: int, value: str, default: str = "deny") -> Decision:
    """First matching enforced rule for `op` on `value` (None policy: the default)."""
    if policy is None:
        return Decision(None, 0 if default == "permit" else _errno.EPERM, default != "permit")
    o = syscalls.BY_OP[op]
    parts = value.split("\0", o.parts - 1) if o.parts > 1 else [value]

    def part(a):
        i = o.part(a.arg, a.index)  # rules_for() holds only atoms the operation sees
        return parts[i] if i is not None and i < len(parts) else ""

    for rule in policy.rules_for(op):
        if evaluate(rule.expr, lambda a: atom_holds(a, part(a))):
            return Decision(rule, rule.errno, rule.log or rule.errno != 0)
    return Decision(None, _errno.EPERM, True)


def explain(policy: Policy, op_name: str, value: str) -> list[str]:
    """What a person asks: which rule decides `op_name value`, and why."""
    head = f"{policy.binary}: {op_name} {value}"
    if op_name not in syscalls.OPERATIONS:
        kept = [r for r in policy.rules if r.syscall == op_name]
        why = syscalls.why_not_enforceable(op_name)
        return [
            f"{head}: not decided by bpfsystrace: {why}",
            f"({len(kept)} rule(s) for {op_name} in this policy are kept but not enforced)",
        ]
    op = op_by_name(op_name)
    rules = policy.rules_for(op)
    d = decide(policy, op, value)
    out = [f"{head}: {d.describe()}"]
    if d.rule is None:
        out.append(
            f"none of the {_rule_count(rules, op_name)} matched; systrace denies what no "
            f"rule permits, with EPERM, and logs it"
        )
    else:
        before = rules.index(d.rule)
        out.append(
            f"it is {op_name} rule {before + 1} of {len(rules)}: the first whose condition "
            f"holds"
            + (f" ({before} earlier rule{'s' if before != 1 else ''} did not match)" if before else "")
        )
        if d.log and d.permitted:
            out.append("the rule says 'log': the permitted call is logged")
        if d.permitted and d.rule.binding == "inherit":
            out.append(
                f"permit[inherit]: the program {value} runs under this policy "
                f"({policy.binary}'s), not its own, as do its children"
            )
        elif d.permitted and d.rule.binding == "detach":
            out.append(
                f"permit[detach]: the program {value}, its children and what they "
                f"execute are no longer confined"
            )
    skipped = [r for r in policy.rules if r.syscall == op_name and not r.enforced]
    if skipped:
        out.append(f"note: {len(skipped)} {op_name} rule(s) are not enforced: {skipped[0].why_not}")
    return out


def _rule_count(rules, op_name: str) -> str:
    """'4 rules that decide stat (fsread: 4)': the names the rules were written with."""
    by: dict[str, int] = {}
    for r in rules:
        by[r.syscall] = by.get(r.syscall, 0) + 1
    if set(by) <= {op_name}:
        return f"{len(rules)} {op_name} rule{'s' if len(rules) != 1 else ''}"
    names = ", ".join(f"{n}: {c}" for n, c in by.items())
    return f"{len(rules)} rule{'s' if len(rules) != 1 else ''} that decide {op_name} ({names})"


def op_by_name(name: str) -> int:
    try:
        return syscalls.OPERATIONS[name].op
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; one of {', '.join(syscalls.OPERATIONS)}") from None
