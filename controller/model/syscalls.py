"""What bpfsystrace can see of each systrace system call name.

systrace names a rule after a system call or an alias (fsread, fswrite). The
kernel side decides *operations* (abi.BST_OP_*), each served by LSM hooks and
each with one object string that rule predicates are matched against.
A name with no operation is parsed and kept, and `check` reports it as
"not enforceable" with the reason given here.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import abi


@dataclass(frozen=True, slots=True)
class Operation:
    op: int            # abi.BST_OP_*
    name: str          # systrace name of the rules that decide it
    arg: str           # the argument whose string the kernel renders
    hooks: tuple[str, ...]


OPERATIONS = {
    "fsread": Operation(abi.BST_OP_FSREAD, "fsread", "filename", ("file_open",)),
    "fswrite": Operation(abi.BST_OP_FSWRITE, "fswrite", "filename", ("file_open",)),
    "bind": Operation(abi.BST_OP_BIND, "bind", "sockaddr", ("socket_bind",)),
    "connect": Operation(abi.BST_OP_CONNECT, "connect", "sockaddr", ("socket_connect",)),
    "execve": Operation(abi.BST_OP_EXECVE, "execve", "filename", ("file_open", "bprm_check_security")),
}

BY_OP = {o.op: o for o in OPERATIONS.values()}

# systrace's argument names (its translators); anything else is a typo.
ARG_NAMES = frozenset({
    "filename", "sockaddr", "oflags", "mode", "uid", "uname", "gid", "fd", "sockdom",
    "socktype", "pidname", "signame", "cmd", "prot", "flags", "argv", "string",
})

# Names no LSM hook used by bpfsystrace sees, with the reason `check` prints.
# Anything not listed and not in OPERATIONS gets the generic reason.
WHY_NOT = {
    "mmap": "memory mapping is not mediated by the hooks bpfsystrace uses",
    "mprotect": "memory protection is not mediated by the hooks bpfsystrace uses",
    "munmap": "unmapping memory is not an access decision",
    "read": "reads of an open descriptor are not re-checked; the open is (fsread)",
    "write": "writes to an open descriptor are not re-checked; the open is (fswrite)",
    "close": "closing a descriptor is not an access decision",
    "exit": "exiting is not an access decision",
    "fork": "fork is not mediated; children stay in the cgroup and stay confined",
    "getpid": "no LSM hook sees getpid",
    "gettimeofday": "no LSM hook sees gettimeofday",
}


GENERIC = ("no LSM hook that bpfsystrace uses sees this call (enforced: "
           + ", ".join(sorted(OPERATIONS)) + ")")


def why_not_enforceable(name: str) -> str:
    return WHY_NOT.get(name, GENERIC)
