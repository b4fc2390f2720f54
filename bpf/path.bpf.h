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
 */
#ifndef __BST_PATH_BPF_H
#define __BST_PATH_BPF_H

#define PATH_MASK (BST_PATH_MAX - 1)
#define NAME_MASK 255         /* NAME_MAX */

/* Bound an offset in the register that is used (see BOUND_BYTE in render.bpf.h) */
#define BOUND_PATH(v) asm volatile("%[x] &= 0xfff" : [x] "+r"(v))
#define BOUND_NAME(v) asm volatile("%[x] &= 0xff" : [x] "+r"(v))

struct pwalk {
	struct bst_task *ts;
	__u64 dentry;         /* struct dentry * being added */
	__u64 vfsmnt;         /* struct vfsmount * it is seen through */
	__u64 root_dentry;    /* the task's root */
	__u64 root_mnt;
	__u32 pos;            /* the text is ts->rev[pos .. BST_PATH_MAX) */
	__u32 done;           /* PW_* */
};

#define PW_WALKING 0
#define PW_ROOT 1             /* reached the task's root or the top of the mount tree */
#define PW_TOO_LONG 2

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
		if (!mp || mp == m) {             /* the top of the mount tree */
			p->done = PW_ROOT;
			return 1;
		}
		p->dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		p->vfsmnt = (__u64)mp + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (d == parent) {                        /* a disconnected root: stop as d_path does */
		p->done = PW_ROOT;
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
 * -ENAMETOOLONG when it does not fit in BST_PATH_MAX, -EPERM otherwise.
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
	if (p.done != PW_ROOT)
		return -ENAMETOOLONG;
	if (p.pos == BST_PATH_MAX) {              /* the root itself */
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

#endif /* __BST_PATH_BPF_H */
