/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpfsystrace.h — every structure that crosses the kernel/user boundary.
 *
 * This header is the truth; controller/abi.py is its one Python mirror and
 * tests/abi/test_layout.py checks the two against each other. Plain C only:
 * fixed-width fields, explicit padding, no pointers, bools or enums in structs.
 *
 * Identifiers: every policy generation loaded by one `attach` has a `gen`
 * (1..BST_MAX_GENS). Policies, DFA states and rules are numbered inside their
 * generation, so a reload writes a complete new generation and then swaps the
 * target's `gen` with one map update; nothing is edited in place under load.
 *
 * The DFAs of a generation are one comb-packed table (AppArmor's base, next,
 * check layout): state s of the region has states[state_base + s]; its
 * transition on byte b is cells[cell_base + base + b] when that cell's check
 * is s + 1, else the state's default `next`. State numbers, bases and `next`
 * are local to the region, so the controller writes a region with one copy
 * through the maps' mmap (controller/kernel/regions.py).
 */
#ifndef __BPFSYSTRACE_H
#define __BPFSYSTRACE_H

/* 10: socket's object carries the protocol ("AF_INET\0SOCK_DGRAM\0udp"),
 * socket_post_create; utimes, getxattr, listxattr;
 * 9: the second red team's operations (other processes, SIGIO, xattrs,
 * watches, System V IPC, keys, io_uring personalities), BST_CNT_INSECURE_EXEC;
 * 8: exe_paths (a policy follows its program's path through upgrades),
 * BST_CNT_EXE_BY_PATH, BST_CNT_CLONE_CGROUP; 7: split automata;
 * 6: the DFAs as comb-packed tables (states, cells) in regions of ARRAY
 * maps; 5: confinement carried by the task; exec decided by the caller;
 * BST_CNT_DISCONNECTED, unix names resolved; mounts, bpf, ptrace, kernel
 * operations, capabilities; own objects */
#define BST_ABI_VERSION 10

#define BST_MAX_TARGETS	   64	   /* attached cgroups */
#define BST_MAX_DEPTH	   16	   /* cgroup ancestor levels searched */
#define BST_MAX_EXES	   4096	   /* (gen, executable) -> policy */
#define BST_EXE_PATH_MAX   256	   /* exe_paths: a policy's program path, NUL included */
#define BST_MAX_POLICY_OPS 16384   /* (gen, policy, op, part) -> start state */
#define BST_MAX_PARTS	   16	   /* automata one operation's rules are split over */
#define BST_MAX_STATES	   524288  /* DFA states, all generations (states array) */
#define BST_MAX_CELLS	   1048576 /* DFA transition cells, all generations (cells array) */
#define BST_MAX_REGIONS	   1024	   /* generations holding a region of the tables */
#define BST_MAX_RULES	   262144  /* rules, all generations (allocated as used) */
#define BST_PATH_MAX	   4096	   /* object string buffer (PATH_MAX) */
#define BST_EVENT_STR	   256	   /* object string bytes kept in an event */
#define BST_RINGBUF_SIZE   (1 << 20)
#define BST_MAX_SEEN	   65536 /* learn mode: (exe, op, object) already reported (LRU) */

