/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs.bpf.h — the file system hooks that decide a path: path_unlink, mkdir,
 * rmdir, mknod, truncate, symlink, chmod, chown, chroot, link and rename
 * (rendered by path.bpf.h), and inode_getattr (the stat of a name).
 */
#ifndef __BST_FS_BPF_H
#define __BST_FS_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFREG		0100000
#define RENAME_EXCHANGE 2
#define AT_EMPTY_PATH	0x1000
#define AT_FDCWD	-100
#define PF_IO_WORKER	0x10

/* ---- path_* hooks: the object is the path of a dentry (path.bpf.h) ---- */

/* Decide op on ts->buf[0..n), or deny (fail closed) when it was not rendered. */
static __always_inline int path_decide(struct subject *s, struct bst_task *ts, int n, __u32 op)
{
	if (n < 0)
		return deny_unrendered(s, ts, op, n);
	return bst_decide(s, ts, n, s->policy, op);
}

/* own.bpf.h: a pin of ours is never unlinked, renamed, chmod'ed ... */
__noinline int bst_own_dentry(struct subject *s, struct bst_task *ts, __u32 op);

/* unix.bpf.h (included at the end): path_mknod of a socket inode is bind(2)'s
 * or mknod(2)'s. */
static __always_inline __u32 unix_bind_op(void);

static __always_inline int path_op(const struct path *dir, struct dentry *dentry, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	ts->paths[0] = (__u64)dentry;
	if ((r = bst_own_dentry(&s, ts, op)))
		return r;
	ts->paths[0] = (__u64)dentry;
	ts->paths[1] = (__u64)BPF_CORE_READ(dir, mnt);
	r = foreign_mount(BPF_CORE_READ(dir, mnt)) ? -ENOTNAME : bst_dentry_path(ts, 0, 0);
	return path_decide(&s, ts, r, op);
}

/* Two paths, rendered "first\0second" (rename, link). */
static __always_inline int path_op2(struct dentry *d1, struct vfsmount *m1, struct dentry *d2,
				    struct vfsmount *m2, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	ts->paths[0] = (__u64)d2;
	if ((r = bst_own_dentry(&s, ts, op)))
		return r;
	ts->paths[0] = (__u64)d1;
	if ((r = bst_own_dentry(&s, ts, op)))
		return r;
	ts->paths[0] = (__u64)d1;
	ts->paths[1] = (__u64)m1;
	ts->paths[2] = (__u64)d2;
	ts->paths[3] = (__u64)m2;
	r = foreign_mount(m1) || foreign_mount(m2) ? -ENOTNAME : bst_dentry_path(ts, 0, 0);
	if (r >= 0)
		r = bst_dentry_path(ts, 1, r + 1);
	return path_decide(&s, ts, r, op);
}

SEC("lsm/path_unlink")
int BST_LSM(bst_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_UNLINK);
}

SEC("lsm/path_mkdir")
int BST_LSM(bst_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_MKDIR);
}

SEC("lsm/path_rmdir")
int BST_LSM(bst_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_RMDIR);
}

/* mknod(2), mkfifo(3), and open(O_CREAT) of a new file (may_o_create), which
 * creates the file before file_open could deny the open: a regular file is
 * decided as fswrite, so a denied open(O_CREAT) leaves nothing behind. A
 * socket inode created by bind(2) on a unix path is its bind, decided on
 * the resolved directory and name (unix.bpf.h); mknod(2) of one is mknod. */
SEC("lsm/path_mknod")
int BST_LSM(bst_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	    unsigned int dev, int ret)
{
	__u32 type = mode & S_IFMT;

	if (ret)
		return ret;
	if (type == S_IFSOCK)
		return path_op(dir, dentry, unix_bind_op());
	return path_op(dir, dentry, type == 0 || type == S_IFREG ? BST_OP_FSWRITE : BST_OP_MKNOD);
}

/* truncate(2), ftruncate(2) and open(O_TRUNC) */
SEC("lsm/path_truncate")
int BST_LSM(bst_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_TRUNCATE);
}

/* ftruncate(2) and open(O_TRUNC) on Linux 6.2+, which call this hook instead
 * of path_truncate (loader.NEWER_HOOK_PROGRAMS: 6.1 decides them there). */
SEC("lsm/file_truncate")
int BST_LSM(bst_file_truncate, struct file *file)
{
	const struct path *p = __builtin_preserve_access_index(&file->f_path);

	return path_op(p, BPF_CORE_READ(file, f_path.dentry), BST_OP_TRUNCATE);
}

/* the new link's path (the link's target text is not an object) */
SEC("lsm/path_symlink")
int BST_LSM(bst_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	    int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_SYMLINK);
}

SEC("lsm/path_chmod")
int BST_LSM(bst_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHMOD);
}

SEC("lsm/path_chown")
int BST_LSM(bst_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHOWN);
}

