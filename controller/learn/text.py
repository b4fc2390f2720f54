"""Learned rules -> systrace policy text: a new file, or merged into an existing one.

policy_text() writes a new policy file, merge_text() appends to an existing
one without touching a byte of what is there. Every output passes
`bpfsystrace check`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..model import reference, syscalls
from ..observe.escape import escape
from ..policy.printer import quote
from .generalise import LearnedRule, generalise


def policy_filename(binary: str) -> str:
    """systrace's file name for a binary's policy: /usr/sbin/named -> usr_sbin_named."""
    return binary.strip("/").replace("/", "_")


def header(
    command: str, cgroup: str, started: float, seconds: float, events: int, what: str = "learned"
) -> list[str]:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started))
    return [
        f"# {what.capitalize()} by bpfsystrace on {when} ({seconds:.0f} s) from cgroup {escape(cgroup)}",
        f"# command: {escape(command)}",
        f"# {events} distinct operations observed in the cgroup; every rule below was seen,",
        "# none was judged: review them (bpfsystrace check, explain) before enforcing.",
    ]


def policy_text(binary: str, rules: list[LearnedRule], comment: list[str]) -> str:
    path = binary if all(c not in binary for c in ' ,"()[]') else quote(binary)
    lines = comment + [f"Policy: {path}, Emulation: native"]
    lines += ["\tnative-" + r.text()[len("native-") :] for r in rules]
    return "\n".join(lines) + "\n"


@dataclass
class MergeResult:
    text: str
    added: list[LearnedRule]
    denied_by_hand: list[tuple[str, str, str]]  # (op, obj, rule coord) kept denied


def new_observations(policy, observed):
    """Split observations into (not decided by any rule, denied by a written rule)."""
    fresh, denied = set(), []
    for op, obj in observed:
        d = reference.decide(policy, syscalls.OPERATIONS[op].op, obj)
        if d.rule is None:
            fresh.add((op, obj))
        elif not d.permitted:
            denied.append((op, obj, str(d.rule.coord)))
    return fresh, sorted(denied)


def merge_text(text: str, policy, observed, collapse: int, ephemeral: bool, comment: str) -> MergeResult:
    """Append rules for what `policy` (parsed from `text`) leaves undecided.

    Existing lines stay byte for byte; the new rules follow the policy's last
    rule (first match wins, so hand-written rules keep precedence). Objects a
    written rule denies are reported, never overridden."""
    fresh, denied = new_observations(policy, observed)
    rules = generalise(fresh, collapse, ephemeral)
    if not rules:
        return MergeResult(text, [], denied)
    last = max([r.coord.line for r in policy.rules] + [policy.coord.line])
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    new = [f"\t# {escape(comment)}\n"] + ["\t" + r.text() + "\n" for r in rules]
    lines[last:last] = new
    return MergeResult("".join(lines), rules, denied)