/* Operations the LSM hooks decide (systrace names in controller/model). */
#define BST_OP_FSREAD	 0 /* open for reading (file_open) */
#define BST_OP_FSWRITE	 1 /* open for writing; creating a regular file (path_mknod) */
#define BST_OP_BIND	 2
#define BST_OP_CONNECT	 3
#define BST_OP_EXECVE	 4
#define BST_OP_UNLINK	 5  /* path_unlink: the victim's path */
#define BST_OP_MKDIR	 6  /* path_mkdir: the new directory's path */
#define BST_OP_RMDIR	 7  /* path_rmdir */
#define BST_OP_MKNOD	 8  /* path_mknod of a fifo, device or socket inode (not by bind) */
#define BST_OP_TRUNCATE	 9  /* path_truncate: truncate, ftruncate, O_TRUNC */
#define BST_OP_SYMLINK	 10 /* path_symlink: the new link's path */
#define BST_OP_CHMOD	 11 /* path_chmod */
#define BST_OP_CHOWN	 12 /* path_chown */
#define BST_OP_CHROOT	 13 /* path_chroot */
#define BST_OP_RENAME	 14 /* path_rename: "from\0to" */
#define BST_OP_LINK	 15 /* path_link: "existing\0new" */
#define BST_OP_STAT	 16 /* inode_getattr for stat/lstat/fstatat/statx of a name */
#define BST_OP_SENDTO	 17 /* socket_sendmsg with a destination address */
#define BST_OP_SETUID	 18 /* task_fix_setuid: each id that changes, in decimal */
#define BST_OP_SETGID	 19 /* task_fix_setgid */
#define BST_OP_SOCKET	 20 /* socket_create: "sockdom\0socktype\0sockproto" */
#define BST_OP_LISTEN	 21 /* socket_listen: the socket's bound address, as bind renders it */
#define BST_OP_ACCEPT	 22 /* socket_accept: the listening socket's bound address */
#define BST_OP_SETGROUPS 23 /* task_fix_setgroups (6.0+): each group id of the new list */
#define BST_OP_KILL	 24 /* task_kill: "pidname\0signame" (target's executable, SIGTERM) */
/* Operations no file or socket hook used to see (docs/enforcement.md). "" is
 * the object of those without an argument: `native-reboot: permit`. */
#define BST_OP_MOUNT	       25 /* sb_mount, move_mount: "filename\0fstype" (mount point) */
#define BST_OP_UMOUNT	       26 /* sb_umount: the mount point */
#define BST_OP_PIVOT_ROOT      27 /* sb_pivotroot: the new root */
#define BST_OP_BPF	       28 /* bpf: the command, BPF_MAP_CREATE */
#define BST_OP_PTRACE	       29 /* ptrace_access_check, ptrace_traceme: the other's executable */
#define BST_OP_INIT_MODULE     30 /* kernel_load_data(LOADING_MODULE): "" */
#define BST_OP_FINIT_MODULE    31 /* kernel_read_file(READING_MODULE): the module file */
#define BST_OP_KEXEC_LOAD      32 /* kernel_load_data/kernel_read_file of a kexec image: "" */
#define BST_OP_PRCTL	       33 /* task_prctl: the option, PR_SET_DUMPABLE */
#define BST_OP_UNSHARE	       34 /* userns_create (6.1+), capable in unshare(2): "" */
#define BST_OP_SETNS	       35 /* capable in setns(2): "" */
#define BST_OP_SETHOSTNAME     36 /* capable in sethostname/setdomainname: "" */
#define BST_OP_REBOOT	       37 /* capable in reboot(2): "" */
#define BST_OP_SWAPON	       38 /* capable in swapon/swapoff: "" */
#define BST_OP_SETTIMEOFDAY    39 /* capable in settimeofday, clock_settime, adjtimex: "" */
#define BST_OP_IOPL	       40 /* capable in iopl/ioperm: "" */
#define BST_OP_PERF_EVENT_OPEN 41 /* perf_event_open: "" */
#define BST_OP_CAPABLE	       42 /* capable: the capability, CAP_NET_ADMIN */
/* Acting on another process, shared kernel objects, attributes (issue 31). */
#define BST_OP_SETPRIORITY	  43 /* task_setnice: pidname (another process's executable) */
#define BST_OP_IOPRIO_SET	  44 /* task_setioprio: pidname */
#define BST_OP_SCHED_SETSCHEDULER 45 /* task_setscheduler: pidname */
#define BST_OP_PRLIMIT		  46 /* task_prlimit: "" (another process's limits) */
#define BST_OP_FCNTL		  47 /* file_fcntl, file_ioctl: SIGIO's owner, cmd (F_SETOWN) */
#define BST_OP_NOTIFY		  48 /* path_notify, file_fcntl(F_NOTIFY): the watched path */
#define BST_OP_SETXATTR		  49 /* inode_setxattr, inode_set_acl: "" */
#define BST_OP_REMOVEXATTR	  50 /* inode_removexattr, inode_remove_acl: "" */
#define BST_OP_SHMGET		  51 /* shm_associate: "" (System V IPC, ipc.bpf.h) */
#define BST_OP_SHMAT		  52 /* shm_shmat: "" */
#define BST_OP_SHMCTL		  53 /* shm_shmctl: "" */
#define BST_OP_MSGGET		  54 /* msg_queue_associate: "" */
#define BST_OP_MSGSND		  55 /* msg_queue_msgsnd: "" */
#define BST_OP_MSGRCV		  56 /* msg_queue_msgrcv: "" */
#define BST_OP_MSGCTL		  57 /* msg_queue_msgctl: "" */
#define BST_OP_SEMGET		  58 /* sem_associate: "" */
#define BST_OP_SEMOP		  59 /* sem_semop: "" */
#define BST_OP_SEMCTL		  60 /* sem_semctl: "" */
#define BST_OP_ADD_KEY		  61 /* key_alloc: "" */
#define BST_OP_KEYCTL		  62 /* key_permission: "" */
#define BST_OP_IO_URING_REGISTER  63 /* uring_override_creds: "" (an io_uring personality) */
#define BST_OP_SYSLOG		  64 /* syslog: "" (syslog(2), /proc/kmsg, reading /dev/kmsg) */
#define BST_OP_USERFAULTFD	  65 /* inode_init_security_anon("[userfaultfd]"): "" */
#define BST_OP_MMAP		  66 /* mmap_addr: "" (a mapping below 64 KiB: the NULL page) */
#define BST_OP_UTIMES		  67 /* inode_setattr (the times alone): "" */
#define BST_OP_GETXATTR		  68 /* inode_getxattr, inode_get_acl: "" */
#define BST_OP_LISTXATTR	  69 /* inode_listxattr: "" */
#define BST_NR_OPS		  70

