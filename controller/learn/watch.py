"""What `watch` shows and does, without the terminal: counts, denials, rule edits.

A denial is turned into the rule that would permit it exactly as
`suggest --merge` writes it (learn.merge_text: the file's text stays byte for
byte, the rule follows the policy's last rule). Writing it reloads the
attachment atomically; a rejected policy leaves the old one in force, the
file as it was, and the reason is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .. import attachments, learn
from ..errors import BpfsystraceError, PolicyError
from ..model import check as check_mod
from ..policy import parse
from ..state.atomic import write_atomic


@dataclass
class Denial:
    time: float
    cgroup: str
    cgroup_id: int
    policy: str  # the policy's binary, or "default (deny)"
    file: str | None  # its policy file (None: the default policy has none)
    op: str
    obj: str
    errno: int
    audit: bool
    rule: str  # the rule that denied, as written ("" : no rule matched)
    count: int = 1

    @property
    def key(self):
        return (self.cgroup_id, self.policy, self.op, self.obj)


class Model:
    def __init__(self, cgroup: str | None = None):
        self.cgroup = cgroup
        self.denials: list[Denial] = []  # newest first
        self.ignored: set = set()
        self.counts: list[tuple[str, str, int, int]] = []  # (cgroup, policy, allowed, denied)
        self._metas: dict[int, attachments.Attachment | None] = {}

    def meta(self, target_id: int, gen: int | None = None):
        m = self._metas.get(target_id)
        if m is None or (gen is not None and m.gen != gen):
            m = self._metas[target_id] = attachments.load_attachment(target_id)
        return m

    def add(self, ev) -> Denial | None:
        """An event; a Denial when it is one this view shows."""
        if not (ev.denied or ev.audit) or ev.learn:
            return None
        m = self.meta(ev.target_id, ev.gen)
        if m is None or (self.cgroup and m.cgroup != self.cgroup):
            return None
        pidx = ev.policy
        file = m.policies[pidx]["file"] if 0 <= pidx < len(m.policies) else None
        rule = ""
        if m.gen == ev.gen and ev.rule < len(m.rules) and m.rules[ev.rule]["where"]:
            rule = f"{m.rules[ev.rule]['where']}: {m.rules[ev.rule]['text']}"
        d = Denial(
            time.time(),
            m.cgroup,
            m.cgroup_id,
            m.policy_name(pidx),
            file,
            ev.op,
            ev.obj,
            ev.errno,
            ev.audit,
            rule,
        )
        if d.key in self.ignored:
            return None
        for i, old in enumerate(self.denials):
            if old.key == d.key:
                d.count = old.count + 1
                del self.denials[i]
                break
        self.denials.insert(0, d)
        del self.denials[200:]
        return d

    def ignore(self, d: Denial) -> None:
        self.ignored.add(d.key)
        self.denials = [x for x in self.denials if x.key != d.key]

    def refresh_counts(self) -> None:
        targets, _ = attachments.status()
        out = []
        for t in targets:
            m = t.meta
            if m is None or (self.cgroup and m.cgroup != self.cgroup):
                continue
            for idx in range(len(m.policies) + 1):
                allowed = denied = 0
                for rid, hits in t.hits.items():
                    if rid < len(m.rules) and m.rules[rid]["policy"] == idx:
                        if attachments.rule_action(m, m.rules[rid]) == "permit":
                            allowed += hits
                        else:
                            denied += hits
                name = m.policy_name(idx)
                for key, n in m.carried.items():  # decisions of generations reloads replaced
                    pol, _, action = key.split("\t")
                    if pol == name:
                        allowed, denied = (
                            (allowed + n, denied) if action == "permit" else (allowed, denied + n)
                        )
                out.append((m.cgroup, name, allowed, denied))
        self.counts = out


@dataclass
class Edit:
    """A rule to add for a denial: the file's new text and the lines added."""

    path: str
    text: str
    lines: list[str]
    why_none: str = ""  # no rule can be added, and why


def propose(d: Denial, errno_name: str | None = None) -> Edit:
    """The rule that would permit d (errno_name: the rule that denies it with that errno)."""
    if d.file is None:
        return Edit(
            "",
            "",
            [],
            f"{d.policy}: processes without a policy of their own have no "
            f"policy file; give their executable a policy",
        )
    try:
        with open(d.file, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        policies, _ = check_mod.check([parse(text, d.file)])
    except (OSError, PolicyError) as e:
        return Edit(d.file, "", [], f"cannot read {d.file}: {e.render() if hasattr(e, 'render') else e}")
    pol = next((p for p in policies if p.binary == d.policy), None)
    if pol is None:
        return Edit(d.file, "", [], f"{d.file} no longer holds the policy of {d.policy}")
    res = learn.merge_text(
        text, pol, {(d.op, d.obj)}, 0, False, f"bpfsystrace watch, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    if not res.added:
        where = res.denied_by_hand[0][2] if res.denied_by_hand else "a rule"
        return Edit(
            d.file, "", [], f"denied by the hand-written rule at {where}; edit that rule to change it"
        )
    lines = [r.text() for r in res.added]
    new = res.text
    if errno_name:
        for ln in lines:
            new = new.replace("\t" + ln + "\n", "\t" + _deny(ln, errno_name) + "\n", 1)
        lines = [_deny(ln, errno_name) for ln in lines]
    return Edit(d.file, new, lines)


def _deny(line: str, errno_name: str) -> str:
    return line[: -len("then permit")] + f"then deny[{errno_name}]"


def apply(edit: Edit, d: Denial) -> str:
    """Write the edit and reload the attachment; a message saying what happened."""
    if not errno_ok(edit):
        return edit.why_none
    with open(edit.path, encoding="utf-8", errors="surrogateescape") as f:
        before = f.read()
    write_atomic(edit.path, edit.text, encoding="utf-8", errors="surrogateescape")
    meta = attachments.load_attachment(d.cgroup_id)
    if meta is None:
        return f"wrote {edit.path}; {d.cgroup} is no longer attached"
    try:
        new = attachments.reload(meta)
    except BpfsystraceError as e:
        write_atomic(edit.path, before, encoding="utf-8", errors="surrogateescape")
        first = e.render().splitlines()[0] if e.render() else type(e).__name__
        return f"reload refused, generation {meta.gen} stays in force, file restored: {first}"
    return f"wrote {edit.path}: {'; '.join(edit.lines)}; generation {meta.gen} -> {new.gen}"


def errno_ok(edit: Edit) -> bool:
    return bool(edit.lines) and not edit.why_none


def valid_errno(name: str) -> bool:
    return check_mod.errno_value(name.strip().lower()) is not None
