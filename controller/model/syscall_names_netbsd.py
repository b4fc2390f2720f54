"""NetBSD system call names, for `bpfsystrace check`.

`bpfsystrace check` treats a rule's system call name as known when Linux, OpenBSD or
NetBSD has it; anything else is a typo and an error. systrace also shipped with NetBSD
(2.x-4.x), and policies written there name calls the way NetBSD's kernel/syscalls.c does:
__getcwd, __stat30, __sysctl, break, kqueue, compat_43_ocreat, ...

The names of sys/kern/syscalls.master, union of two versions:
  - syscalls.master,v 1.180.2.8 2007/12/27 (NetBSD 4.99 era), GitHub NetBSD/src
    commit 321d16cf454d4d60b0729ba48b8eaba19ddb61cb;
  - syscalls.master,v 1.316 2024/10/09 (newest found), GitHub maksymlanko/netbsd-src
    commit 4dbab557728c32289c6fc53b44b8bef02a7e35f2, less its 507 `unshare`, which seems
    to be that fork's own addition (opt_ns.h).
From each STD, NOERR, NODEF, NOARGS, INDIR or EXTERN entry: the function without sys_
(`int|sys|50|stat` is __stat50, as syscalls.c spells it) and the alias after the braces
(obreak and break). From each compat entry: syscalls.c's name, the option in lower case,
"_" and the alias or else the function (compat_43_ocreat, compat_30___stat13,
compat_50___stat30), and the bare alias (ocreat). UNIMPL, OBSOL, EXCL and IGNORED
entries give nothing. Generated once by a throwaway script: membership only, nothing
here says a call is enforced.
"""