/* bst_target.flags */
#define BST_TARGET_MANAGER 0x1 /* manager_dev/ino name the service manager */
#define BST_TARGET_AUDIT   0x2 /* complain mode: a denial is counted and reported, then permitted */
/* learn mode: everything permitted, each new (exe, op, object) reported once */
#define BST_TARGET_LEARN 0x4

/* bst_state.flags */
#define BST_STATE_FINAL 0x1 /* every continuation stays in this state */

/* bst_rule.flags */
#define BST_RULE_LOG	  0x1 /* `log`: emit an event even when permitted */
#define BST_RULE_IMPLICIT 0x2 /* no rule matched (systrace's default deny) */
#define BST_RULE_INHERIT  0x4 /* execve permit[inherit]: the new program keeps the caller's policy */
#define BST_RULE_DETACH	  0x8 /* execve permit[detach]: the new program is no longer confined */

/* bst_event.flags */
#define BST_EV_DENIED	  0x1
#define BST_EV_TRUNCATED  0x2 /* object string longer than BST_EVENT_STR */
#define BST_EV_AUDIT	  0x4 /* audit mode: errno_ would have been returned; permitted */
#define BST_EV_LEARN	  0x8 /* learn mode: first sighting of (exe, op, object) */
#define BST_EV_INTERP	  0x10 /* learn mode: the ELF interpreter opened for exe_dev/exe_ino's execve */
#define BST_EV_NOT_A_NAME 0x20 /* denied: a disconnected dentry or a mount outside the namespace */

/* Rule ids with a fixed meaning in every generation (not in the rules map). */
#define BST_RULE_NONE 0xffffffffu

/* No policy of its own: what exes gives for an executable without one (the
 * default policy applies), and the exec in progress of such a binary. */
#define BST_POLICY_NONE 0xffffffffu

