/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kill.bpf.h — task_kill: a signal sent to another process, decided on
 * "pidname\0signame" (path.bpf.h, names.bpf.h).
 */
#ifndef __BST_KILL_BPF_H
#define __BST_KILL_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

/* ---- kill: "pidname\0signame" ---- */

/* kill(2), tkill, tgkill, rt_(tg)sigqueueinfo, pidfd_send_signal, and each
 * target of kill(0|-pgrp|-1): pidname is the target's executable path (as
 * the sender sees it), "<unknown>" without one (a kernel thread, an exiting
 * task). Not decided: signals the kernel sends (SEND_SIG_PRIV, si_code > 0),
 * on another's behalf (cred: USB async I/O), and those a process sends to
 * itself or its own threads (raise, abort, glibc's setxid and cancellation
 * signals): they give it nothing it does not have. */
SEC("lsm/task_kill")
int BST_LSM(bst_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	    const struct cred *cred, int ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	struct file *exe;
	int r, m;
	__u64 info_raw = hook_arg(ctx, 1);

	if (ret)
		return ret;
	if (hook_arg(ctx, 3) || info_raw == 1 || (info_raw > 1 && BPF_CORE_READ(info, si_code) > 0))
		return 0;
	if (BPF_CORE_READ(p, tgid) == BPF_CORE_READ(cur, tgid))
		return 0;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	exe = BPF_CORE_READ(p, mm, exe_file);
	if (exe) {
		ts->paths[0] = (__u64)BPF_CORE_READ(exe, f_path.dentry);
		ts->paths[1] = (__u64)BPF_CORE_READ(exe, f_path.mnt);
		r = bst_dentry_path(ts, 0, 0);
		if (r < 0)
			return deny_unrendered(&s, ts, BST_OP_KILL, r);
	} else {
		r = PUT_NAME(ts, 0, "<unknown>");
	}
	m = bst_put_signame(ts, r + 1, sig);
	if (m < 0)
		return deny_unrendered(&s, ts, BST_OP_KILL, -EPERM);
	r = bst_decide(&s, ts, r + 1 + m, s.policy, BST_OP_KILL);
	/* kill_pid_info() takes ESRCH from the permission check for "the task
	 * vanished meanwhile" and looks it up again, forever: deny[esrch] on a
	 * signal returns EPERM instead (docs/policy-language.md). */
	return r == -ESRCH ? -EPERM : r;
}

#endif /* __BST_KILL_BPF_H */
