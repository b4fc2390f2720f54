/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proc.bpf.h — acting on another process without ptrace or a signal (issue
 * 31, roads 1 and 2): its nice value, I/O priority, scheduling policy and
 * CPU affinity, and resource limits, and SIGIO pointed at it (moving its
 * memory asks ptrace_access_check first). Root acting on root needs no capability, so the capable hook never
 * sees these; systrace denied the calls a policy did not name.
 *
 *   task_setnice       setpriority            pidname (the other's executable)
 *   task_setioprio     ioprio_set             pidname
 *   task_setscheduler  sched_setscheduler, sched_setparam, sched_setattr,
 *                      sched_setaffinity      pidname
 *   task_prlimit       prlimit64 on another process: "" (the hook sees the
 *                      other's credentials, not the task)
 *   file_fcntl         fcntl F_SETOWN (to another process or a group),
 *   file_ioctl         F_SETOWN_EX, F_SETSIG; ioctl FIOSETOWN, SIOCSPGRP,
 *                      TIOCSTI: cmd
 *   uring_cmd          io_uring's passthrough command: ioctl "URING_CMD"
 *
 * A task's own thread group is never decided: it gives nothing it does not
 * have. F_NOTIFY (dnotify) is decided in attr.bpf.h.
 */
#ifndef __BST_PROC_BPF_H
#define __BST_PROC_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "sys.bpf.h"
#include "attr.bpf.h"

#define F_SETOWN    8
#define F_SETSIG    10
#define F_SETOWN_EX 15
#define F_NOTIFY    1026
#define FIOSETOWN   0x8901
#define SIOCSPGRP   0x8902
#define TIOCSTI	    0x5412

/* op on another process p, decided on its executable; its own thread group passes. */
static __always_inline int other_decide(struct task_struct *p, __u32 op)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	int r;

	if (BPF_CORE_READ(p, tgid) == BPF_CORE_READ(cur, tgid))
		return 0;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	r = put_task_exe(ts, p);
	if (r < 0)
		return deny_unrendered(&s, ts, op, r);
	return bst_decide(&s, ts, r, s.policy, op);
}

SEC("lsm/task_setnice")
int BST_LSM(bst_task_setnice, struct task_struct *p, int nice)
{
	return other_decide(p, BST_OP_SETPRIORITY);
}

SEC("lsm/task_setioprio")
int BST_LSM(bst_task_setioprio, struct task_struct *p, int ioprio)
{
	return other_decide(p, BST_OP_IOPRIO_SET);
}

/* sched_setscheduler, sched_setparam, sched_setattr, sched_setaffinity (and
 * a cpuset's attach, asked with the mover as current: outsiders pass). */
SEC("lsm/task_setscheduler")
int BST_LSM(bst_task_setscheduler, struct task_struct *p)
{
	return other_decide(p, BST_OP_SCHED_SETSCHEDULER);
}

/* prlimit64(2) of another process (the kernel asks only for another task):
 * the credentials are shared by the threads of one process, so a thread of
 * the caller's own passes; any other process is decided on "". task_setrlimit
 * follows for the new limit, after this decision. */
SEC("lsm/task_prlimit")
int BST_LSM(bst_task_prlimit, const struct cred *cred, const struct cred *tcred, unsigned int flags)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	if ((__u64)tcred == (__u64)BPF_CORE_READ(cur, real_cred))
		return 0;
	return decide_bare(BST_OP_PRLIMIT);
}

/* SIGIO's owner and signal: "cmd", F_SETOWN ... A signal the kernel sends
 * for I/O on the file goes to the owner without task_kill (a root owner
 * passes sigio_perm for every process), so choosing the owner is decided.
 * F_SETOWN to the caller's own process, or 0 (no owner), passes. */
static __always_inline int cmd_decide(const char *name, __u32 len)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = put_lit_at(ts, 0, name, len);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_FCNTL, -EPERM);
	return bst_decide(&s, ts, r, s.policy, BST_OP_FCNTL);
}

#define CMD_DECIDE(lit) cmd_decide(lit, sizeof(lit) - 1)

SEC("lsm/file_fcntl")
int BST_LSM(bst_file_fcntl, struct file *file, unsigned int cmd, unsigned long arg)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	switch (cmd) {
	case F_SETOWN:
		if (arg == 0 || (int)arg == BPF_CORE_READ(cur, tgid))
			return 0;
		return CMD_DECIDE("F_SETOWN");
	case F_SETOWN_EX:
		return CMD_DECIDE("F_SETOWN_EX");
	case F_SETSIG:
		return CMD_DECIDE("F_SETSIG");
	case F_NOTIFY:
		return notify_fcntl(file, arg);
	}
	return 0;
}

/* ioctl's F_SETOWN: FIOSETOWN and SIOCSPGRP (their argument is a pointer the
 * kernel reads after this hook: decided whatever it names), and TIOCSTI,
 * which pushes input into a terminal, such as that of the shell that
 * started the task (Linux 6.1 asks no capability). Every other ioctl is not
 * decided (docs/security.md, "Every LSM hook"). */
static __always_inline int ioctl_decide(unsigned int cmd)
{
	if (cmd == TIOCSTI)
		return CMD_DECIDE("TIOCSTI");
	if (cmd == FIOSETOWN)
		return CMD_DECIDE("FIOSETOWN");
	if (cmd == SIOCSPGRP)
		return CMD_DECIDE("SIOCSPGRP");
	return 0;
}

SEC("lsm/file_ioctl")
int BST_LSM(bst_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg)
{
	return ioctl_decide(cmd);
}

/* a 32-bit process's ioctl on Linux 6.8+ (before, file_ioctl;
 * loader.NEWER_HOOK_PROGRAMS) */
SEC("lsm/file_ioctl_compat")
int BST_LSM(bst_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg)
{
	return ioctl_decide(cmd);
}

/* io_uring's passthrough command (IORING_OP_URING_CMD): a driver's or a
 * socket's own command (NVMe passthrough; a socket's SIOCINQ, getsockopt and
 * setsockopt on 6.7+), an ioctl by another road: decided as ioctl
 * "URING_CMD", whatever it carries. */
SEC("lsm/uring_cmd")
int BST_LSM(bst_uring_cmd, struct io_uring_cmd *ioucmd)
{
	return CMD_DECIDE("URING_CMD");
}

#endif /* __BST_PROC_BPF_H */
