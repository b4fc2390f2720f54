"""System call names that `bpfsystrace check` accepts as real.

A rule's system call name is known when it is one of these, a systrace alias
(fsread, fswrite, ...), or a name bpfsystrace itself decides (syscalls.py);
anything else is reported as a typo. Two sets, because policies come from two
worlds: Linux programs, and systrace policies written for OpenBSD 3.x-4.x that
name calls the way OpenBSD's kernel did (break, __sysctl, issetugid, ...).

Generated once by a throwaway script and written out as literals, so importing
this module reads no header. Membership only: nothing here says a call is
enforced.
"""

# Linux: every __NR_<name> of /usr/include/x86_64-linux-gnu/asm/unistd_64.h (linux-libc-dev
# 6.1.192-3, 362 calls), plus the __NR_<name> / __NR3264_<name> names of
# /usr/include/asm-generic/unistd.h that x86-64 lacks (the other architectures' calls:
# fcntl64, llseek, mmap2, clock_gettime64, ...; not __NR_syscalls or __NR_arch_specific_syscall),
# plus libc wrapper names that policies use but that are no kernel entry point (wait, waitpid,
# signal, sigaction, sigprocmask, sigreturn, sigsuspend, pread, pwrite, futimens, utime, creat,
# accept4), plus the calls Linux added after 6.1 (to 6.18): cachestat, fchmodat2, futex_wake,
# futex_wait, futex_requeue, map_shadow_stack, statmount, listmount, lsm_*, mseal, the *xattrat
# calls, open_tree_attr, file_getattr, file_setattr, uretprobe, uprobe.
# fmt: off
LINUX = frozenset(
    {
        "cachestat", "fchmodat2", "futex_wake", "futex_wait", "futex_requeue", "map_shadow_stack",
        "statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
        "mseal", "setxattrat", "getxattrat", "listxattrat", "removexattrat", "open_tree_attr",
        "file_getattr", "file_setattr", "uretprobe", "uprobe",
        "_sysctl", "accept", "accept4", "access", "acct", "add_key", "adjtimex", "afs_syscall",
        "alarm", "arch_prctl", "bind", "bpf", "brk", "capget", "capset", "chdir", "chmod", "chown",
        "chroot", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
        "clock_settime", "clock_settime64", "clone", "clone3", "close", "close_range", "connect",
        "copy_file_range", "creat", "create_module", "delete_module", "dup", "dup2", "dup3",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
        "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
        "fanotify_init", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat",
        "fcntl", "fcntl64", "fdatasync", "fgetxattr", "finit_module", "flistxattr", "flock", "fork",
        "fremovexattr", "fsconfig", "fsetxattr", "fsmount", "fsopen", "fspick", "fstat", "fstat64",
        "fstatat", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
        "futex", "futex_time64", "futex_waitv", "futimens", "futimesat", "get_kernel_syms",
        "get_mempolicy", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
        "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername",
        "getpgid", "getpgrp", "getpid", "getpmsg", "getppid", "getpriority", "getrandom",
        "getresgid", "getresuid", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
        "gettid", "gettimeofday", "getuid", "getxattr", "init_module", "inotify_add_watch",
        "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
        "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
        "io_uring_enter", "io_uring_register", "io_uring_setup", "ioctl", "ioperm", "iopl",
        "ioprio_get", "ioprio_set", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "kill",
        "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
        "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "llseek",
        "lookup_dcookie", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
        "mbind", "membarrier", "memfd_create", "memfd_secret", "migrate_pages", "mincore", "mkdir",
        "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "modify_ldt",
        "mount", "mount_setattr", "move_mount", "move_pages", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
        "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
        "nfsservctl", "open", "open_by_handle_at", "open_tree", "openat", "openat2", "pause",
        "perf_event_open", "personality", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe",
        "pipe2", "pivot_root", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
        "ppoll_time64", "prctl", "pread", "pread64", "preadv", "preadv2", "prlimit64",
        "process_madvise", "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6",
        "pselect6_time64", "ptrace", "putpmsg", "pwrite", "pwrite64", "pwritev", "pwritev2",
        "query_module", "quotactl", "quotactl_fd", "read", "readahead", "readlink", "readlinkat",
        "readv", "reboot", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
        "removexattr", "rename", "renameat", "renameat2", "request_key", "restart_syscall", "rmdir",
        "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
        "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
        "security", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64",
        "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_mempolicy",
        "set_mempolicy_home_node", "set_robust_list", "set_thread_area", "set_tid_address",
        "setdomainname", "setfsgid", "setfsuid", "setgid", "setgroups", "sethostname", "setitimer",
        "setns", "setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
        "setrlimit", "setsid", "setsockopt", "settimeofday", "setuid", "setxattr", "shmat",
        "shmctl", "shmdt", "shmget", "shutdown", "sigaction", "sigaltstack", "signal", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "sigsuspend", "socket", "socketpair", "splice",
        "stat", "stat64", "statfs", "statfs64", "statx", "swapoff", "swapon", "symlink",
        "symlinkat", "sync", "sync_file_range", "sync_file_range2", "syncfs", "sysfs", "sysinfo",
        "syslog", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
        "tkill", "truncate", "truncate64", "tuxcall", "umask", "umount2", "uname", "unlink",
        "unlinkat", "unshare", "uselib", "userfaultfd", "ustat", "utime", "utimensat",
        "utimensat_time64", "utimes", "vfork", "vhangup", "vmsplice", "vserver", "wait", "wait4",
        "waitid", "waitpid", "write", "writev",
    }
)
# fmt: on

