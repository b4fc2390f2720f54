/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attr.bpf.h — what a name gives besides its contents (issue 31, roads 5
 * and 8): extended attributes and POSIX ACLs set or removed (a file's
 * capabilities, its access rights without chmod, user.* data), and watches
 * that report what other processes do under a path.
 *
 *   inode_setxattr, inode_set_acl (6.2+)        setxattr     ""
 *   inode_removexattr, inode_remove_acl (6.2+)  removexattr  ""
 *   inode_getxattr, inode_get_acl (6.2+)        getxattr     ""
 *   inode_listxattr                             listxattr    ""
 *   inode_setattr, times only (utimensat ...)   utimes       ""
 *   path_notify: inotify_add_watch, fanotify_mark  inotify_add_watch  filename
 *   file_fcntl(F_NOTIFY) (dnotify, proc.bpf.h)     inotify_add_watch  filename
 *
 * The xattr and setattr hooks see a dentry without its mount, so no path is
 * rendered: the rule is the call's (`native-setxattr: permit`). The kernel's own
 * writes under credentials of its own (overlayfs's copy-up with its
 * mounter's) are not the task's: they pass, as in the capable hook; a
 * confined task cannot run with credentials other than its own (io_uring's
 * personalities are decided at uring_override_creds, ipc.bpf.h).
 */
#ifndef __BST_ATTR_BPF_H
#define __BST_ATTR_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "fs.bpf.h"
#include "sys.bpf.h"

/* 1: the current task acts with its own credentials (no override_creds) */
static __always_inline int own_creds(void)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	return BPF_CORE_READ(cur, cred) == BPF_CORE_READ(cur, real_cred);
}

/* op on "", for the task's own credentials only (the kernel's work under
 * credentials of its own passes) */
static __always_inline int own_creds_decide(__u32 op)
{
	return own_creds() ? decide_bare(op) : 0;
}

/* The first argument is a struct mnt_idmap (6.3+) or user_namespace (6.1):
 * not read. */
SEC("lsm/inode_setxattr")
int BST_LSM(bst_inode_setxattr, void *idmap, struct dentry *dentry, const char *name)
{
	return own_creds_decide(BST_OP_SETXATTR);
}

SEC("lsm/inode_removexattr")
int BST_LSM(bst_inode_removexattr, void *idmap, struct dentry *dentry, const char *name)
{
	return own_creds_decide(BST_OP_REMOVEXATTR);
}

/* Linux 6.2+ sets and removes POSIX ACLs through these, not the xattr hooks
 * (loader.NEWER_HOOK_PROGRAMS: left out where the kernel lacks them). */
SEC("lsm/inode_set_acl")
int BST_LSM(bst_inode_set_acl, void *idmap, struct dentry *dentry, const char *acl_name)
{
	return own_creds_decide(BST_OP_SETXATTR);
}

SEC("lsm/inode_remove_acl")
int BST_LSM(bst_inode_remove_acl, void *idmap, struct dentry *dentry, const char *acl_name)
{
	return own_creds_decide(BST_OP_REMOVEXATTR);
}

/* getxattr(2) reads what a file holds besides its contents (user.* data,
 * its capabilities, its ACL), listxattr(2) the names: by name, no open. */
SEC("lsm/inode_getxattr")
int BST_LSM(bst_inode_getxattr, struct dentry *dentry, const char *name)
{
	return own_creds_decide(BST_OP_GETXATTR);
}

SEC("lsm/inode_listxattr")
int BST_LSM(bst_inode_listxattr, struct dentry *dentry)
{
	return own_creds_decide(BST_OP_LISTXATTR);
}

/* Linux 6.2+ reads POSIX ACLs through this, not inode_getxattr. */
SEC("lsm/inode_get_acl")
int BST_LSM(bst_inode_get_acl, void *idmap, struct dentry *dentry, const char *acl_name)
{
	return own_creds_decide(BST_OP_GETXATTR);
}

/* struct iattr's ia_valid (include/linux/fs.h) */
#define BST_ATTR_ATIME 16
#define BST_ATTR_MTIME 32
/* mode, uid, gid, size, force, kill suid/sgid/priv, open: chmod, chown and
 * truncate (decided at their path hooks), the kernel clearing setuid bits */
#define BST_ATTR_NOT_TIMES (1 | 2 | 4 | 8 | 512 | 2048 | 4096 | 16384 | 32768)

/* utimes(2), utimensat(2) (futimens too), utime(2): a change of a file's
 * times alone (every other attribute is decided at its path hook). The
 * hook's arguments are (dentry, iattr) on 6.1 and (idmap, dentry, iattr)
 * on 6.3+: the iattr is the last one. */
SEC("lsm/inode_setattr")
int BST_LSM(bst_inode_setattr, void *a0, void *a1)
{
	__u64 n = bpf_get_func_arg_cnt(ctx), attr = 0;
	unsigned int valid = 0;

	if (n < 2 || bpf_get_func_arg(ctx, n - 1, &attr) || !attr)
		return 0;
	bpf_probe_read_kernel(&valid, sizeof(valid), &((struct iattr *)attr)->ia_valid);
	if (!(valid & (BST_ATTR_ATIME | BST_ATTR_MTIME)) || (valid & BST_ATTR_NOT_TIMES))
		return 0;
	return own_creds_decide(BST_OP_UTIMES);
}

/* inotify_add_watch(2) and fanotify_mark(2) (a mount or file system mark
 * too: its path): the watched path. */
SEC("lsm/path_notify")
int BST_LSM(bst_path_notify, const struct path *path, __u64 mask, unsigned int obj_type)
{
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_NOTIFY);
}

/* fcntl(F_NOTIFY) (dnotify): the directory's path; 0 (remove the watch) passes. */
static __always_inline int notify_fcntl(struct file *file, unsigned long arg)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	struct vfsmount *mnt = BPF_CORE_READ(file, f_path.mnt);
	int r;

	if (!arg)
		return 0;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	ts->paths[0] = (__u64)BPF_CORE_READ(file, f_path.dentry);
	ts->paths[1] = (__u64)mnt;
	r = foreign_mount(mnt) ? -ENOTNAME : bst_dentry_path(ts, 0, 0);
	return path_decide(&s, ts, r, BST_OP_NOTIFY);
}

#endif /* __BST_ATTR_BPF_H */