SEC("lsm/path_chroot")
int BST_LSM(bst_path_chroot, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHROOT);
}

/* link(2): do_linkat refuses links across mounts (EXDEV) before this hook,
 * so the existing file is seen through new_dir's mount. */
SEC("lsm/path_link")
int BST_LSM(bst_path_link, struct dentry *old_dentry, const struct path *new_dir,
	    struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt);

	if (ret)
		return ret;
	return path_op2(old_dentry, mnt, new_dentry, mnt, BST_OP_LINK);
}

/* rename(2). 6.1 calls the hook twice for RENAME_EXCHANGE (both directions);
 * 6.2+ calls it once with a fifth argument, flags: ctx[4] is that argument
 * there and this program's `ret` slot on 6.1 (0), so reading it serves both. */
SEC("lsm/path_rename")
int BST_LSM(bst_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	    const struct path *new_dir, struct dentry *new_dentry)
{
	struct vfsmount *om = BPF_CORE_READ(old_dir, mnt), *nm = BPF_CORE_READ(new_dir, mnt);
	__u64 flags = ((__u64 *)ctx)[4];
	int r;

	r = path_op2(old_dentry, om, new_dentry, nm, BST_OP_RENAME);
	if (r || !(flags & RENAME_EXCHANGE))
		return r;
	return path_op2(new_dentry, nm, old_dentry, om, BST_OP_RENAME);
}

/* ---- stat ---- */

/* Was descriptor fd opened with O_PATH (so its open was never decided)? An
 * fd that cannot be read counts as O_PATH (decide: fail closed). */
static __always_inline int fd_is_opath(struct task_struct *task, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 1;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffffff]) || !f)
		return 1;
	return (BPF_CORE_READ(f, f_flags) & O_PATH) != 0;
}

/* Is this getattr a stat of a name? stat, lstat, newfstatat and statx, and
 * a descriptor's only when it was opened with O_PATH (fstat, or AT_EMPTY_PATH
 * with an empty name: glibc's fstat): another descriptor's open was decided.
 * io_uring's IORING_OP_STATX (run by an io worker, or inline in
 * io_uring_enter) is always decided. x86-64 system call numbers; other
 * callers of vfs_getattr are not decided (x86-64 only: the build refuses
 * other architectures). */
static __always_inline int stat_of_a_name(struct task_struct *task)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs;
	unsigned long flags, name;
	long nr, dfd;
	char c = 0;

	if (task->flags & PF_IO_WORKER)
		return 1;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr == 4 || nr == 6 || nr == 426) /* stat, lstat, io_uring_enter */
		return 1;
	dfd = BPF_CORE_READ(regs, di);
	if (nr == 5) /* fstat(fd, buf) */
		return fd_is_opath(task, dfd);
	if (nr == 262) { /* newfstatat(dfd, name, buf, flags) */
		flags = BPF_CORE_READ(regs, r10);
		name = BPF_CORE_READ(regs, si);
	} else if (nr == 332) { /* statx(dfd, name, flags, mask, buf) */
		flags = BPF_CORE_READ(regs, dx);
		name = BPF_CORE_READ(regs, si);
	} else {
		return 0;
	}
	if (!(flags & AT_EMPTY_PATH))
		return 1;
	/* unreadable name: decide (fail closed) */
	if (bpf_probe_read_user(&c, 1, (void *)name))
		return 1;
	if (c)
		return 1;
	return dfd == AT_FDCWD || fd_is_opath(task, dfd); /* the cwd is a name */
#else
#error "x86-64 only: these are x86-64 system call numbers (docs/install.md)"
#endif
}

/* A kernel-internal mount: overlayfs' private mount of a layer, whose
 * getattr serves a stat already decided on the overlay file (a pipe's, a
 * memfd's). Other mounts outside the task's namespace are not names:
 * not_a_name denies them. */
static __always_inline int internal_mount(const struct path *path)
{
	struct mount *m = (struct mount *)real_mount((__u64)BPF_CORE_READ(path, mnt));

	return (__u64)BPF_CORE_READ(m, mnt_ns) >= (__u64)-MAX_ERRNO;
}

SEC("lsm/inode_getattr")
int BST_LSM(bst_inode_getattr, const struct path *path, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	long n;
	int r;

	if (ret)
		return ret;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	if (!stat_of_a_name(task) || internal_mount(path))
		return 0;
	if (not_a_name(task, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry)))
		return deny_unrendered(&s, ts, BST_OP_STAT, -ENOTNAME);
	n = bpf_d_path((struct path *)path, ts->buf, BST_PATH_MAX);
	if (n <= 0)
		return deny_unrendered(&s, ts, BST_OP_STAT, n);
	return bst_decide(&s, ts, (__u32)n - 1, s.policy, BST_OP_STAT);
}

#endif /* __BST_FS_BPF_H */