/* counters[] indices: kernel-side events that are not rule decisions. */
#define BST_CNT_LOST_EVENTS	0 /* ring buffer full: event dropped */
#define BST_CNT_PATH_ERROR	1 /* bpf_d_path failed: denied */
#define BST_CNT_TOO_LONG	2 /* object string too long: denied ENAMETOOLONG */
#define BST_CNT_MAP_MISSING	3 /* inconsistent maps: denied (fail closed) */
#define BST_CNT_NO_MEMORY	4 /* task storage unavailable: denied */
#define BST_CNT_MANAGER		5 /* decisions skipped for the service manager */
#define BST_CNT_EXEC_TRANSITION 6 /* execs into a binary with its own policy */
#define BST_CNT_LEARN_SEEN	7 /* learn mode: decisions already reported (not emitted again) */
#define BST_CNT_EXEC_INHERIT	8 /* execs by permit[inherit]: the program keeps the caller's policy */
#define BST_CNT_EXEC_DETACH	9 /* execs by permit[detach]: the program left confinement */
/* not a name: a disconnected dentry, a mount outside the task's namespace
 * (detached tree): denied */
#define BST_CNT_DISCONNECTED 10
#define BST_CNT_OWN_OBJECT   11 /* a confined task reached for bpfsystrace's own objects: denied */
#define BST_CNT_EXEC_ENTRY   12 /* execs by which a program entered its policy from outside */
/* an exec of a new file at a policy's path (a package upgrade): its
 * identity added to exes, the policy follows the path */
#define BST_CNT_EXE_BY_PATH  13
#define BST_CNT_CLONE_CGROUP 14 /* clone3(CLONE_INTO_CGROUP) by a confined task: denied */
/* a policy-changing execve killed: the caller passed loader variables (LD_PRELOAD) */
#define BST_CNT_INSECURE_EXEC 15
#define BST_NR_COUNTERS	      16

/* targets: cgroup id (u64) -> bst_target */
struct bst_target {
	__u32 gen;	      /* policy generation in force */
	__u32 default_policy; /* policy for executables without one */
	__u32 flags;	      /* BST_TARGET_* */
	__u32 manager_dev;    /* kernel dev_t of the service manager binary */
	__u64 manager_ino;
	/* random, kept by reloads: a binding (inherit/detach) made under one
	 * attachment means nothing to a later one */
	__u64 attach_id;
};

/* exes: which policy an executable runs under in one generation */
struct bst_exe_key {
	__u32 gen;
	__u32 dev; /* kernel dev_t (MAJOR << 20 | MINOR) of the superblock */
	__u64 ino;
};

/* exe_paths: which policy the program at a path runs under in one
 * generation (systrace chose policies by path): an exec of a file there
 * whose identity exes does not know (a package upgrade renamed a new file
 * over it) adds it to exes. The path as bpf_d_path renders it, zero-padded. */
struct bst_exe_path_key {
	__u32 gen;
	__u32 pad;
	char path[BST_EXE_PATH_MAX];
};

/* policy_ops: (gen, policy, op, part) -> start state of one of that
 * operation's DFAs. An operation's rules may be split over several automata
 * (part 0 .. nparts-1, nparts in part 0's record): the kernel walks each and
 * the first match is the lowest rule any of them gives. */
struct bst_policy_op_key {
	__u32 gen;
	__u32 policy;
	__u32 op;
	__u32 part;
};

struct bst_policy_op {
	__u32 start;	  /* the DFA's first state (local to the region) */
	__u32 state_base; /* the generation's region of states[] ... */
	__u32 nstates;
	__u32 cell_base; /* ... and of cells[] */
	__u32 ncells;
	/* the rule of a final state is rule_base + its `rule`: operations that
	 * decide the same rules (fsread and stat) share one table */
	__u32 rule_base;
	__u32 nparts;	  /* part 0: how many parts (1: one automaton) */
	__u32 first_rule; /* the lowest rule this part can give (from rule_base):
			   * a part is not walked once a lower rule matched */
};

