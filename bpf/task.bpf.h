/* SPDX-License-Identifier: GPL-2.0 */
/*
 * task.bpf.h — what is kept per task, in task storage (kernel-only): the
 * scratch (struct bst_task: the object string, exec bookkeeping) and the
 * subject record (struct bst_subj: confinement carried by the task), with
 * `epoch`, by which a record remembers that its task is outside every target.
 */
#ifndef __BST_TASK_BPF_H
#define __BST_TASK_BPF_H

#include "bpfsystrace.h"

/* Per-task scratch (kernel-only): the object string and exec bookkeeping.
 * Task storage rather than a per-CPU buffer because sleepable programs can be
 * preempted, and a shared buffer could then mix two tasks' paths. */
#define EXEC_IDLE	  0
#define EXEC_ARMED	  1 /* bprm_check ran: FMODE_EXEC opens are the interpreter's */
#define UNIX_PEND_NONE	  0 /* bst_task.unix_op (unix.bpf.h) */
#define UNIX_PEND_CONNECT 1
#define UNIX_PEND_SENDTO  2
#define UNIX_PEND_BIND	  3

struct bst_task {
	__u32 exec_phase;
	__u32 exec_policy; /* policy of the binary being executed, or BST_POLICY_NONE */
	__u32 exec_gen;
	__u32 exec_dev; /* identity of the binary being executed (learn mode) */
	__u64 exec_ino;
	__u32 pos;		      /* render.bpf.h's write position */
	__u32 tmp[4];		      /* render.bpf.h's launder() slots */
	__s32 v6[4];		      /* render.bpf.h's IPv6 state: cur, cur_len, best, best_len */
	__u8 sa[112];		      /* render.bpf.h's copy of the socket address */
	char buf[2 * BST_PATH_MAX];   /* the object string (the upper half only bounds offsets) */
	char rev[BST_PATH_MAX + 256]; /* path.bpf.h builds paths backwards here */
	__u64 paths[4];		      /* (dentry, vfsmount) pairs for path.bpf.h, as scalars */
	__u32 unix_op; /* unix.bpf.h: the AF_UNIX operation socket_* saw (UNIX_PEND_*) */
	__u32 unix_pad;
	struct bst_exe_path_key exe_path; /* open.bpf.h: the exe_paths lookup of an exec */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bst_task);
} task_store SEC(".maps");

/* Subjects (kernel-only): confinement carried by the task, as Landlock's
 * domain is. A task is confined from the first hook that finds it inside an
 * attached cgroup (or from its fork, copied from a confined parent before the
 * child runs); from then on the record decides, whatever cgroup the task is
 * moved to, until the attachment it names is detached. The policy is that of
 * the executable recorded at exec commit, never re-read from mm->exe_file. */
#define SUBJ_CONFINED 1
#define SUBJ_DETACHED 2 /* permit[detach]: not confined (for this attachment) */

/* SUBJ_LAUNCHER: entered from outside and has not exec'd since, running a
 * binary without a policy: its exec of a binary that has its own policy is how
 * that program enters (a shell, a test harness, a service manager's child) */
#define SUBJ_LAUNCHER 0x1
#define SUBJ_MANAGER  0x2 /* runs the service manager's binary, not exec'd since: exempt */
#define SUBJ_EXECD    0x4 /* has exec'd while confined (survives re-attach: no launcher) */
#define SUBJ_INHERIT  0x8 /* runs under its caller's policy (permit[inherit]) */
/* SUBJ_MOVED_IN: a launcher that was seen outside in another cgroup and moved
 * in (a shell that wrote its pid to cgroup.procs, cgexec, a runtime's init):
 * it runs the outside's code, not yet the service's, so like the service
 * manager's child it is exempt until it execs (its exec is decided as a
 * launcher's). A task that was in the cgroup when it was attached is not. */
#define SUBJ_MOVED_IN 0x10

#define BIND_NONE    0
#define BIND_INHERIT 1 /* the new program keeps the caller's policy */
#define BIND_DETACH  2 /* the new program is not confined */
/* a plain execve into another policy than the caller's: its environment is
 * checked for loader variables at commit (secure exec, exec.bpf.h) */
#define BIND_SECURE 3

struct bst_subj {
	__u64 target_id;  /* the attached cgroup that confines the task */
	__u64 attach_id;  /* bst_target.attach_id it was confined under (else: stale) */
	__u64 pol_ino;	  /* the executable whose policy applies */
	__u64 exe_ino;	  /* the executable the task runs (events, learn mode) */
	__u64 pend_ino;	  /* permit[inherit] in progress: the caller's policy */
	__u64 out_cgroup; /* seen outside every target in this cgroup ... */
	__u64 out_epoch;  /* ... while epoch[0] had this value (0: not seen outside) */
	__u32 pol_dev;
	__u32 exe_dev;
	__u32 pend_dev;
	__u32 mode;	 /* SUBJ_CONFINED, SUBJ_DETACHED */
	__u32 flags;	 /* SUBJ_* */
	__u32 pend_mode; /* BIND_*: what the execve in progress binds at commit */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bst_subj);
} subjects SEC(".maps");

/* epoch[0]: bumped by the controller after each new target is in `targets`.
 * A task found outside every target remembers its cgroup and the epoch; until
 * either changes it is still outside (cgroup2 ancestry never changes, and a
 * cgroup id is never reused), so an outsider pays one task-storage lookup,
 * not the walk over its cgroup's ancestors. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} epoch SEC(".maps");

/* Does the task hold its own cred_guard_mutex? An execve holds it from
 * prepare_bprm_creds to setup_new_exec: across bprm_check and the opens of
 * the interpreter, but (since 6.7, which opens the binary in alloc_bprm) not
 * at the binary's own open. The mutex's owner word is the task pointer with
 * flag bits in its low 3 bits (kernel/locking/mutex.c). */
static __always_inline int holds_cred_guard(struct task_struct *task)
{
	unsigned long owner = BPF_CORE_READ(task, signal, cred_guard_mutex.owner.counter);

	return (owner & ~0x07UL) == (unsigned long)task;
}

#endif /* __BST_TASK_BPF_H */
