/* SPDX-License-Identifier: GPL-2.0 */
/*
 * path.bpf.h — the path of a dentry, as bpf_d_path would print it, for the
 * path_* hooks (bpf_d_path is only allowed in sleepable hooks, and the
 * path_* hooks are not sleepable on 6.1).
 *
 * The walk follows prepend_path() in fs/d_path.c: from the dentry up its
 * d_parent chain, crossing from a mount's root to its mountpoint in the
 * parent mount, and stopping at the task's root (so a chrooted task sees paths
 * relative to its root, as with d_path) or at the root of the mount tree.
 * Components are written backwards into ts->rev, then copied into ts->buf.
 *
 * Unlike d_path it takes no rename_lock: a concurrent rename of an ancestor
 * can give a path that was true a moment before (docs/security.md).
 *
 * Unlike d_path it never renders what is not a name (-ENOTNAME, counted as
 * BST_CNT_DISCONNECTED by deny_unrendered): a disconnected dentry (a file
 * opened by handle, whose d_path is "/" or a tail), or a tree whose top is not
 * a mount namespace's root (a detached tree of open_tree(OPEN_TREE_CLONE) or
 * fsmount, or a lazily unmounted one, which d_path renders relative to it).
 */
#ifndef __BST_PATH_BPF_H
#define __BST_PATH_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"

#define PATH_MASK (BST_PATH_MAX - 1)
#define NAME_MASK 255 /* NAME_MAX */

/* Bound an offset in the register that is used (see BOUND_BYTE in render.bpf.h) */
#define BOUND_PATH(v) asm volatile("%[x] &= 0xfff" : [x] "+r"(v))
#define BOUND_NAME(v) asm volatile("%[x] &= 0xff" : [x] "+r"(v))

struct pwalk {
	struct bst_task *ts;
	__u64 dentry;	   /* struct dentry * being added */
	__u64 vfsmnt;	   /* struct vfsmount * it is seen through */
	__u64 root_dentry; /* the task's root */
	__u64 root_mnt;
	__u32 pos;  /* the text is ts->rev[pos .. BST_PATH_MAX) */
	__u32 done; /* PW_* */
};

#define PW_WALKING    0
#define PW_ROOT	      1 /* reached the task's root or the top of the mount tree */
#define PW_TOO_LONG   2
#define PW_NOT_A_NAME 3 /* disconnected dentry, or a detached mount tree */

#define EXDEV	  18
#define ENOTNAME  EXDEV /* bst_dentry_path, not_a_name: what is not a name (errno EPERM) */
#define O_PATH	  010000000
#define MAX_ERRNO 4095

/* A mount namespace pointer that names none: NULL (unmounted), an error
 * pointer (MNT_NS_INTERNAL: kern_mount, overlayfs' private layers), or an
 * anonymous namespace (open_tree(OPEN_TREE_CLONE), fsmount: no inode number). */
static __always_inline int ns_detached(struct mnt_namespace *ns)
{
	if (!ns || (__u64)ns >= (__u64)-MAX_ERRNO)
		return 1;
	return BPF_CORE_READ(ns, ns.inum) == 0;
}

static __always_inline __u64 real_mount(__u64 vfsmnt)
{
	return vfsmnt - bpf_core_field_offset(struct mount, mnt);
}

