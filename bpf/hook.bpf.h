/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hook.bpf.h — how a hook begins and how it fails on its object: the hook
 * prologue (the subject, the exempt manager, the task's scratch) and
 * deny_unrendered(), for an object string that could not be rendered.
 */
#ifndef __BST_HOOK_BPF_H
#define __BST_HOOK_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "subject.bpf.h"
#include "decide.bpf.h"

static __always_inline struct bst_task *task_scratch(void)
{
	return bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* The raw value of the hook's argument n (BST_LSM's `ctx`), as a scalar.
 * Linux 6.12's verifier takes an LSM hook's struct pointer arguments as
 * trusted, never NULL, and drops a test of one against NULL as dead code;
 * task_kill's cred and info are NULL (or 1) for most signals, so they are
 * tested through this copy, which the verifier knows nothing about. */
static __always_inline __u64 hook_arg(unsigned long long *ctx, int n)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[n]);
	return v;
}

#define MANAGER_EXEMPT 1 /* hook_begin: the exempt service manager's call passes (counted) */
#define MANAGER_TOO    0 /* hook_begin: it goes on (file_open decides its execve, bprm_check arms) */

/* The hook prologue: the subject (find_subject) and the task's scratch.
 * 0: not confined (or, with MANAGER_EXEMPT, the exempt manager); 1: decide;
 * < 0: deny with that (no record or scratch: fail closed). */
static __always_inline int hook_begin(struct subject *s, struct bst_task **ts, int manager)
{
	int r = find_subject(s);

	if (r <= 0)
		return r;
	if (manager == MANAGER_EXEMPT && s->manager) {
		count(BST_CNT_MANAGER);
		return 0;
	}
	*ts = task_scratch();
	if (!*ts) {
		count(BST_CNT_NO_MEMORY);
		return -EPERM;
	}
	return 1;
}

/* The object string could not be rendered (err < 0 from bpf_d_path or
 * path.bpf.h; -ENOTNAME: not a name, path.bpf.h): deny, fail closed, count
 * and log it. */
static __always_inline int deny_unrendered(struct subject *s, struct bst_task *ts, __u32 op, long n)
{
	int err = n == -ENAMETOOLONG ? ENAMETOOLONG : EPERM;
	__u32 evflags = n == -ENOTNAME ? BST_EV_NOT_A_NAME : 0;
	struct decision d = { 0, s->policy, op, BST_RULE_NONE, err, evflags };

	count(err == ENAMETOOLONG ? BST_CNT_TOO_LONG
	      : n == -ENOTNAME	  ? BST_CNT_DISCONNECTED
				  : BST_CNT_PATH_ERROR);
	ts->buf[0] = 0;
	bst_emit(s, ts, &d);
	return -err;
}

#endif /* __BST_HOOK_BPF_H */
