/* SPDX-License-Identifier: GPL-2.0 */
/*
 * groups.bpf.h — setgroups (task_fix_setgroups, Linux 6.0+): each group id of
 * the new list, decided as ids.bpf.h decides an id.
 */
#ifndef __BST_GROUPS_BPF_H
#define __BST_GROUPS_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "ids.bpf.h"

/* ---- setgroups (task_fix_setgroups, Linux 6.0+): each group id of the new list ---- */

struct groups_ctx {
	struct subject s;
	struct bst_task *ts;
	__u64 gi; /* struct group_info * */
	int err;
};

static long group_one(__u32 i, void *data)
{
	struct groups_ctx *c = data;
	struct group_info *gi = (struct group_info *)c->gi;
	__u32 gid = 0;

	if (bpf_probe_read_kernel(&gid, sizeof(gid), &gi->gid[i])) {
		c->err = -EPERM; /* unreadable: fail closed */
		return 1;
	}
	c->err = id_decide(&c->s, c->ts, gid, BST_OP_SETGROUPS);
	return c->err ? 1 : 0;
}

/* An empty list (setgroups(0, NULL)) is decided once on the empty string:
 * `native-setgroups: permit` allows it, a rule on a gid does not. */
SEC("lsm/task_fix_setgroups")
int BST_LSM(bst_task_fix_setgroups, struct cred *new, const struct cred *old, int ret)
{
	struct groups_ctx c = {};
	struct group_info *gi;
	int r, n;

	if (ret)
		return ret;
	r = hook_begin(&c.s, &c.ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	gi = BPF_CORE_READ(new, group_info);
	n = gi ? BPF_CORE_READ(gi, ngroups) : 0;
	if (n <= 0) {
		c.ts->buf[0] = 0;
		return bst_decide(&c.s, c.ts, 0, c.s.policy, BST_OP_SETGROUPS);
	}
	c.gi = (__u64)gi;
	bpf_loop(n > 65536 ? 65536 : n, group_one, &c, 0);
	return c.err;
}

#endif /* __BST_GROUPS_BPF_H */