/* states[state_base + s]: DFA state s of a region */
struct bst_state {
	__u32 base;  /* its transition on byte b: cells[cell_base + base + b] */
	__u32 next;  /* next state for bytes without an explicit transition */
	__u32 rule;  /* first rule that matches a string ending here (from rule_base) */
	__u32 flags; /* BST_STATE_* */
};

/* cells[cell_base + c]: the transition of the state whose number + 1 is check */
struct bst_cell {
	__u32 check; /* owning state + 1; 0: a free cell */
	__u32 next;
};

/* regions: which generation holds which part of states[] and cells[]
 * (the controller's record; the kernel reads policy_ops' copy) */
struct bst_region_key {
	__u32 gen;
};

struct bst_region {
	__u32 state_base;
	__u32 nstates;
	__u32 cell_base;
	__u32 ncells;
};

/* rules: (gen, rule) -> bst_rule; rule_hits: same key -> per-CPU __u64 */
struct bst_rule_key {
	__u32 gen;
	__u32 rule;
};

struct bst_rule {
	__s32 errno_; /* 0: permit; > 0: deny with this errno */
	__u32 flags;  /* BST_RULE_* */
	__u32 policy;
	__u32 op;
};

/* seen (learn mode, LRU): what was already reported -> first ts_ns */
struct bst_seen_key {
	__u32 gen;
	__u32 op;
	__u32 exe_dev;
	__u32 pad;
	__u64 exe_ino;
	__u64 hash; /* FNV-1a 64 of the object string */
};

/* own: bpfsystrace's own kernel objects, filled by the loader after load;
 * a confined task may not reach them whatever its policy (own.bpf.h). */
#define BST_OWN_MAP  1 /* id: the map's id */
#define BST_OWN_PROG 2 /* id: the program's id */
#define BST_OWN_LINK 3 /* id: the link's id */
#define BST_OWN_PIN  4 /* dev, id: a pin's inode (kernel dev_t, inode number) */
#define BST_OWN_SB   5 /* dev: the bpffs superblock that holds the pins */
#define BST_MAX_OWN  1024

struct bst_own_key {
	__u32 kind; /* BST_OWN_* */
	__u32 dev;
	__u64 id;
};

/* events ring buffer record (fixed size) */
struct bst_event {
	__u64 ts_ns;	 /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id; /* the process's own cgroup */
	__u64 target_id; /* the attached cgroup it falls under */
	__u32 pid;	 /* thread group id */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gen;
	__u32 policy;
	__u32 rule;
	__u32 op;
	__s32 errno_;  /* errno returned, 0 when permitted */
	__u32 flags;   /* BST_EV_* */
	__u32 str_len; /* length of the full object string */
	__u32 exe_dev; /* executable of the task (kernel dev_t), 0 if none */
	__u64 exe_ino;
	char comm[16];
	char str[BST_EVENT_STR];
};

#ifndef __cplusplus
_Static_assert(sizeof(struct bst_target) == 32, "bst_target size");
_Static_assert(sizeof(struct bst_exe_key) == 16, "bst_exe_key size");
_Static_assert(sizeof(struct bst_exe_path_key) == 8 + BST_EXE_PATH_MAX, "bst_exe_path_key size");
_Static_assert(sizeof(struct bst_policy_op_key) == 16, "bst_policy_op_key size");
_Static_assert(sizeof(struct bst_policy_op) == 32, "bst_policy_op size");
_Static_assert(sizeof(struct bst_state) == 16, "bst_state size");
_Static_assert(sizeof(struct bst_cell) == 8, "bst_cell size");
_Static_assert(sizeof(struct bst_region) == 16, "bst_region size");
_Static_assert(sizeof(struct bst_seen_key) == 32, "bst_seen_key size");
_Static_assert(sizeof(struct bst_own_key) == 16, "bst_own_key size");
_Static_assert(sizeof(struct bst_event) == 352, "bst_event size");
#endif

#endif /* __BPFSYSTRACE_H */