# OpenBSD: the names of sys/kern/syscalls.master, the union of three versions:
#   1.75 2004/07/15 (OpenBSD 3.6), GitHub NCommander/openbsd-src-with-branches,
#     commit 02d05b6471460b39b0c68dc41c83e7120637a3ef
#   1.117 2011/07/09 (OpenBSD 5.0), GitHub openbsd/src,
#     commit f8c769f8139fff0682292241e8b83d86c1ea383d
#   1.266 2025/01/06, GitHub Sashan/src (a mirror of openbsd/src),
#     commit 265328c200f63e0342ec1a3285b5369c21b30dd4
# STD/NOARGS/NODEF/INDIR entries give their function without sys_ and any alias after the
# braces (sys_obreak: obreak and break); compat entries (COMPAT_43, COMPAT_25, ...) give their
# alias (ocreat, stat43, ...), or the function when they have none (omsync, swapon);
# UNIMPL and OBSOL entries give nothing.
# fmt: off
OPENBSD = frozenset(
    {
        "__get_tcb", "__getcwd", "__realpath", "__semctl", "__set_tcb", "__syscall", "__sysctl",
        "__tfork", "__threxit", "__thrsigdivert", "__thrsleep", "__thrwakeup", "__tmpfd", "accept",
        "accept4", "access", "acct", "adjfreq", "adjtime", "bind", "break", "chdir", "chflags",
        "chflagsat", "chmod", "chown", "chroot", "clock_getres", "clock_gettime", "clock_settime",
        "close", "closefrom", "connect", "dup", "dup2", "dup3", "execve", "exit",
        "extattr_delete_fd", "extattr_delete_file", "extattr_get_fd", "extattr_get_file",
        "extattr_set_fd", "extattr_set_file", "extattrctl", "faccessat", "fchdir", "fchflags",
        "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fhopen", "fhstat", "fhstatfs",
        "flock", "fork", "fpathconf", "fstat", "fstat35", "fstat43", "fstatat", "fstatfs", "fsync",
        "ftruncate", "futex", "futimens", "futimes", "getdents", "getdirentries", "getdtablecount",
        "getegid", "getentropy", "geteuid", "getfh", "getfsstat", "getgid", "getgroups",
        "getitimer", "getlogin", "getlogin_r", "getpeereid", "getpeername", "getpgid", "getpgrp",
        "getpid", "getppid", "getpriority", "getresgid", "getresuid", "getrlimit", "getrtable",
        "getrusage", "getsid", "getsockname", "getsockopt", "getthrid", "getthrname",
        "gettimeofday", "getuid", "ioctl", "issetugid", "kbind", "kevent", "kill", "kqueue",
        "kqueue1", "ktrace", "lchown", "lfs_bmapv", "lfs_markv", "lfs_segclean", "lfs_segwait",
        "link", "linkat", "listen", "lkmnosys", "lseek", "lstat", "lstat35", "lstat43", "madvise",
        "mimmutable", "mincore", "minherit", "mkdir", "mkdirat", "mkfifo", "mkfifoat", "mknod",
        "mknodat", "mlock", "mlockall", "mmap", "mount", "mprotect", "mquery", "msgctl", "msgctl23",
        "msgctl35", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "nanosleep", "nfssvc", "nnpfspioctl", "oaccept", "obreak", "ocreat", "oftruncate",
        "ogetdirentries", "ogetdomainname", "ogetdtablesize", "ogetfsstat", "ogethostid",
        "ogethostname", "ogetkerninfo", "ogetpagesize", "ogetpeername", "ogetrlimit",
        "ogetsockname", "okillpg", "olseek", "ommap", "omsgsys", "omsync", "open", "openat",
        "opipe", "oquota", "orecv", "orecvfrom", "orecvmsg", "osemsys", "osend", "osendmsg",
        "osetdomainname", "osethostid", "osethostname", "osetrlimit", "oshmsys", "osigaltstack",
        "osigblock", "osigsetmask", "osigstack", "osigvec", "ostatfs", "otruncate", "ouname",
        "ovadvise", "owait", "pathconf", "pathconfat", "pinsyscalls", "pipe", "pipe2", "pledge",
        "poll", "ppoll", "pread", "preadv", "profil", "pselect", "ptrace", "pwrite", "pwritev",
        "quotactl", "read", "readlink", "readlinkat", "readv", "reboot", "recvfrom", "recvmmsg",
        "recvmsg", "rename", "renameat", "revoke", "rfork", "rmdir", "sbrk", "sched_yield",
        "select", "semctl23", "semctl35", "semget", "semop", "sendmmsg", "sendmsg", "sendsyslog",
        "sendto", "set_symhint", "setegid", "seteuid", "setgid", "setgroups", "setitimer",
        "setlogin", "setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
        "setrlimit", "setrtable", "setsid", "setsockopt", "setthrname", "settimeofday", "setuid",
        "shmat", "shmctl", "shmctl23", "shmctl35", "shmdt", "shmget", "shutdown", "sigaction",
        "sigaltstack", "sigpending", "sigprocmask", "sigreturn", "sigsuspend", "socket",
        "socketpair", "sstk", "stat", "stat35", "stat43", "statfs", "swapctl", "swapon", "symlink",
        "symlinkat", "sync", "sysarch", "syscall", "sysctl", "threxit", "thrkill", "thrsigdivert",
        "thrsleep", "thrwakeup", "truncate", "umask", "undelete", "unlink", "unlinkat", "unmount",
        "unveil", "utimensat", "utimes", "utrace", "vadvise", "vfork", "wait4", "waitid", "write",
        "writev", "xfspioctl", "ypconnect",
    }
)
# fmt: on
