"""ctypes mirror of bpf/bpfsystrace.h — the only Python copy of the kernel ABI.

Names and field order follow the C header exactly (bst_event -> BstEvent);
tests/abi/test_layout.py compiles the header and compares sizes and offsets.
"""

from __future__ import annotations

import ctypes as C

BST_ABI_VERSION = 10

BST_MAX_TARGETS = 64
BST_MAX_DEPTH = 16
BST_MAX_EXES = 4096
BST_EXE_PATH_MAX = 256
BST_MAX_POLICY_OPS = 16384
BST_MAX_PARTS = 16
BST_MAX_STATES = 524288
BST_MAX_CELLS = 1048576
BST_MAX_REGIONS = 1024
BST_MAX_RULES = 262144
BST_PATH_MAX = 4096
BST_EVENT_STR = 256
BST_RINGBUF_SIZE = 1 << 20
BST_MAX_SEEN = 65536

BST_OP_FSREAD = 0
BST_OP_FSWRITE = 1
BST_OP_BIND = 2
BST_OP_CONNECT = 3
BST_OP_EXECVE = 4
BST_OP_UNLINK = 5
BST_OP_MKDIR = 6
BST_OP_RMDIR = 7
BST_OP_MKNOD = 8
BST_OP_TRUNCATE = 9
BST_OP_SYMLINK = 10
BST_OP_CHMOD = 11
BST_OP_CHOWN = 12
BST_OP_CHROOT = 13
BST_OP_RENAME = 14
BST_OP_LINK = 15
BST_OP_STAT = 16
BST_OP_SENDTO = 17
BST_OP_SETUID = 18
BST_OP_SETGID = 19
BST_OP_SOCKET = 20
BST_OP_LISTEN = 21
BST_OP_ACCEPT = 22
BST_OP_SETGROUPS = 23
BST_OP_KILL = 24
BST_OP_MOUNT = 25
BST_OP_UMOUNT = 26
BST_OP_PIVOT_ROOT = 27
BST_OP_BPF = 28
BST_OP_PTRACE = 29
BST_OP_INIT_MODULE = 30
BST_OP_FINIT_MODULE = 31
BST_OP_KEXEC_LOAD = 32
BST_OP_PRCTL = 33
BST_OP_UNSHARE = 34
BST_OP_SETNS = 35
BST_OP_SETHOSTNAME = 36
BST_OP_REBOOT = 37
BST_OP_SWAPON = 38
BST_OP_SETTIMEOFDAY = 39
BST_OP_IOPL = 40
BST_OP_PERF_EVENT_OPEN = 41
BST_OP_CAPABLE = 42
BST_OP_SETPRIORITY = 43
BST_OP_IOPRIO_SET = 44
BST_OP_SCHED_SETSCHEDULER = 45
BST_OP_PRLIMIT = 46
BST_OP_FCNTL = 47
BST_OP_NOTIFY = 48
BST_OP_SETXATTR = 49
BST_OP_REMOVEXATTR = 50
BST_OP_SHMGET = 51
BST_OP_SHMAT = 52
BST_OP_SHMCTL = 53
BST_OP_MSGGET = 54
BST_OP_MSGSND = 55
BST_OP_MSGRCV = 56
BST_OP_MSGCTL = 57
BST_OP_SEMGET = 58
BST_OP_SEMOP = 59
BST_OP_SEMCTL = 60
BST_OP_ADD_KEY = 61
BST_OP_KEYCTL = 62
BST_OP_IO_URING_REGISTER = 63
BST_OP_SYSLOG = 64
BST_OP_USERFAULTFD = 65
BST_OP_MMAP = 66
BST_OP_UTIMES = 67
BST_OP_GETXATTR = 68
BST_OP_LISTXATTR = 69
BST_NR_OPS = 70

BST_TARGET_MANAGER = 0x1
BST_TARGET_AUDIT = 0x2
BST_TARGET_LEARN = 0x4
BST_STATE_FINAL = 0x1
BST_RULE_LOG = 0x1
BST_RULE_IMPLICIT = 0x2
BST_RULE_INHERIT = 0x4
BST_RULE_DETACH = 0x8
BST_EV_DENIED = 0x1
BST_EV_TRUNCATED = 0x2
BST_EV_AUDIT = 0x4
BST_EV_LEARN = 0x8
BST_EV_INTERP = 0x10
BST_EV_NOT_A_NAME = 0x20
BST_RULE_NONE = 0xFFFFFFFF
BST_POLICY_NONE = 0xFFFFFFFF

BST_CNT_LOST_EVENTS = 0
BST_CNT_PATH_ERROR = 1
BST_CNT_TOO_LONG = 2
BST_CNT_MAP_MISSING = 3
BST_CNT_NO_MEMORY = 4
BST_CNT_MANAGER = 5
BST_CNT_EXEC_TRANSITION = 6
BST_CNT_LEARN_SEEN = 7
BST_CNT_EXEC_INHERIT = 8
BST_CNT_EXEC_DETACH = 9
BST_CNT_DISCONNECTED = 10
BST_CNT_OWN_OBJECT = 11
BST_CNT_EXEC_ENTRY = 12
BST_CNT_EXE_BY_PATH = 13
BST_CNT_CLONE_CGROUP = 14
BST_CNT_INSECURE_EXEC = 15
BST_NR_COUNTERS = 16

