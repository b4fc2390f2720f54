"""Which capabilities a policy gives its program: the calls it permits need them.

systrace decided system calls; Linux also asks a capability for many of them
(bind to a port below 1024, chroot, setuid ...), and root holds every one.
The kernel side decides each capability check of a confined task as
`native-capable` on the capability's name (bpf/sys.bpf.h). Its rules are
written here, in Python, from this table: a capability is permitted when the
policy has a permit rule (with or without a condition) for one of the
system call names that need it, and denied otherwise, so root inside a
policy holds only the capabilities its permitted calls need.
docs/policy-language.md prints the same table; a test keeps them equal.

A policy may also name a capability itself, before the generated rule:
`native-capable: capability eq "CAP_NET_ADMIN" then permit` (or deny).
"""

from __future__ import annotations

import functools

from .. import abi
from . import objects, syscalls
from .kernel_names import CAPABILITIES
from .reference import atom_holds
from .types import Atom, Const, Expr, Or, Rule, atoms, evaluate

_CHOWN = ("chown", "fchown", "lchown", "fchownat")
_CHMOD = ("chmod", "fchmod", "fchmodat")
_KILL = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal")
_SETUID = ("setuid", "setreuid", "setresuid", "setfsuid")
_SETGID = ("setgid", "setregid", "setresgid", "setfsgid", "setgroups")
_TIME = ("settimeofday", "clock_settime", "adjtimex", "clock_adjtime")
_MOUNT = ("mount", "move_mount", "umount", "umount2", "pivot_root")
_PTRACE = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp")

# capability -> the system call names (systrace's, aliases included) that need it
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "CAP_CHOWN": _CHOWN,
    "CAP_DAC_OVERRIDE": ("fsread", "fswrite"),
    "CAP_DAC_READ_SEARCH": ("fsread", "fswrite"),
    "CAP_FOWNER": ("fswrite",)
    + _CHMOD
    + _CHOWN
    + ("unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir", "utimes", "utimensat", "futimes"),
    "CAP_FSETID": _CHMOD + _CHOWN,
    "CAP_KILL": _KILL,
    "CAP_SETGID": _SETGID,
    "CAP_SETUID": _SETUID,
    "CAP_SETPCAP": ("capset", "prctl"),
    "CAP_NET_BIND_SERVICE": ("bind",),
    "CAP_NET_RAW": ("socket", "socketpair"),
    "CAP_IPC_LOCK": ("mlock", "mlock2", "mlockall"),
    "CAP_SYS_MODULE": ("init_module", "finit_module", "delete_module"),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_PTRACE": _PTRACE,
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_ADMIN": _MOUNT
    + ("unshare", "setns", "sethostname", "setdomainname", "swapon", "swapoff", "bpf", "quotactl"),
    "CAP_SYS_BOOT": ("reboot", "kexec_load", "kexec_file_load"),
    "CAP_SYS_NICE": (
        "setpriority",
        "sched_setscheduler",
        "sched_setparam",
        "sched_setaffinity",
        "ioprio_set",
    ),
    "CAP_SYS_RESOURCE": ("setrlimit", "prlimit64"),
    "CAP_SYS_TIME": _TIME,
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_MKNOD": ("mknod", "mknodat"),
    "CAP_SYSLOG": ("syslog",),
    "CAP_PERFMON": ("perf_event_open", "bpf"),
    "CAP_BPF": ("bpf",),
}
assert set(NEEDED_BY) <= set(CAPABILITIES)


# The sockets CAP_NET_RAW opens, as socket_create renders them (AF_PACKET
# is AF_UNKNOWN(17), SOCK_PACKET SOCK_UNKNOWN(10)), with any protocol: a policy
# gives CAP_NET_RAW only when one of its socket rules permits one of these, not
# for any socket rule (a policy naming SOCK_STREAM and SOCK_DGRAM opens no raw
# socket, root or not). The protocols tried are every inet one (0-262, also
# tried as "proto(N)") and the values the rule's sockproto atoms name.
RAW_SOCKETS = (
    ("AF_INET", "SOCK_RAW"),
    ("AF_INET6", "SOCK_RAW"),
    ("AF_UNKNOWN(17)", "SOCK_RAW"),
    ("AF_UNKNOWN(17)", "SOCK_DGRAM"),
    ("AF_INET", "SOCK_UNKNOWN(10)"),
)


@functools.cache
def _protocols() -> tuple[str, ...]:
    """Every protocol a raw socket's sockproto can render: each inet one (0-262)
    by its name and as proto(N) (made on first use, not at every command's start)."""
    return tuple(sorted({objects.sockproto(d, n) for d in (2, 17) for n in range(263)}))


def permits_raw(rule: Rule) -> bool:
    """Whether a socket rule's condition holds for a raw or packet socket."""
    op = syscalls.OPERATIONS["socket"]
    named = tuple(a.value for a in atoms(rule.expr) if a.arg == "sockproto")
    for dom, typ in RAW_SOCKETS:
        for proto in (*_protocols(), *named) if named else ("",):
            parts = (dom, typ, proto)

            def part(a, parts=parts):
                i = op.part(a.arg, a.index)
                return parts[i] if i is not None else ""

            if evaluate(rule.expr, lambda a: atom_holds(a, part(a))):
                return True
    return False


def needed(rules) -> tuple[str, ...]:
    """The capabilities the permit rules among `rules` need, in the kernel's order."""
    rules = list(rules)
    permitted = {r.syscall for r in rules if r.action == "permit"}
    raw = any(
        r.action == "permit" and r.syscall in NEEDED_BY["CAP_NET_RAW"] and permits_raw(r) for r in rules
    )
    return tuple(
        c
        for c in CAPABILITIES
        if (raw if c == "CAP_NET_RAW" else any(n in permitted for n in NEEDED_BY.get(c, ())))
    )


def rule(rules, coord) -> Rule | None:
    """The generated `native-capable` rule for a policy's rules (None: no capability)."""
    caps = needed(rules)
    if not caps:
        return None
    expr: Expr = Const(False)
    for c in caps:
        atom = Atom("capability", 0, "eq", c)
        expr = atom if isinstance(expr, Const) else Or(expr, atom)
    source = "native-capable: " + " or ".join(f'capability eq "{c}"' for c in caps) + " then permit"
    return Rule(
        "capable",
        (abi.BST_OP_CAPABLE,),
        expr,
        "permit",
        0,
        "",
        False,
        coord,
        source,
        approx="generated: the capabilities the permitted calls need",
    )
