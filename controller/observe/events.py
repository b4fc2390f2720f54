"""Kernel events (abi.BstEvent records) -> Event values, and their log text.

An event is emitted for every denial and every permitted match of a rule
marked `log`; in audit mode for every denial the kernel did not make (flag
audit: `errno` is what it would have returned), and in learn mode once per
new (executable, operation, object). `systrace_line()` renders it in systrace's syslog format,
adapted honestly to Linux: the operation name stands where systrace printed
the system call number, and the errno and the deciding rule are added.
"""

from __future__ import annotations

import errno as _errno
import pwd
import time
from dataclasses import dataclass

from .. import abi
from ..model import syscalls
from .escape import escape


@dataclass(frozen=True, slots=True)
class Event:
    ts_ns: int
    pid: int
    tid: int
    ppid: int
    uid: int
    comm: str
    cgroup_id: int
    target_id: int
    gen: int
    policy: int
    rule: int
    op: str
    errno: int
    obj: str
    truncated: bool
    audit: bool = False  # audit mode: would have been denied with `errno`; permitted
    learn: bool = False  # learn mode: first sighting of (exe, op, obj)
    interp: bool = False  # learn mode: ELF interpreter read for the execve of exe
    exe_dev: int = 0  # the task's executable (kernel dev_t, inode)
    exe_ino: int = 0
    not_a_name: bool = False  # denied: a disconnected dentry or a mount outside the namespace

    @property
    def denied(self) -> bool:
        return self.errno != 0 and not self.audit

    @property
    def action(self) -> str:
        """deny, permit, audit_deny (audit mode) or learn."""
        if self.learn:
            return "learn"
        if self.audit:
            return "audit_deny"
        return "deny" if self.errno else "permit"


def wall_time(ts_ns: int) -> float:
    """An event's bpf_ktime_get_boot_ns() as a Unix time (this boot only)."""
    return time.time() - (time.clock_gettime(time.CLOCK_BOOTTIME) - ts_ns / 1e9)


def decode(data: bytes) -> Event:
    ev = abi.BstEvent.from_buffer_copy(data[: abi.C.sizeof(abi.BstEvent)])
    op = syscalls.BY_OP.get(ev.op)
    return Event(
        ev.ts_ns,
        ev.pid,
        ev.tid,
        ev.ppid,
        ev.uid,
        ev.comm.decode(errors="replace"),
        ev.cgroup_id,
        ev.target_id,
        ev.gen,
        ev.policy,
        ev.rule,
        op.name if op else f"op{ev.op}",
        ev.errno_,
        _object(ev),
        bool(ev.flags & abi.BST_EV_TRUNCATED),
        bool(ev.flags & abi.BST_EV_AUDIT),
        bool(ev.flags & abi.BST_EV_LEARN),
        bool(ev.flags & abi.BST_EV_INTERP),
        ev.exe_dev,
        ev.exe_ino,
        bool(ev.flags & abi.BST_EV_NOT_A_NAME),
    )


def _object(ev) -> str:
    """The object string; rename, link, mount, socket and kill carry several, "first\\0second"."""
    n = min(ev.str_len, abi.BST_EVENT_STR - 1)
    raw = abi.C.string_at(abi.C.addressof(ev) + abi.BstEvent.str.offset, n)  # past the NUL
    op = syscalls.BY_OP.get(ev.op)
    if op is not None and op.parts > 1:
        return raw.decode(errors="replace")
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def systrace_line(ev: Event, meta) -> str:
    """`deny user: U, prog: P, pid: N(0)[PPID], policy: NAME, filters: N, syscall: ...`,
    one line: control characters in names are escaped (escape.py)."""
    policy_name, filters, where = f"generation {ev.gen} policy {ev.policy}", 0, ""
    if meta is not None and meta.gen == ev.gen:
        policy_name = meta.policy_name(ev.policy)
        # rules, not their copies: an alias's rule decides several operations; the
        # generated native-capable rule is not one the policy's author wrote
        filters = len(
            {
                r["where"]
                for r in meta.rules
                if r["policy"] == ev.policy and not r["implicit"] and not r.get("generated")
            }
        )
        if ev.rule < len(meta.rules):
            r = meta.rules[ev.rule]
            where = f", rule: {r['where']}" if r["where"] else ", rule: no rule matched"
    if ev.rule == abi.BST_RULE_NONE:
        where = ", rule: none (not decidable in the kernel: denied)"
    op = syscalls.OPERATIONS.get(ev.op)
    arg = op.arg if op else "filename"
    verdict = {"audit_deny": "audit deny", "learn": "learn"}.get(ev.action, ev.action)
    err = f", errno: {_errno.errorcode.get(ev.errno, ev.errno)}" if ev.errno else ""
    more = "..." if ev.truncated else ""
    if op is not None and not op.arg:  # reboot, sethostname ...: no argument
        return (
            f"{verdict} user: {_user(ev.uid)}, prog: {ev.comm}, pid: {ev.pid}(0)[{ev.ppid}], "
            f"policy: {policy_name}, filters: {filters}, syscall: native-{ev.op}"
            f"{err}{where}"
        )
    if not ev.obj and ev.op == "setgroups" and ev.rule != abi.BST_RULE_NONE:
        obj = "<empty list>"  # setgroups(0, NULL): decided on ""
    elif ev.not_a_name:
        obj = "<not a name: a file opened by handle, or in a detached or foreign mount>"
    else:
        obj = ev.obj or (
            "<longer than PATH_MAX>"
            if ev.errno == _errno.ENAMETOOLONG
            else "<unknown: the kernel could not render it>"
        )
    if op is not None and op.parts > 1:
        first, *rest = obj.split("\0", op.parts - 1)
        obj = ", ".join([first, *(f"{label}: {v}" for label, v in zip(op.more, rest, strict=False))])
    return escape(
        f"{verdict} user: {_user(ev.uid)}, prog: {ev.comm}, pid: {ev.pid}(0)[{ev.ppid}], "
        f"policy: {policy_name}, filters: {filters}, syscall: native-{ev.op}, "
        f"{arg}: {obj}{more}{err}{where}"
    )
