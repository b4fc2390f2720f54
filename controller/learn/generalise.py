"""Observed operations -> permit rules (learn, suggest).

Pure functions, no kernel: what `bpfsystrace learn` watched (or what
`bpfsystrace suggest` found in audit denials) is a set of (operation, object)
pairs per executable. generalise() turns them into rules (text.py turns those
into policy text). Every rule passes `bpfsystrace check`.

Generalisation (all of it visible in the rule text, none of it silent):
* `/proc/<pid>/...` becomes `re "^/proc/[0-9]+/...$"`: /proc/self resolves to
  the pid, which differs in every run.
* `--collapse N`: more than N objects of one operation in one directory become
  `match "DIR/*"` (fnmatch's `*` also matches `/`, so the subtree is covered).
* A bind to port 0 (the kernel picks the port) becomes `match "inet-*:0"`
  (any address, kernel-chosen port) unless ephemeral generalisation is off.
Rules are sorted by operation (fsread, fswrite, bind, connect, execve) and then
by object, so learning the same workload twice gives the same file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..model import reference, syscalls
from ..policy.printer import quote

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_PROC_PID = re.compile(r"^/proc/[0-9]+(?=/|$)")
_ENV_VAR = re.compile(r"\$(HOME|USER|CWD)")
_CONTROL = re.compile("[\x01-\x1f\x7f-\x9f\u2028\u2029]")  # not NUL: two-part separator


@dataclass(frozen=True, slots=True, order=True)
class LearnedRule:
    opnum: int  # abi.BST_OP_*: the sort key
    value: str
    pred: str  # eq | match | re
    op: str  # systrace name: fsread, fswrite, bind, connect, execve

    def text(self) -> str:
        o = syscalls.OPERATIONS[self.op]
        if not o.arg:  # reboot, sethostname ...: nothing to match
            return f"native-{self.op}: permit"
        if o.parts > 1:  # rename, link: "from\0to"; mount, socket, kill
            values = self.value.split("\0", o.parts - 1)
            cond = " and ".join(
                f"{label} {self.pred} {quote(v)}" for label, v in zip(o.labels, values, strict=False)
            )
            return f"native-{self.op}: {cond} then permit"
        return f"native-{self.op}: {o.arg} {self.pred} {quote(self.value)} then permit"

    def covers(self, obj: str) -> bool:
        if self.pred == "eq":
            return obj == self.value
        if self.pred == "re":
            return re.search(self.value, obj) is not None
        return reference.fnmatch(self.value, obj)


def re_escape(s: str) -> str:
    """POSIX ERE escaping (Python's re.escape escapes more than ERE knows)."""
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", s)


def glob_escape(s: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", s)


def _rule(op: str, pred: str, value: str) -> LearnedRule:
    if _CONTROL.search(value):
        # a control character would put a line break inside the policy's
        # string: each one becomes any-one-character, so the rule stays on
        # one line and still covers what was seen
        if pred == "re":
            value = _CONTROL.sub(".", value)
        else:
            value = _CONTROL.sub("?", glob_escape(value) if pred == "eq" else value)
            pred = "match"
    if _ENV_VAR.search(value) and pred != "re":  # the checker expands $HOME etc. in strings
        value = _ENV_VAR.sub(lambda m: "[$]" + m.group(1), glob_escape(value) if pred == "eq" else value)
        pred = "match"
    return LearnedRule(syscalls.OPERATIONS[op].op, value, pred, op)


def generalise(observed, collapse: int = 0, ephemeral: bool = True) -> list[LearnedRule]:
    """{(op, obj)} -> sorted permit rules covering every observation."""
    by_op: dict[str, set[str]] = {}
    for op, obj in observed:
        by_op.setdefault(op, set()).add(obj)
    rules: set[LearnedRule] = set()
    for op, objs in by_op.items():
        exact: set[str] = set()
        for obj in objs:
            if syscalls.OPERATIONS[op].parts > 1:
                exact.add(obj)  # two filenames: kept exactly, never collapsed
            elif syscalls.OPERATIONS[op].arg == "filename" and _PROC_PID.match(obj):
                rules.add(_rule(op, "re", "^/proc/[0-9]+" + re_escape(_PROC_PID.sub("", obj)) + "$"))
            elif op == "bind" and ephemeral and obj.startswith("inet-") and obj.endswith("]:0"):
                rules.add(_rule(op, "match", "inet-*:0"))
            else:
                exact.add(obj)
        if collapse > 0 and syscalls.OPERATIONS[op].arg == "filename":
            by_dir: dict[str, list[str]] = {}
            for obj in exact:
                if obj.startswith("/") and "\0" not in obj:
                    by_dir.setdefault(os.path.dirname(obj), []).append(obj)
            for d, members in by_dir.items():
                if len(members) > collapse and d != "/":
                    rules.add(_rule(op, "match", glob_escape(d) + "/*"))
        for obj in exact:
            rules.add(_rule(op, "eq", obj))
    # drop what a broader rule of the same operation covers; fsread rules also
    # decide stat (systrace's alias), so a stat of what is read needs no rule
    broad = [r for r in rules if r.pred == "match"]
    reads = {(r.pred, r.value) for r in rules if r.op == "fsread"}

    def covered(r):
        if r.op == "stat" and (r.pred, r.value) in reads:
            return True
        return any(
            b is not r
            and (b.op == r.op or (b.op, r.op) == ("fsread", "stat"))
            and b.covers(r.value)
            and (r.pred == "eq" or len(b.value) < len(r.value))
            for b in broad
        )

    return sorted(r for r in rules if not covered(r))