BST_OWN_MAP = 1
BST_OWN_PROG = 2
BST_OWN_LINK = 3
BST_OWN_PIN = 4
BST_OWN_SB = 5
BST_MAX_OWN = 1024

u32, s32, u64 = C.c_uint32, C.c_int32, C.c_uint64


class _Struct(C.Structure):
    def __repr__(self) -> str:
        vals = ", ".join(f"{n}={getattr(self, n)!r}" for n, *_ in self._fields_ if n != "pad")
        return f"{type(self).__name__}({vals})"


class BstTarget(_Struct):
    _fields_ = [
        ("gen", u32),
        ("default_policy", u32),
        ("flags", u32),
        ("manager_dev", u32),
        ("manager_ino", u64),
        ("attach_id", u64),
    ]


class BstExeKey(_Struct):
    _fields_ = [("gen", u32), ("dev", u32), ("ino", u64)]


class BstExePathKey(_Struct):
    _fields_ = [("gen", u32), ("pad", u32), ("path", C.c_char * BST_EXE_PATH_MAX)]


class BstPolicyOpKey(_Struct):
    _fields_ = [("gen", u32), ("policy", u32), ("op", u32), ("part", u32)]


class BstPolicyOp(_Struct):
    _fields_ = [
        ("start", u32),
        ("state_base", u32),
        ("nstates", u32),
        ("cell_base", u32),
        ("ncells", u32),
        ("rule_base", u32),
        ("nparts", u32),
        ("first_rule", u32),
    ]


class BstState(_Struct):
    _fields_ = [("base", u32), ("next", u32), ("rule", u32), ("flags", u32)]


class BstCell(_Struct):
    _fields_ = [("check", u32), ("next", u32)]


class BstRegionKey(_Struct):
    _fields_ = [("gen", u32)]


class BstRegion(_Struct):
    _fields_ = [("state_base", u32), ("nstates", u32), ("cell_base", u32), ("ncells", u32)]


class BstOwnKey(_Struct):
    _fields_ = [("kind", u32), ("dev", u32), ("id", u64)]


class BstRuleKey(_Struct):
    _fields_ = [("gen", u32), ("rule", u32)]


class BstRule(_Struct):
    _fields_ = [("errno_", s32), ("flags", u32), ("policy", u32), ("op", u32)]


class BstSeenKey(_Struct):
    _fields_ = [("gen", u32), ("op", u32), ("exe_dev", u32), ("pad", u32), ("exe_ino", u64), ("hash", u64)]


class BstEvent(_Struct):
    _fields_ = [
        ("ts_ns", u64),
        ("cgroup_id", u64),
        ("target_id", u64),
        ("pid", u32),
        ("tid", u32),
        ("ppid", u32),
        ("uid", u32),
        ("gen", u32),
        ("policy", u32),
        ("rule", u32),
        ("op", u32),
        ("errno_", s32),
        ("flags", u32),
        ("str_len", u32),
        ("exe_dev", u32),
        ("exe_ino", u64),
        ("comm", C.c_char * 16),
        ("str", C.c_char * BST_EVENT_STR),
    ]


# Every mirrored struct, by its C name (the layout test walks this).
STRUCTS = {
    "bst_target": BstTarget,
    "bst_exe_key": BstExeKey,
    "bst_exe_path_key": BstExePathKey,
    "bst_policy_op_key": BstPolicyOpKey,
    "bst_policy_op": BstPolicyOp,
    "bst_state": BstState,
    "bst_cell": BstCell,
    "bst_region_key": BstRegionKey,
    "bst_region": BstRegion,
    "bst_rule_key": BstRuleKey,
    "bst_own_key": BstOwnKey,
    "bst_rule": BstRule,
    "bst_seen_key": BstSeenKey,
    "bst_event": BstEvent,
}


def generation_bytes(nstates: int, ncells: int, npolicy_ops: int, nrules: int) -> int:
    """What one generation takes in the kernel's maps (values and keys): its
    region of the tables, one policy_ops entry per automaton, a rule record
    and a hit counter per rule, its region entry. compile's
    Records.kernel_bytes() and kernel's regions.generation_bytes() both count
    with this, from what they hold."""
    return (
        C.sizeof(BstState) * nstates
        + C.sizeof(BstCell) * ncells
        + (C.sizeof(BstPolicyOpKey) + C.sizeof(BstPolicyOp)) * npolicy_ops
        + (C.sizeof(BstRuleKey) + C.sizeof(BstRule) + C.sizeof(C.c_uint64)) * nrules
        + C.sizeof(BstRegionKey)
        + C.sizeof(BstRegion)
    )