static long path_level(__u32 i, void *data)
{
	struct pwalk *p = data;
	struct dentry *d = (struct dentry *)p->dentry, *parent;
	struct vfsmount *vm = (struct vfsmount *)p->vfsmnt;
	struct mount *m = (struct mount *)real_mount(p->vfsmnt), *mp;
	const unsigned char *name;
	__u32 len, pos;

	if (p->dentry == p->root_dentry && p->vfsmnt == p->root_mnt) {
		p->done = PW_ROOT;
		return 1;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == BPF_CORE_READ(vm, mnt_root)) {
		mp = BPF_CORE_READ(m, mnt_parent);
		if (!mp || mp == m) { /* the top of the mount tree */
			p->done = ns_detached(BPF_CORE_READ(m, mnt_ns)) ? PW_NOT_A_NAME : PW_ROOT;
			return 1;
		}
		p->dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		p->vfsmnt = (__u64)mp + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (d == parent) { /* disconnected: d_path would print a tail */
		p->done = PW_NOT_A_NAME;
		return 1;
	}
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	pos = p->pos;
	if (len > NAME_MASK || len + 1 > pos) {
		p->done = PW_TOO_LONG;
		return 1;
	}
	pos -= len;
	p->pos = pos - 1;
	BOUND_PATH(pos);
	BOUND_NAME(len);
	bpf_probe_read_kernel(&p->ts->rev[pos], len, name);
	pos = p->pos;
	BOUND_PATH(pos);
	p->ts->rev[pos] = '/';
	p->dentry = (__u64)parent;
	return 0;
}

/* Write the path of the dentry ts->paths[2 * which] seen through the vfsmount
 * ts->paths[2 * which + 1] (pointers pass as scalars through map memory:
 * a global function takes no kernel pointers), NUL-terminated at ts->buf[off..].
 * Returns the offset of that NUL (the length of everything rendered so far),
 * -ENAMETOOLONG when it does not fit in BST_PATH_MAX, -ENOTNAME for a
 * disconnected dentry or a detached tree, -EPERM otherwise.
 * Global: verified once per program. */
__noinline int bst_dentry_path(struct bst_task *ts, __u32 which, __u32 off)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pwalk p = {};
	__u64 dentry, vfsmnt;
	__u32 n, end, pos;

	if (!ts)
		return -EPERM;
	dentry = ts->paths[which ? 2 : 0];
	vfsmnt = ts->paths[which ? 3 : 1];
	if (!dentry || !vfsmnt)
		return -EPERM;
	p.ts = ts;
	p.dentry = dentry;
	p.vfsmnt = vfsmnt;
	p.root_dentry = (__u64)BPF_CORE_READ(task, fs, root.dentry);
	p.root_mnt = (__u64)BPF_CORE_READ(task, fs, root.mnt);
	p.pos = BST_PATH_MAX;
	bpf_loop(BST_PATH_MAX / 2, path_level, &p, 0);
	if (p.done == PW_NOT_A_NAME)
		return -ENOTNAME;
	if (p.done != PW_ROOT)
		return -ENAMETOOLONG;
	if (p.pos == BST_PATH_MAX) { /* the root itself */
		p.pos = BST_PATH_MAX - 1;
		ts->rev[BST_PATH_MAX - 1] = '/';
	}
	n = BST_PATH_MAX - p.pos;
	if (off >= BST_PATH_MAX || n >= BST_PATH_MAX || off + n >= BST_PATH_MAX)
		return -ENAMETOOLONG;
	end = off + n;
	pos = p.pos;
	BOUND_PATH(off);
	BOUND_PATH(n);
	BOUND_PATH(pos);
	bpf_probe_read_kernel(&ts->buf[off], n, &ts->rev[pos]);
	BOUND_PATH(end);
	ts->buf[end] = 0;
	return end;
}

/* Is (vfsmnt, dentry) something other than a name in the task's mount
 * namespace? A mount of another namespace (reached through /proc/PID/root or
 * a descriptor) or of none (detached, unmounted), or a disconnected dentry.
 * Kernel-internal mounts (pipes, memfd, overlayfs' layers) are names of their
 * own ("pipe:[N]") and pass. For file_open and inode_getattr, which render
 * with bpf_d_path; bst_dentry_path checks as it walks. */
static __always_inline int not_a_name(struct task_struct *task, struct vfsmount *vfsmnt,
				      struct dentry *dentry)
{
	struct mount *m = (struct mount *)real_mount((__u64)vfsmnt);
	struct mnt_namespace *ns = BPF_CORE_READ(m, mnt_ns);

	if (ns && (__u64)ns >= (__u64)-MAX_ERRNO)
		return 0;
	if (ns != BPF_CORE_READ(task, nsproxy, mnt_ns))
		return 1;
	return dentry == BPF_CORE_READ(dentry, d_parent) &&
	       dentry != BPF_CORE_READ(vfsmnt, mnt_root);
}

/* Is the mount ns of a path hook's directory the task's (or internal)? */
static __always_inline int foreign_mount(struct vfsmount *vfsmnt)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mount *m = (struct mount *)real_mount((__u64)vfsmnt);
	struct mnt_namespace *ns = BPF_CORE_READ(m, mnt_ns);

	if (ns && (__u64)ns >= (__u64)-MAX_ERRNO)
		return 0;
	return ns != BPF_CORE_READ(task, nsproxy, mnt_ns);
}

#endif /* __BST_PATH_BPF_H */
