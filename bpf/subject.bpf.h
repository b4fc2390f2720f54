/* SPDX-License-Identifier: GPL-2.0 */
/*
 * subject.bpf.h — who is deciding: find_subject() makes the current task's
 * record (task.bpf.h), found or created, into a struct subject (target,
 * attachment, generation, policy, the manager's and the launcher's
 * exemptions); subj_current() is task_alloc's way to the record. Also
 * count(), the counters.
 */
#ifndef __BST_SUBJECT_BPF_H
#define __BST_SUBJECT_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"

/* Who is deciding: scalars only, so global functions can take it. */
struct subject {
	__u64 target_id;
	__u64 attach_id;
	__u64 manager_ino;
	__u64 pol_ino; /* the executable whose policy applies (an inherit binding's) */
	__u32 pol_dev;
	__u32 gen;
	__u32 policy; /* the policy of the task's executable, or the default */
	__u32 default_policy;
	__u32 flags; /* bst_target.flags */
	__u32 manager_dev;
	__u32 manager;	/* exempt: the service manager's child, a launcher moved in */
	__u32 launcher; /* SUBJ_LAUNCHER (or the manager): its exec may enter a policy */
	__u32 exe_dev;	/* the task's executable (events, learn mode) */
	__u32 pad;
	__u64 exe_ino;
};

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		__sync_fetch_and_add(c, 1);
}

struct find_ctx {
	__u64 target_id;
};

static long find_level(__u32 i, void *data)
{
	struct find_ctx *f = data;
	__u64 id = bpf_get_current_ancestor_cgroup_id(i + 1);

	if (!id)
		return 1;
	if (!bpf_map_lookup_elem(&targets, &id))
		return 0;
	f->target_id = id;
	return 1;
}

static __always_inline void inode_id(struct inode *inode, __u32 *dev, __u64 *ino)
{
	*dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
}

/* Policy of an executable in a generation, or BST_POLICY_NONE. */
static __always_inline __u32 exe_policy(__u32 gen, __u32 dev, __u64 ino)
{
	struct bst_exe_key k = { .gen = gen, .dev = dev, .ino = ino };
	__u32 *p = bpf_map_lookup_elem(&exes, &k);

	return p ? *p : BST_POLICY_NONE;
}

/* The attachment a subject record names, if it is still the one in force. */
static __always_inline struct bst_target *live_target(struct bst_subj *r)
{
	struct bst_target *t;

	if (!r || !r->attach_id)
		return 0;
	t = bpf_map_lookup_elem(&targets, &r->target_id);
	return t && t->attach_id == r->attach_id ? t : 0;
}

/* A task found inside an attached cgroup for the first time (under this
 * attachment): record it, so that it stays confined wherever it goes. A
 * launcher remembered outside in another cgroup moved in (SUBJ_MOVED_IN). Its
 * executable is read from mm->exe_file this once; a task that exec'd under an
 * earlier attachment keeps the executable recorded at that exec. */
static __always_inline struct bst_subj *subj_enter(struct task_struct *task, __u64 target_id,
						   struct bst_target *t, struct bst_subj *r)
{
	struct inode *exe;
	__u32 dev = 0;
	__u64 ino = 0;
	int moved = r && r->out_cgroup && r->out_cgroup != bpf_get_current_cgroup_id();

	if (!r) {
		r = bpf_task_storage_get(&subjects, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!r)
			return 0;
	}
	if (!(r->flags & SUBJ_EXECD)) {
		exe = BPF_CORE_READ(task, mm, exe_file, f_inode);
		if (exe)
			inode_id(exe, &dev, &ino);
		r->exe_dev = dev;
		r->exe_ino = ino;
	}
	r->pol_dev = r->exe_dev;
	r->pol_ino = r->exe_ino;
	r->target_id = target_id;
	r->attach_id = t->attach_id;
	r->mode = SUBJ_CONFINED;
	r->out_cgroup = 0;
	r->flags &= SUBJ_EXECD;
	r->pend_mode = BIND_NONE;
	if (!(r->flags & SUBJ_EXECD)) {
		if ((t->flags & BST_TARGET_MANAGER) && r->exe_dev == t->manager_dev &&
		    r->exe_ino == t->manager_ino)
			r->flags |= SUBJ_MANAGER | SUBJ_LAUNCHER;
		else if (exe_policy(t->gen, r->exe_dev, r->exe_ino) == BST_POLICY_NONE)
			r->flags |= SUBJ_LAUNCHER | (moved ? SUBJ_MOVED_IN : 0);
	}
	return r;
}

/* The current task's record if it is confined (*tp: the target in force),
 * else 0: outside every target, or, with *err = -EPERM, inside one but its
 * record could not be stored (fail closed: without it the task could leave).
 *
 * The task's record decides first. Without a live one: the remembered
 * "outside" (see epoch), else the outermost attached ancestor of its cgroup
 * (level 0, the root, is never a target; nested attachments are refused by
 * the controller, so there is at most one). */
static __always_inline struct bst_subj *subj_current(struct task_struct *task,
						     struct bst_target **tp, int *err)
{
	struct bst_subj *r = bpf_task_storage_get(&subjects, task, 0, 0);
	struct bst_target *t = live_target(r);
	struct find_ctx f = {};
	__u32 zero = 0;
	__u64 *ep, cgid;

	*err = 0;
	if (t) {
		*tp = t;
		return r;
	}
	cgid = bpf_get_current_cgroup_id();
	ep = bpf_map_lookup_elem(&epoch, &zero);
	if (r && ep && r->out_cgroup == cgid && r->out_epoch == *ep)
		return 0;
	bpf_loop(BST_MAX_DEPTH, find_level, &f, 0);
	t = f.target_id ? bpf_map_lookup_elem(&targets, &f.target_id) : 0;
	if (!t) {
		/* outside: remember it (best effort; without memory, walk again) */
		if (!r)
			r = bpf_task_storage_get(&subjects, task, 0,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (r && ep) {
			r->out_cgroup = cgid;
			r->out_epoch = *ep;
		}
		return 0;
	}
	r = subj_enter(task, f.target_id, t, r);
	if (!r) {
		count(BST_CNT_NO_MEMORY);
		*err = -EPERM;
		return 0;
	}
	*tp = t;
	return r;
}

/* Is the current task confined, and by what? 1: decide under s; 0: not
 * confined (or detached); -EPERM: fail closed (see subj_current). */
static __always_inline int find_subject(struct subject *s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bst_target *t = 0;
	struct bst_subj *r;
	__u32 policy;
	int err;

	r = subj_current(task, &t, &err);
	if (!r || !t)
		return err;
	if (r->mode == SUBJ_DETACHED)
		return 0;
	s->target_id = r->target_id;
	s->attach_id = t->attach_id;
	s->gen = t->gen;
	s->default_policy = t->default_policy;
	s->policy = t->default_policy;
	s->flags = t->flags;
	s->manager_dev = t->manager_dev;
	s->manager_ino = t->manager_ino;
	s->manager = !!(r->flags & (SUBJ_MANAGER | SUBJ_MOVED_IN));
	s->launcher = !!(r->flags & SUBJ_LAUNCHER);
	s->exe_dev = r->exe_dev;
	s->exe_ino = r->exe_ino;
	s->pol_dev = r->pol_dev;
	s->pol_ino = r->pol_ino;
	policy = exe_policy(s->gen, r->pol_dev, r->pol_ino);
	if (policy != BST_POLICY_NONE && !s->manager)
		s->policy = policy;
	return 1;
}

#endif /* __BST_SUBJECT_BPF_H */
