/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ids.bpf.h — setuid and setgid (task_fix_setuid, task_fix_setgid): each id a
 * call gives the task, in decimal. groups.bpf.h decides setgroups' ids with
 * id_decide().
 */
#ifndef __BST_IDS_BPF_H
#define __BST_IDS_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

/* ---- setuid, setgid: the ids a call gives the task, in decimal ---- */

static __always_inline int id_decide(struct subject *s, struct bst_task *ts, __u32 id, __u32 op)
{
	static const char fmt[] = "%u";
	__u64 arg = id;
	long n = bpf_snprintf(ts->buf, 16, fmt, &arg, sizeof(arg));

	if (n <= 1)
		return deny_unrendered(s, ts, op, -EPERM);
	return bst_decide(s, ts, (__u32)n - 1, s->policy, op);
}

/* Each of the real, effective and saved id that changes must be permitted;
 * a call that changes none of them (setfsuid, or setuid to the current id)
 * is decided on the file-system id it leaves. */
static __always_inline int ids_hook(__u32 r, __u32 old_r, __u32 e, __u32 old_e, __u32 sv,
				    __u32 old_s, __u32 fs, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int err = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (err <= 0)
		return err;
	if (r == old_r && e == old_e && sv == old_s)
		return id_decide(&s, ts, fs, op);
	if (r != old_r && (err = id_decide(&s, ts, r, op)))
		return err;
	if (e != old_e && e != r && (err = id_decide(&s, ts, e, op)))
		return err;
	if (sv != old_s && sv != r && sv != e)
		return id_decide(&s, ts, sv, op);
	return 0;
}

SEC("lsm/task_fix_setuid")
int BST_LSM(bst_task_fix_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	if (ret)
		return ret;
	return ids_hook(new->uid.val, old->uid.val, new->euid.val, old->euid.val, new->suid.val,
			old->suid.val, new->fsuid.val, BST_OP_SETUID);
}

SEC("lsm/task_fix_setgid")
int BST_LSM(bst_task_fix_setgid, struct cred *new, const struct cred *old, int flags, int ret)
{
	if (ret)
		return ret;
	return ids_hook(new->gid.val, old->gid.val, new->egid.val, old->egid.val, new->sgid.val,
			old->sgid.val, new->fsgid.val, BST_OP_SETGID);
}

#endif /* __BST_IDS_BPF_H */
