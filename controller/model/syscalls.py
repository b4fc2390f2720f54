"""What bpfsystrace can see of each systrace system call name.

systrace names a rule after a system call or an alias (fsread, fswrite). The
kernel side decides *operations* (abi.BST_OP_*), each served by LSM hooks and
each with one object string that rule predicates are matched against.
A name with no operation is parsed and kept, and `check` reports it as
"not enforceable" with the reason given here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .. import abi
from . import syscall_names, syscall_names_netbsd


@dataclass(frozen=True, slots=True)
class Operation:
    op: int  # abi.BST_OP_*
    name: str  # systrace name used in logs (native-NAME)
    arg: str  # the argument whose string the kernel renders
    hooks: tuple[str, ...]
    more: tuple[str, ...] = ()  # further arguments: the kernel renders "arg\0more[0]..."
    # in one string, e.g. filename[1] (rename, link), socktype and sockproto (socket)

    @property
    def parts(self) -> int:
        return 1 + len(self.more)

    @property
    def labels(self) -> tuple[str, ...]:
        """The argument of each part, as rules and logs name it."""
        return (self.arg, *self.more)

    def part(self, arg: str, index: int) -> int | None:
        """Which part of the object string `arg[index]` is (None: not rendered)."""
        label = arg if index == 0 else f"{arg}[{index}]"
        return self.labels.index(label) if label in self.labels else None

    def sees(self, arg: str, index: int) -> bool:
        return self.part(arg, index) is not None


_A = abi
OPERATIONS = {
    "fsread": Operation(_A.BST_OP_FSREAD, "fsread", "filename", ("file_open",)),
    "fswrite": Operation(_A.BST_OP_FSWRITE, "fswrite", "filename", ("file_open", "path_mknod")),
    "bind": Operation(_A.BST_OP_BIND, "bind", "sockaddr", ("socket_bind", "path_mknod", "sctp_bind_connect")),
    "connect": Operation(
        _A.BST_OP_CONNECT,
        "connect",
        "sockaddr",
        ("socket_connect", "unix_stream_connect", "unix_may_send", "sctp_bind_connect"),
    ),
    "execve": Operation(_A.BST_OP_EXECVE, "execve", "filename", ("file_open", "bprm_check_security")),
    "unlink": Operation(_A.BST_OP_UNLINK, "unlink", "filename", ("path_unlink",)),
    "mkdir": Operation(_A.BST_OP_MKDIR, "mkdir", "filename", ("path_mkdir",)),
    "rmdir": Operation(_A.BST_OP_RMDIR, "rmdir", "filename", ("path_rmdir",)),
    "mknod": Operation(_A.BST_OP_MKNOD, "mknod", "filename", ("path_mknod",)),
    "truncate": Operation(_A.BST_OP_TRUNCATE, "truncate", "filename", ("path_truncate", "file_truncate")),
    "symlink": Operation(_A.BST_OP_SYMLINK, "symlink", "filename", ("path_symlink",)),
    "chmod": Operation(_A.BST_OP_CHMOD, "chmod", "filename", ("path_chmod",)),
    "chown": Operation(_A.BST_OP_CHOWN, "chown", "filename", ("path_chown",)),
    "chroot": Operation(_A.BST_OP_CHROOT, "chroot", "filename", ("path_chroot",)),
    "rename": Operation(_A.BST_OP_RENAME, "rename", "filename", ("path_rename",), ("filename[1]",)),
    "link": Operation(_A.BST_OP_LINK, "link", "filename", ("path_link",), ("filename[1]",)),
    "stat": Operation(_A.BST_OP_STAT, "stat", "filename", ("inode_getattr",)),
    "sendto": Operation(_A.BST_OP_SENDTO, "sendto", "sockaddr", ("socket_sendmsg", "unix_may_send")),
    "setuid": Operation(_A.BST_OP_SETUID, "setuid", "uid", ("task_fix_setuid",)),
    "setgid": Operation(_A.BST_OP_SETGID, "setgid", "gid", ("task_fix_setgid",)),
    "socket": Operation(
        _A.BST_OP_SOCKET,
        "socket",
        "sockdom",
        ("socket_create", "socket_post_create"),
        ("socktype", "sockproto"),
    ),
    "listen": Operation(_A.BST_OP_LISTEN, "listen", "sockaddr", ("socket_listen",)),
    "accept": Operation(_A.BST_OP_ACCEPT, "accept", "sockaddr", ("socket_accept",)),
    "setgroups": Operation(_A.BST_OP_SETGROUPS, "setgroups", "gid", ("task_fix_setgroups",)),
    "kill": Operation(_A.BST_OP_KILL, "kill", "pidname", ("task_kill",), ("signame",)),
    # What no file or socket hook sees (bpf/mount.bpf.h, own.bpf.h, sys.bpf.h). An
    # empty arg: the call has no argument the kernel renders ("" is its object).
    "mount": Operation(_A.BST_OP_MOUNT, "mount", "filename", ("sb_mount", "move_mount"), ("fstype",)),
    "umount": Operation(_A.BST_OP_UMOUNT, "umount", "filename", ("sb_umount",)),
    "pivot_root": Operation(_A.BST_OP_PIVOT_ROOT, "pivot_root", "filename", ("sb_pivotroot",)),
    "bpf": Operation(_A.BST_OP_BPF, "bpf", "cmd", ("bpf", "bpf_map", "bpf_prog")),
    "ptrace": Operation(_A.BST_OP_PTRACE, "ptrace", "pidname", ("ptrace_access_check", "ptrace_traceme")),
    "init_module": Operation(
        _A.BST_OP_INIT_MODULE, "init_module", "", ("kernel_load_data", "kernel_module_request")
    ),
    "finit_module": Operation(_A.BST_OP_FINIT_MODULE, "finit_module", "filename", ("kernel_read_file",)),
    "kexec_load": Operation(
        _A.BST_OP_KEXEC_LOAD, "kexec_load", "", ("kernel_load_data", "kernel_read_file", "capable")
    ),
    "prctl": Operation(_A.BST_OP_PRCTL, "prctl", "cmd", ("task_prctl",)),
    "unshare": Operation(_A.BST_OP_UNSHARE, "unshare", "", ("userns_create", "capable")),
    "setns": Operation(_A.BST_OP_SETNS, "setns", "", ("capable",)),
    "sethostname": Operation(_A.BST_OP_SETHOSTNAME, "sethostname", "", ("capable",)),
    "reboot": Operation(_A.BST_OP_REBOOT, "reboot", "", ("capable",)),
    "swapon": Operation(_A.BST_OP_SWAPON, "swapon", "", ("capable",)),
    "settimeofday": Operation(_A.BST_OP_SETTIMEOFDAY, "settimeofday", "", ("capable",)),
    "iopl": Operation(_A.BST_OP_IOPL, "iopl", "", ("capable",)),
    "perf_event_open": Operation(_A.BST_OP_PERF_EVENT_OPEN, "perf_event_open", "", ("perf_event_open",)),
    "capable": Operation(_A.BST_OP_CAPABLE, "capable", "capability", ("capable",)),
    # Acting on another process, shared kernel objects, attributes (bpf/proc.bpf.h,
    # attr.bpf.h, ipc.bpf.h): a task's own process is never decided.
    "setpriority": Operation(_A.BST_OP_SETPRIORITY, "setpriority", "pidname", ("task_setnice",)),
    "ioprio_set": Operation(_A.BST_OP_IOPRIO_SET, "ioprio_set", "pidname", ("task_setioprio",)),
    "sched_setscheduler": Operation(
        _A.BST_OP_SCHED_SETSCHEDULER, "sched_setscheduler", "pidname", ("task_setscheduler",)
    ),
    "prlimit": Operation(_A.BST_OP_PRLIMIT, "prlimit", "", ("task_prlimit",)),
    "fcntl": Operation(
        _A.BST_OP_FCNTL, "fcntl", "cmd", ("file_fcntl", "file_ioctl", "file_ioctl_compat", "uring_cmd")
    ),
    "inotify_add_watch": Operation(
        _A.BST_OP_NOTIFY, "inotify_add_watch", "filename", ("path_notify", "file_fcntl")
    ),
    "setxattr": Operation(_A.BST_OP_SETXATTR, "setxattr", "", ("inode_setxattr", "inode_set_acl")),
    "removexattr": Operation(
        _A.BST_OP_REMOVEXATTR, "removexattr", "", ("inode_removexattr", "inode_remove_acl")
    ),
    "shmget": Operation(_A.BST_OP_SHMGET, "shmget", "", ("shm_associate",)),
    "shmat": Operation(_A.BST_OP_SHMAT, "shmat", "", ("shm_shmat",)),
    "shmctl": Operation(_A.BST_OP_SHMCTL, "shmctl", "", ("shm_shmctl",)),
    "msgget": Operation(_A.BST_OP_MSGGET, "msgget", "", ("msg_queue_associate",)),
    "msgsnd": Operation(_A.BST_OP_MSGSND, "msgsnd", "", ("msg_queue_msgsnd",)),
    "msgrcv": Operation(_A.BST_OP_MSGRCV, "msgrcv", "", ("msg_queue_msgrcv",)),
    "msgctl": Operation(_A.BST_OP_MSGCTL, "msgctl", "", ("msg_queue_msgctl",)),
    "semget": Operation(_A.BST_OP_SEMGET, "semget", "", ("sem_associate",)),
    "semop": Operation(_A.BST_OP_SEMOP, "semop", "", ("sem_semop",)),
    "semctl": Operation(_A.BST_OP_SEMCTL, "semctl", "", ("sem_semctl",)),
    "add_key": Operation(_A.BST_OP_ADD_KEY, "add_key", "", ("key_alloc",)),
    "keyctl": Operation(_A.BST_OP_KEYCTL, "keyctl", "", ("key_permission",)),
    "io_uring_register": Operation(
        _A.BST_OP_IO_URING_REGISTER, "io_uring_register", "", ("uring_override_creds",)
    ),
    "syslog": Operation(_A.BST_OP_SYSLOG, "syslog", "", ("syslog",)),
    "userfaultfd": Operation(_A.BST_OP_USERFAULTFD, "userfaultfd", "", ("inode_init_security_anon",)),
    "mmap": Operation(_A.BST_OP_MMAP, "mmap", "", ("mmap_addr",)),
    "utimes": Operation(_A.BST_OP_UTIMES, "utimes", "", ("inode_setattr",)),
    "getxattr": Operation(_A.BST_OP_GETXATTR, "getxattr", "", ("inode_getxattr", "inode_get_acl")),
    "listxattr": Operation(_A.BST_OP_LISTXATTR, "listxattr", "", ("inode_listxattr",)),
}

BY_OP = {o.op: o for o in OPERATIONS.values()}

# systrace rule names -> the operations their rules decide. An alias decides
# several; within one operation the rules of every name that decides it are
# tried in file order (the first match wins), as one list.
_FSWRITE_OPS = ("fswrite", "unlink", "mkdir", "rmdir", "mknod", "truncate")
NAMES: dict[str, tuple[int, ...]] = {
    name: tuple(OPERATIONS[o].op for o in ops)
    for name, ops in {
        "fsread": ("fsread", "stat"),
        "stat": ("stat",),
        "lstat": ("stat",),
        "fstatat": ("stat",),
        "newfstatat": ("stat",),
        "statx": ("stat",),
        "sendto": ("sendto",),
        "sendmsg": ("sendto",),
        **{n: ("setuid",) for n in ("setuid", "setreuid", "setresuid", "setfsuid")},
        **{n: ("setgid",) for n in ("setgid", "setregid", "setresgid", "setfsgid")},
        "fswrite": _FSWRITE_OPS,
        "bind": ("bind",),
        "connect": ("connect", "sendto"),
        "execve": ("execve",),
        "unlink": ("unlink",),
        "unlinkat": ("unlink",),
        "mkdir": ("mkdir",),
        "mkdirat": ("mkdir",),
        "rmdir": ("rmdir",),
        "mknod": ("mknod",),
        "mknodat": ("mknod",),
        "mkfifo": ("mknod",),
        "mkfifoat": ("mknod",),
        "truncate": ("truncate",),
        "ftruncate": ("truncate",),
        "symlink": ("symlink",),
        "symlinkat": ("symlink",),
        "chmod": ("chmod",),
        "fchmod": ("chmod",),
        "fchmodat": ("chmod",),
        "chown": ("chown",),
        "fchown": ("chown",),
        "lchown": ("chown",),
        "fchownat": ("chown",),
        "chroot": ("chroot",),
        "socket": ("socket",),
        "socketpair": ("socket",),
        "listen": ("listen",),
        "accept": ("accept",),
        "accept4": ("accept",),
        "setgroups": ("setgroups",),
        **{
            n: ("kill",)
            for n in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal")
        },
        "rename": ("rename",),
        "renameat": ("rename",),
        "renameat2": ("rename",),
        "link": ("link",),
        "linkat": ("link",),
        "mount": ("mount",),
        "move_mount": ("mount",),
        "umount": ("umount",),
        "umount2": ("umount",),
        "pivot_root": ("pivot_root",),
        "bpf": ("bpf",),
        **{
            n: ("ptrace",) for n in ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp")
        },
        "init_module": ("init_module",),
        "finit_module": ("finit_module",),
        "kexec_load": ("kexec_load",),
        "kexec_file_load": ("kexec_load",),
        "prctl": ("prctl",),
        "unshare": ("unshare",),
        "setns": ("setns",),
        "sethostname": ("sethostname",),
        "setdomainname": ("sethostname",),
        "reboot": ("reboot",),
        "swapon": ("swapon",),
        "swapoff": ("swapon",),
        **{n: ("settimeofday",) for n in ("settimeofday", "clock_settime", "adjtimex", "clock_adjtime")},
        "iopl": ("iopl",),
        "ioperm": ("iopl",),
        "perf_event_open": ("perf_event_open",),
        "capable": ("capable",),
        "setpriority": ("setpriority",),
        "ioprio_set": ("ioprio_set",),
        **{
            n: ("sched_setscheduler",)
            for n in ("sched_setscheduler", "sched_setparam", "sched_setattr", "sched_setaffinity")
        },
        "prlimit": ("prlimit",),
        "prlimit64": ("prlimit",),
        "fcntl": ("fcntl",),
        "ioctl": ("fcntl",),
        "inotify_add_watch": ("inotify_add_watch",),
        "fanotify_mark": ("inotify_add_watch",),
        **{n: ("setxattr",) for n in ("setxattr", "lsetxattr", "fsetxattr")},
        **{n: ("removexattr",) for n in ("removexattr", "lremovexattr", "fremovexattr")},
        **{n: (n,) for n in ("shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl")},
        **{n: (n,) for n in ("semget", "semop", "semctl")},
        "semtimedop": ("semop",),
        "keyctl": ("keyctl",),
        "add_key": ("add_key", "keyctl"),
        "request_key": ("add_key", "keyctl"),
        "io_uring_register": ("io_uring_register",),
        "syslog": ("syslog",),
        "userfaultfd": ("userfaultfd",),
        "mmap": ("mmap",),
        "mremap": ("mmap",),
        **{n: ("utimes",) for n in ("utimes", "utimensat", "futimes", "futimesat", "futimens", "utime")},
        **{n: ("getxattr",) for n in ("getxattr", "lgetxattr", "fgetxattr")},
        **{n: ("listxattr",) for n in ("listxattr", "llistxattr", "flistxattr")},
    }.items()
}


def ops_of(name: str) -> tuple[Operation, ...]:
    """The operations a rule named `name` decides (empty: not enforceable)."""
    return tuple(BY_OP[o] for o in NAMES.get(name, ()))


# systrace's argument names (its translators); anything else is a typo.
ARG_NAMES = frozenset(
    {
        "filename",
        "sockaddr",
        "oflags",
        "mode",
        "uid",
        "uname",
        "gid",
        "fd",
        "sockdom",
        "socktype",
        "sockproto",
        "pidname",
        "signame",
        "cmd",
        "prot",
        "flags",
        "argv",
        "string",
        "fstype",
        "capability",  # bpfsystrace's: mount's file system type, capable's name
    }
)

# Names no LSM hook used by bpfsystrace sees, with the reason `check` prints.
# Anything not listed and not in OPERATIONS gets the generic reason.
WHY_NOT = {
    "mprotect": "memory protection is not mediated by the hooks bpfsystrace uses",
    "munmap": "unmapping memory is not an access decision",
    "read": "reads of an open descriptor are not re-checked; the open is (fsread)",
    "write": "writes to an open descriptor are not re-checked; the open is (fswrite)",
    "close": "closing a descriptor is not an access decision",
    "exit": "exiting is not an access decision",
    "fork": "fork is not mediated; children stay in the cgroup and stay confined",
    "getpid": "no LSM hook sees getpid",
    "fstat": "fstat of an open descriptor is not re-checked; the open was (fsread)",
    "access": "access(2) reaches only inode_permission, which has no path (no mount): "
    "the path cannot be rendered",
    "faccessat": "access(2) reaches only inode_permission, which has no path (no mount): "
    "the path cannot be rendered",
    "readlink": "readlink(2) reaches only inode_readlink, which has a dentry but no mount: "
    "the path cannot be rendered",
    "readlinkat": "readlink(2) reaches only inode_readlink, which has a dentry but no mount: "
    "the path cannot be rendered",
    "chdir": "chdir(2) has no path hook; the directory's files are still checked when used",
    "fchdir": "fchdir(2) has no LSM hook",
    "gettimeofday": "no LSM hook sees gettimeofday",
}


GENERIC = "no LSM hook that bpfsystrace uses sees this call (enforced: " + ", ".join(sorted(NAMES)) + ")"


def known(name: str) -> bool:
    """Whether `name` is a system call (Linux's, OpenBSD's or NetBSD's) or a name systrace or
    bpfsystrace gives rules; anything else is a typo."""
    return (
        name in NAMES
        or name in OPERATIONS
        or name in WHY_NOT
        or name in syscall_names.LINUX
        or name in syscall_names.OPENBSD
        or name in syscall_names_netbsd.NETBSD
    )


def near(name: str) -> str | None:
    """The known name closest to a typo: an enforced one first."""
    close = difflib.get_close_matches(name, [*NAMES, *OPERATIONS], 1, 0.7) or difflib.get_close_matches(
        name, sorted(syscall_names.LINUX | syscall_names.OPENBSD | syscall_names_netbsd.NETBSD), 1, 0.7
    )
    return close[0] if close else None


def why_not_enforceable(name: str) -> str:
    return WHY_NOT.get(name, GENERIC)