# fmt: off
_LISTED = frozenset(
    {
        "____semctl13", "____semctl50", "____sigtimedwait50", "___lwp_park60", "__acl_aclcheck_fd",
        "__acl_aclcheck_file", "__acl_aclcheck_link", "__acl_delete_fd", "__acl_delete_file",
        "__acl_delete_link", "__acl_get_fd", "__acl_get_file", "__acl_get_link", "__acl_set_fd",
        "__acl_set_file", "__acl_set_link", "__adjtime50", "__aio_suspend50", "__clock_getres50",
        "__clock_gettime50", "__clock_settime50", "__clone", "__dup3100", "__fhopen40", "__fhstat40",
        "__fhstat50", "__fhstatvfs140", "__fhstatvfs190", "__fstat30", "__fstat50", "__fstatvfs190",
        "__futex", "__futex_get_robust_list", "__futex_set_robust_list", "__futimes50", "__getcwd",
        "__getdents30", "__getfh30", "__getitimer50", "__getlogin", "__getrusage50", "__gettimeofday50",
        "__getvfsstat90", "__kevent100", "__lfs_segwait50", "__lstat30", "__lstat50", "__lutimes50",
        "__mknod50", "__mount50", "__mq_timedreceive50", "__mq_timedsend50", "__msgctl13", "__msgctl50",
        "__msync13", "__nanosleep50", "__ntp_gettime30", "__ntp_gettime50", "__pollts50", "__posix_chown",
        "__posix_fadvise50", "__posix_fchown", "__posix_lchown", "__posix_rename", "__pselect50",
        "__quotactl", "__select50", "__setitimer50", "__setlogin", "__settimeofday50", "__shmctl13",
        "__shmctl50", "__sigaction_sigtramp", "__sigaltstack14", "__sigpending14", "__sigprocmask14",
        "__sigsuspend14", "__sigtimedwait", "__socket30", "__stat30", "__stat50", "__statvfs190", "__syscall",
        "__sysctl", "__timer_gettime50", "__timer_settime50", "__utimes50", "__vfork14", "__wait450",
        "_ksem_close", "_ksem_destroy", "_ksem_getvalue", "_ksem_init", "_ksem_open", "_ksem_post",
        "_ksem_timedwait", "_ksem_trywait", "_ksem_unlink", "_ksem_wait", "_lwp_continue", "_lwp_create",
        "_lwp_ctl", "_lwp_detach", "_lwp_exit", "_lwp_getname", "_lwp_getprivate", "_lwp_kill", "_lwp_park",
        "_lwp_self", "_lwp_setname", "_lwp_setprivate", "_lwp_suspend", "_lwp_unpark", "_lwp_unpark_all",
        "_lwp_wait", "_lwp_wakeup", "_pset_bind", "_sched_getaffinity", "_sched_getparam", "_sched_protect",
        "_sched_setaffinity", "_sched_setparam", "accept", "access", "acct", "adjtime", "afssys",
        "aio_cancel", "aio_error", "aio_fsync", "aio_read", "aio_return", "aio_suspend", "aio_write", "bind",
        "break", "chdir", "chflags", "chmod", "chown", "chroot", "clock_getcpuclockid2", "clock_getres",
        "clock_gettime", "clock_nanosleep", "clock_settime", "close", "compat_09_ogetdomainname",
        "compat_09_osetdomainname", "compat_09_ouname", "compat_100___kevent50", "compat_100_dup3",
        "compat_10_omsgsys", "compat_10_osemsys", "compat_10_oshmsys", "compat_12_fstat12",
        "compat_12_getdirentries", "compat_12_lstat12", "compat_12_msync", "compat_12_oreboot",
        "compat_12_oswapon", "compat_12_stat12", "compat_13_sigaction13", "compat_13_sigaltstack13",
        "compat_13_sigpending13", "compat_13_sigprocmask13", "compat_13_sigreturn13",
        "compat_13_sigsuspend13", "compat_14___semctl", "compat_14_msgctl", "compat_14_shmctl",
        "compat_16___sigaction14", "compat_16___sigreturn14", "compat_20_fhstatfs", "compat_20_fstatfs",
        "compat_20_getfsstat", "compat_20_statfs", "compat_30___fhstat30", "compat_30___fstat13",
        "compat_30___lstat13", "compat_30___stat13", "compat_30_fhopen", "compat_30_fhstat",
        "compat_30_fhstatvfs1", "compat_30_getdents", "compat_30_getfh", "compat_30_ntp_gettime",
        "compat_30_socket", "compat_40_mount", "compat_43_fstat43", "compat_43_lstat43", "compat_43_oaccept",
        "compat_43_ocreat", "compat_43_oftruncate", "compat_43_ogetdirentries", "compat_43_ogetdtablesize",
        "compat_43_ogethostid", "compat_43_ogethostname", "compat_43_ogetkerninfo", "compat_43_ogetpagesize",
        "compat_43_ogetpeername", "compat_43_ogetrlimit", "compat_43_ogetsockname", "compat_43_okillpg",
        "compat_43_olseek", "compat_43_ommap", "compat_43_oquota", "compat_43_orecv", "compat_43_orecvfrom",
        "compat_43_orecvmsg", "compat_43_osend", "compat_43_osendmsg", "compat_43_osethostid",
        "compat_43_osethostname", "compat_43_osetrlimit", "compat_43_osigblock", "compat_43_osigsetmask",
        "compat_43_osigstack", "compat_43_osigvec", "compat_43_otruncate", "compat_43_owait",
        "compat_43_stat43", "compat_50_____semctl13", "compat_50___fhstat40", "compat_50___fstat30",
        "compat_50___lstat30", "compat_50___msgctl13", "compat_50___ntp_gettime30", "compat_50___shmctl13",
        "compat_50___sigtimedwait", "compat_50___stat30", "compat_50__lwp_park", "compat_50_adjtime",
        "compat_50_aio_suspend", "compat_50_clock_getres", "compat_50_clock_gettime",
        "compat_50_clock_settime", "compat_50_futimes", "compat_50_getitimer", "compat_50_getrusage",
        "compat_50_gettimeofday", "compat_50_kevent", "compat_50_lfs_segwait", "compat_50_lutimes",
        "compat_50_mknod", "compat_50_mq_timedreceive", "compat_50_mq_timedsend", "compat_50_nanosleep",
        "compat_50_pollts", "compat_50_pselect", "compat_50_quotactl", "compat_50_select",
        "compat_50_setitimer", "compat_50_settimeofday", "compat_50_timer_gettime", "compat_50_timer_settime",
        "compat_50_utimes", "compat_50_wait4", "compat_60__lwp_park", "compat_60_sa_enable",
        "compat_60_sa_preempt", "compat_60_sa_register", "compat_60_sa_setconcurrency", "compat_60_sa_stacks",
        "compat_60_sa_yield", "compat_90_fhstatvfs1", "compat_90_fstatvfs1", "compat_90_getvfsstat",
        "compat_90_statvfs1", "connect", "dup", "dup2", "epoll_create1", "epoll_ctl", "epoll_pwait2",
        "eventfd", "execve", "exit", "extattr_delete_fd", "extattr_delete_file", "extattr_delete_link",
        "extattr_get_fd", "extattr_get_file", "extattr_get_link", "extattr_list_fd", "extattr_list_file",
        "extattr_list_link", "extattr_set_fd", "extattr_set_file", "extattr_set_link", "extattrctl",
        "faccessat", "fchdir", "fchflags", "fchmod", "fchmodat", "fchown", "fchownat", "fchroot", "fcntl",
        "fdatasync", "fdiscard", "fexecve", "fgetxattr", "fktrace", "flistxattr", "flock", "fork",
        "fpathconf", "fremovexattr", "fsetxattr", "fstat12", "fstat43", "fstatat", "fstatvfs1", "fsync",
        "fsync_range", "ftruncate", "futimens", "futimes", "getcontext", "getegid", "geteuid", "getgid",
        "getgid_with_egid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
        "getpid_with_ppid", "getppid", "getpriority", "getrandom", "getrlimit", "getrusage", "getsid",
        "getsockname", "getsockopt", "getsockopt2", "gettimeofday", "getuid", "getuid_with_euid",
        "getvfsstat", "getxattr", "ioctl", "issetugid", "kevent", "kill", "kqueue", "kqueue1", "ktrace",
        "lchflags", "lchmod", "lchown", "lfs_bmapv", "lfs_markv", "lfs_segclean", "lfs_segwait", "lgetxattr",
        "link", "linkat", "lio_listio", "listen", "listxattr", "lkmnosys", "llistxattr", "lpathconf",
        "lremovexattr", "lseek", "lsetxattr", "lstat12", "lstat43", "lutimes", "madvise", "memfd_create",
        "mincore", "minherit", "mkdir", "mkdirat", "mkfifo", "mkfifoat", "mknod", "mknodat", "mlock",
        "mlockall", "mmap", "modctl", "mprotect", "mq_close", "mq_getattr", "mq_notify", "mq_open",
        "mq_receive", "mq_send", "mq_setattr", "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap",
        "msgget", "msgrcv", "msgsnd", "munlock", "munlockall", "munmap", "nanosleep", "nfssvc", "ntp_adjtime",
        "oaccept", "obreak", "ocreat", "oftruncate", "ogetdirentries", "ogetdomainname", "ogetdtablesize",
        "ogethostid", "ogethostname", "ogetkerninfo", "ogetpagesize", "ogetpeername", "ogetrlimit",
        "ogetsockname", "okillpg", "olseek", "ommap", "omsgsys", "open", "openat", "oquota", "oreboot",
        "orecv", "orecvfrom", "orecvmsg", "osemsys", "osend", "osendmsg", "osetdomainname", "osethostid",
        "osethostname", "osetrlimit", "oshmsys", "osigblock", "osigsetmask", "osigstack", "osigvec",
        "oswapon", "otruncate", "ouname", "ovadvise", "owait", "paccept", "pathconf", "pipe", "pipe2",
        "pmc_control", "pmc_get_info", "poll", "pollts", "posix_fadvise", "posix_fallocate", "posix_spawn",
        "pread", "preadv", "profil", "pselect", "pset_assign", "pset_create", "pset_destroy", "ptrace",
        "pwrite", "pwritev", "quotactl", "rasctl", "read", "readlink", "readlinkat", "readv", "reboot",
        "recvfrom", "recvmmsg", "recvmsg", "removexattr", "rename", "renameat", "revoke", "rmdir",
        "sa_enable", "sa_preempt", "sa_register", "sa_setconcurrency", "sa_stacks", "sa_unblockyield",
        "sa_yield", "sbrk", "sched_yield", "select", "semconfig", "semget", "semop", "semtimedop", "sendmmsg",
        "sendmsg", "sendto", "setcontext", "setegid", "seteuid", "setgid", "setgroups", "setitimer",
        "setpgid", "setpriority", "setregid", "setreuid", "setrlimit", "setsid", "setsockopt", "settimeofday",
        "setuid", "setxattr", "shmat", "shmdt", "shmget", "shutdown", "sigaction13", "sigaltstack13",
        "sigpending13", "sigprocmask13", "sigqueueinfo", "sigreturn13", "sigsuspend13", "socketpair", "sstk",
        "stat12", "stat43", "statvfs1", "swapctl", "symlink", "symlinkat", "sync", "sysarch", "syscall",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
        "timerfd_create", "timerfd_gettime", "timerfd_settime", "truncate", "umask", "undelete", "unlink",
        "unlinkat", "unmount", "utimensat", "utimes", "utrace", "uuidgen", "vadvise", "vfork", "wait4",
        "wait6", "write", "writev",
    }
)
# fmt: on
# a compat entry by its bare name too (compat_30___stat13 is also __stat13, compat_16___sigaction14
# __sigaction14, compat_30_getdents getdents): policies of NetBSD 2.x, where they were current
NETBSD = _LISTED | frozenset(n.split("_", 2)[2] for n in _LISTED if n.startswith("compat_"))
