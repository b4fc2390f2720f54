/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mount.bpf.h — mounts rename the world: a bind mount, an overlay or a fresh
 * procfs/cgroup2/bpffs under a permitted name would make every path rule
 * mean something else. A confined task mounts, unmounts and pivots only
 * where its policy says (docs/enforcement.md):
 *
 *   sb_mount      mount(2): "filename\0fstype", the mount point and the file
 *                 system type; a mount that makes no new file system says
 *                 what it does instead: fstype "bind", "remount", "move" or
 *                 "propagation" (so a bind mount cannot pass for a tmpfs)
 *   move_mount    move_mount(2) (the new mount API's last step): "to\0move"
 *   sb_umount     umount2(2): the mount point; never the bpffs of our pins
 *   sb_pivotroot  pivot_root(2): the new root
 */
#ifndef __BST_MOUNT_BPF_H
#define __BST_MOUNT_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "own.bpf.h"

#define MS_REMOUNT    32
#define MS_BIND	      4096
#define MS_MOVE	      8192
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE    (1 << 18)
#define MS_SLAVE      (1 << 19)
#define MS_SHARED     (1 << 20)
#define FSTYPE_MAX    64

/* The path (dentry, mnt) at ts->buf[0] (path.bpf.h); its length or < 0. */
static __always_inline int put_path(struct bst_task *ts, struct dentry *d, struct vfsmount *m)
{
	ts->paths[0] = (__u64)d;
	ts->paths[1] = (__u64)m;
	return bst_dentry_path(ts, 0, 0);
}

/* What mount(2) with these flags does, in path_mount()'s order: "" for a
 * new file system (then the type is rendered). */
static __always_inline int put_mount_kind(struct bst_task *ts, __u32 off, unsigned long flags)
{
	if (flags & MS_REMOUNT)
		return PUT_NAME(ts, off, "remount");
	if (flags & MS_BIND)
		return PUT_NAME(ts, off, "bind");
	if (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE))
		return PUT_NAME(ts, off, "propagation");
	if (flags & MS_MOVE)
		return PUT_NAME(ts, off, "move");
	return 0;
}

SEC("lsm/sb_mount")
int BST_LSM(bst_sb_mount, const char *dev_name, const struct path *path, const char *type,
	    unsigned long flags, void *data)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	__u64 off;
	long m;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = put_path(ts, BPF_CORE_READ(path, dentry), BPF_CORE_READ(path, mnt));
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_MOUNT, r);
	off = r + 1;
	BOUND_PATH(off);
	m = put_mount_kind(ts, off, flags);
	if (m == 0 && type) {
		m = bpf_probe_read_kernel_str(&ts->buf[off], FSTYPE_MAX, type);
		m = m > 0 ? m - 1 : -1;
	} else if (m == 0) {
		ts->buf[off] = 0;
	}
	if (m < 0)
		return deny_unrendered(&s, ts, BST_OP_MOUNT, -EPERM);
	return bst_decide(&s, ts, r + 1 + m, s.policy, BST_OP_MOUNT);
}

SEC("lsm/move_mount")
int BST_LSM(bst_move_mount, const struct path *from_path, const struct path *to_path)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	__u64 off;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = put_path(ts, BPF_CORE_READ(to_path, dentry), BPF_CORE_READ(to_path, mnt));
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_MOUNT, r);
	off = r + 1;
	BOUND_PATH(off);
	return bst_decide(&s, ts, r + 1 + PUT_NAME(ts, off, "move"), s.policy, BST_OP_MOUNT);
}

SEC("lsm/sb_umount")
int BST_LSM(bst_sb_umount, struct vfsmount *mnt, int flags)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	if (is_own(BST_OWN_SB, BPF_CORE_READ(mnt, mnt_sb, s_dev), 1))
		return bst_deny_own(&s, ts, BST_OP_UMOUNT);
	r = put_path(ts, BPF_CORE_READ(mnt, mnt_root), mnt);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_UMOUNT, r);
	return bst_decide(&s, ts, r, s.policy, BST_OP_UMOUNT);
}

SEC("lsm/sb_pivotroot")
int BST_LSM(bst_sb_pivotroot, const struct path *old_path, const struct path *new_path)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = put_path(ts, BPF_CORE_READ(new_path, dentry), BPF_CORE_READ(new_path, mnt));
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_PIVOT_ROOT, r);
	return bst_decide(&s, ts, r, s.policy, BST_OP_PIVOT_ROOT);
}

#endif /* __BST_MOUNT_BPF_H */
