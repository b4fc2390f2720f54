// SPDX-License-Identifier: GPL-2.0
/*
 * bpfsystrace.bpf.c — BPF-LSM programs that enforce compiled systrace policies.
 *
 * Every hook does the same four things: find the subject (is the task inside an
 * attached cgroup, and which policy does its executable run under), render the
 * object string (resolved path or systrace socket address), walk the policy's
 * DFA for that operation over the string, and return the verdict of the rule
 * the walk ends on, counting the rule's hit and emitting an event for denials
 * and `log` rules. Python formats and explains; this file only decides.
 *
 * Failure policy: anything unexpected for a confined task (missing map entry,
 * d_path error, no memory) DENIES. Tasks outside every target return 0 at once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "bpfsystrace.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFREG		0100000
#define RENAME_EXCHANGE 2
#define AT_EMPTY_PATH	0x1000
#define AT_FDCWD	-100
#define PF_IO_WORKER	0x10
#define FMODE_READ	0x1
#define FMODE_WRITE	0x2
#define FMODE_EXEC	0x20
#define FMODE_BACKING	0x2000000  /* 6.8+: overlayfs' file on the real layer */
#define FMODE_NOACCOUNT 0x20000000 /* internal opens, e.g. overlayfs' real file (6.1) */

const volatile __u32 bst_abi_version = BST_ABI_VERSION;

#include "errno.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include "render.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "subject.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

/* The binding a caller's execve rule asks for: BIND_INHERIT or BIND_DETACH for
 * a permit[inherit] or permit[detach] rule, BIND_NONE otherwise. */
static __always_inline __u32 exec_binding(struct subject *s, __u32 rule)
{
	struct bst_rule_key rk = { .gen = s->gen, .rule = rule };
	struct bst_rule *r = bpf_map_lookup_elem(&rules, &rk);

	if (!r || r->errno_ > 0)
		return BIND_NONE;
	if (r->flags & BST_RULE_DETACH)
		return BIND_DETACH;
	return r->flags & BST_RULE_INHERIT ? BIND_INHERIT : BIND_NONE;
}

/* The binary's open of a permitted execve: note the binding (BIND_*) its rule
 * asks for, which bprm_committed_creds puts in force if the execve succeeds.
 * The record exists: find_subject made it. */
static __always_inline int exec_bind(struct subject *s, __u32 mode)
{
	struct bst_subj *r = bpf_task_storage_get(&subjects, bpf_get_current_task_btf(), 0, 0);

	if (!r) {
		count(BST_CNT_MAP_MISSING); /* cannot happen; fail closed */
		return -EPERM;
	}
	r->pend_mode = mode;
	r->pend_dev = s->pol_dev;
	r->pend_ino = s->pol_ino;
	return 0;
}

/* An execve: the binary's own open, or (after bprm_check) its interpreter. */
static __always_inline int decide_exec(struct subject *s, struct bst_task *ts, __u32 len,
				       struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 dev, binding, own;
	__u64 ino;
	int err;

	inode_id(inode, &dev, &ino);
	if ((s->flags & BST_TARGET_MANAGER) && dev == s->manager_dev && ino == s->manager_ino) {
		/* Nothing inside a target may become the exempt service manager. */
		struct decision d = { len, s->policy, BST_OP_EXECVE, BST_RULE_NONE, EPERM, 0 };

		bst_emit(s, ts, &d);
		return -EPERM;
	}
	if (ts->exec_phase == EXEC_ARMED && ts->exec_gen == s->gen &&
	    ts->exec_policy != BST_RULE_NONE)
		/* The interpreter of a program that has its own policy: that
		 * policy must allow reading it, as it must its libraries. */
		return bst_decide(s, ts, len, ts->exec_policy, BST_OP_FSREAD);
	if ((s->flags & BST_TARGET_LEARN) && ts->exec_phase == EXEC_ARMED) {
		/* Learn mode: the interpreter is read by the binary being executed
		 * (as enforcement decides it once that binary has a policy); the
		 * caller's execve of it is recorded below as well. */
		struct subject n = *s;
		struct decision d = {
			len, s->policy, BST_OP_FSREAD, BST_RULE_NONE, 0, BST_EV_INTERP
		};

		n.exe_dev = ts->exec_dev;
		n.exe_ino = ts->exec_ino;
		bst_learn(&n, ts, &d);
	}
	if (ts->exec_phase == EXEC_ARMED)
		return bst_decide(s, ts, len, s->policy, BST_OP_EXECVE);
	/* The binary's own open: the caller's execve rules decide it (systrace),
	 * looked up once. A permit enters the new binary's own policy if it has
	 * one (a transition), unless the rule keeps (inherit) or drops (detach)
	 * confinement. The one exception is the entry: a task that came in from
	 * outside and has not exec'd since, running a binary without a policy (a
	 * shell, a test harness, the service manager's child), may exec a binary
	 * that has its own policy: that is how the program enters it. */
	struct decision d = { len, s->policy, BST_OP_EXECVE, BST_RULE_NONE, 0, 0 };

	d.rule = bst_match(s, ts, len, d.policy, BST_OP_EXECVE);
	binding = exec_binding(s, d.rule);
	own = exe_policy(s->gen, dev, ino) != BST_RULE_NONE;
	if (s->launcher && own && binding == BIND_NONE) {
		count(BST_CNT_EXEC_TRANSITION);
		count(BST_CNT_EXEC_ENTRY);
		return exec_bind(s, BIND_NONE);
	}
	err = bst_verdict(s, ts, &d);
	if (err)
		return err;
	if (own && binding == BIND_NONE)
		count(BST_CNT_EXEC_TRANSITION);
	return exec_bind(s, binding);
}

SEC("lsm.s/file_open")
int BPF_PROG(bst_file_open, struct file *file, int ret)
{
	struct subject s = {};
	struct bst_task *ts;
	unsigned int mode;
	long n;
	__u32 len;
	int err, exec;

	if (ret)
		return ret;
	mode = file->f_mode;
	/* A file system's internal open on behalf of an open we already decided
	 * (overlayfs opening the real file below the overlay file, with the same
	 * path): deciding it again would check the lower inode's identity, not
	 * the file the process opened. */
	if (mode & (FMODE_NOACCOUNT | FMODE_BACKING))
		return 0;
	err = find_subject(&s);
	if (err <= 0)
		return err;
	ts = task_scratch();
	if (!ts) {
		count(BST_CNT_NO_MEMORY);
		return -EPERM;
	}
	n = bpf_d_path((struct path *)&file->f_path, ts->buf, BST_PATH_MAX);
	if (n <= 0)
		return deny_unrendered(&s, ts, BST_OP_FSREAD, n);
	len = (__u32)n - 1;
	/* execve opens with __FMODE_EXEC in f_flags (f_mode gets FMODE_EXEC
	 * only later on some kernels) */
	exec = (mode & FMODE_EXEC) || (file->f_flags & FMODE_EXEC);
	if (!exec && s.manager) {
		count(BST_CNT_MANAGER);
		return 0;
	}
	/* d_path's text for a file opened by handle, or in a detached tree */
	if (not_a_name(bpf_get_current_task_btf(), file->f_path.mnt, file->f_path.dentry))
		return deny_unrendered(&s, ts, exec ? BST_OP_EXECVE : BST_OP_FSREAD, -ENOTNAME);
	if (exec)
		return decide_exec(&s, ts, len, file);
	if (mode & FMODE_READ) {
		err = bst_decide(&s, ts, len, s.policy, BST_OP_FSREAD);
		if (err)
			return err;
	}
	if (mode & FMODE_WRITE)
		return bst_decide(&s, ts, len, s.policy, BST_OP_FSWRITE);
	return 0;
}

/* unix.bpf.h (included at the end): AF_UNIX names are decided where the
 * kernel resolves them, AF_UNSPEC as the INET code reads it. */
static __always_inline int unix_or_unspec(struct bst_task *ts, __u16 sk_family, __u16 sk_type,
					  int addrlen, __u32 op);
static __always_inline __u32 unix_bind_op(void);

static __always_inline int sock_hook(struct socket *sock, struct sockaddr *address, int addrlen,
				     __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int len = path_begin(&s, &ts);

	if (len <= 0)
		return len;
	/* the kernel's copy of the address is a sockaddr_storage: 112 bytes are there */
	bpf_probe_read_kernel(ts->sa, sizeof(ts->sa), address);
	len = unix_or_unspec(ts, BPF_CORE_READ(sock, sk, __sk_common.skc_family),
			     BPF_CORE_READ(sock, type), addrlen, op);
	if (len <= 0)
		return len; /* decided where the kernel resolves the name (unix.bpf.h) */
	len = bst_render(ts, addrlen);
	if (len < 0)
		return -EPERM;
	return bst_decide(&s, ts, len, s.policy, op);
}

SEC("lsm/socket_bind")
int BPF_PROG(bst_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return sock_hook(sock, address, addrlen, BST_OP_BIND);
}

SEC("lsm/socket_connect")
int BPF_PROG(bst_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen,
	     int ret)
{
	if (ret)
		return ret;
	return sock_hook(sock, address, addrlen, BST_OP_CONNECT);
}

/* sendto(2)/sendmsg(2) with a destination (msg_name, the kernel's copy): a
 * datagram to that address, decided by the policy's sendto, sendmsg and
 * connect rules, so UDP (and unix datagrams) cannot go around connect rules.
 * Without an address the socket is connected: connect decided it. */
SEC("lsm/socket_sendmsg")
int BPF_PROG(bst_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sockaddr *name;

	if (ret)
		return ret;
	name = BPF_CORE_READ(msg, msg_name);
	if (!name)
		return 0;
	return sock_hook(sock, name, BPF_CORE_READ(msg, msg_namelen), BST_OP_SENDTO);
}

/* The binary of an execve passed its open: later FMODE_EXEC opens in this
 * execve are its interpreter's, decided by the policy the binary will run
 * under if it has one (its own, or its caller's for permit[inherit]). */
SEC("lsm/bprm_check_security")
int BPF_PROG(bst_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct subject s = {};
	struct bst_task *ts;
	struct bst_subj *r;
	__u32 dev;
	__u64 ino;
	int err;

	if (ret)
		return ret;
	err = find_subject(&s);
	if (err <= 0)
		return err;
	ts = task_scratch();
	if (!ts) {
		count(BST_CNT_NO_MEMORY);
		return -EPERM;
	}
	inode_id(BPF_CORE_READ(bprm, file, f_inode), &dev, &ino);
	ts->exec_phase = EXEC_ARMED;
	ts->exec_gen = s.gen;
	ts->exec_policy = exe_policy(s.gen, dev, ino);
	r = bpf_task_storage_get(&subjects, bpf_get_current_task_btf(), 0, 0);
	if (r && r->pend_mode == BIND_INHERIT)
		/* the program will run under the caller's policy: so is its interpreter read */
		ts->exec_policy = s.policy;
	ts->exec_dev = dev;
	ts->exec_ino = ino;
	return 0;
}

/* prepare_creds() runs at the start of every execve, before the binary is
 * opened (and elsewhere): outside an execve it disarms a previous execve that
 * failed after bprm_check, so its state cannot leak into the next one. */
SEC("lsm/cred_prepare")
int BPF_PROG(bst_cred_prepare, struct cred *new, const struct cred *old, gfp_t gfp, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bst_task *ts;
	struct bst_subj *r;

	if (ret)
		return ret;
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	ts = bpf_task_storage_get(&task_store, task, 0, 0);
	if (ts)
		ts->exec_phase = EXEC_IDLE;
	r = bpf_task_storage_get(&subjects, task, 0, 0);
	if (r)
		r->pend_mode = BIND_NONE;
	return 0;
}

/* The execve succeeded: the task now runs the new binary, and that is the
 * executable its policy is looked up by from now on (whatever its mm later
 * claims, e.g. after prctl(PR_SET_MM_EXE_FILE)). Under a permit[inherit] rule
 * it keeps its caller's policy, under permit[detach] it leaves confinement
 * (for good, as in systrace); a plain execve ends an inherit binding. The
 * manager's and the launcher's exemptions end here. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(bst_bprm_committed, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bst_task *ts = bpf_task_storage_get(&task_store, task, 0, 0);
	struct bst_subj *r = bpf_task_storage_get(&subjects, task, 0, 0);
	__u32 dev;
	__u64 ino;

	if (ts)
		ts->exec_phase = EXEC_IDLE;
	if (!r)
		return 0;
	inode_id(BPF_CORE_READ(bprm, file, f_inode), &dev, &ino);
	r->exe_dev = dev;
	r->exe_ino = ino;
	r->flags = SUBJ_EXECD;
	if (r->pend_mode == BIND_DETACH) {
		r->mode = SUBJ_DETACHED;
		count(BST_CNT_EXEC_DETACH);
	} else if (r->pend_mode == BIND_INHERIT && r->mode == SUBJ_CONFINED) {
		r->pol_dev = r->pend_dev;
		r->pol_ino = r->pend_ino;
		r->flags |= SUBJ_INHERIT;
		count(BST_CNT_EXEC_INHERIT);
	} else {
		r->pol_dev = dev;
		r->pol_ino = ino;
	}
	r->pend_mode = BIND_NONE;
	return 0;
}

/* fork, clone, clone3 (CLONE_INTO_CGROUP too), threads, io_uring workers: the
 * child of a confined task is confined alike, under the same attachment and
 * policy, before it can run, in whatever cgroup it starts. A parent inside a
 * target that no hook has seen yet is recorded first. No memory for the
 * record fails the fork (fail closed). */
SEC("lsm/task_alloc")
int BPF_PROG(bst_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct bst_subj *parent, *child;
	struct bst_target *t = 0;
	int err;

	if (ret)
		return ret;
	parent = subj_current(cur, &t, &err);
	if (err)
		return -ENOMEM;
	if (!parent || !t)
		return 0;
	child = bpf_task_storage_get(&subjects, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child) {
		count(BST_CNT_NO_MEMORY);
		return -ENOMEM;
	}
	child->target_id = parent->target_id;
	child->attach_id = parent->attach_id;
	child->pol_dev = parent->pol_dev;
	child->pol_ino = parent->pol_ino;
	child->exe_dev = parent->exe_dev;
	child->exe_ino = parent->exe_ino;
	child->mode = parent->mode;
	child->flags = parent->flags;
	child->pend_mode = BIND_NONE;
	return 0;
}

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

static __always_inline int path_op(const struct path *dir, struct dentry *dentry, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = path_begin(&s, &ts);

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
	int r = path_begin(&s, &ts);

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
int BPF_PROG(bst_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_UNLINK);
}

SEC("lsm/path_mkdir")
int BPF_PROG(bst_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_MKDIR);
}

SEC("lsm/path_rmdir")
int BPF_PROG(bst_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
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
int BPF_PROG(bst_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
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
int BPF_PROG(bst_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_TRUNCATE);
}

/* the new link's path (the link's target text is not an object) */
SEC("lsm/path_symlink")
int BPF_PROG(bst_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	if (ret)
		return ret;
	return path_op(dir, dentry, BST_OP_SYMLINK);
}

SEC("lsm/path_chmod")
int BPF_PROG(bst_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHMOD);
}

SEC("lsm/path_chown")
int BPF_PROG(bst_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHOWN);
}

SEC("lsm/path_chroot")
int BPF_PROG(bst_path_chroot, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return path_op(path, BPF_CORE_READ(path, dentry), BST_OP_CHROOT);
}

/* link(2): do_linkat refuses links across mounts (EXDEV) before this hook,
 * so the existing file is seen through new_dir's mount. */
SEC("lsm/path_link")
int BPF_PROG(bst_path_link, struct dentry *old_dentry, const struct path *new_dir,
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
int BPF_PROG(bst_path_rename, const struct path *old_dir, struct dentry *old_dentry,
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
 * callers of vfs_getattr (and other architectures) are not decided. */
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
	if (bpf_copy_from_user(&c, 1, (void *)name))
		return 1;
	if (c)
		return 1;
	return dfd == AT_FDCWD || fd_is_opath(task, dfd); /* the cwd is a name */
#else
	return 0;
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

SEC("lsm.s/inode_getattr")
int BPF_PROG(bst_inode_getattr, const struct path *path, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	long n;
	int r;

	if (ret)
		return ret;
	r = path_begin(&s, &ts);
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
	int err = path_begin(&s, &ts);

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
int BPF_PROG(bst_task_fix_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	if (ret)
		return ret;
	return ids_hook(new->uid.val, old->uid.val, new->euid.val, old->euid.val, new->suid.val,
			old->suid.val, new->fsuid.val, BST_OP_SETUID);
}

SEC("lsm/task_fix_setgid")
int BPF_PROG(bst_task_fix_setgid, struct cred *new, const struct cred *old, int flags, int ret)
{
	if (ret)
		return ret;
	return ids_hook(new->gid.val, old->gid.val, new->egid.val, old->egid.val, new->sgid.val,
			old->sgid.val, new->fsgid.val, BST_OP_SETGID);
}

/* ---- socket, listen, accept ---- */

/* socket(2) and socketpair(2): "sockdom\0socktype" (AF_INET\0SOCK_DGRAM).
 * The kernel's own sockets (kern: created by the kernel on its behalf,
 * e.g. for NFS or a tunnel) are never decided. */
SEC("lsm/socket_create")
int BPF_PROG(bst_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r;

	if (ret)
		return ret;
	if (kern)
		return 0;
	r = path_begin(&s, &ts);
	if (r <= 0)
		return r;
	r = bst_put_socket(ts, family, type);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_SOCKET, -EPERM);
	return bst_decide(&s, ts, r, s.policy, BST_OP_SOCKET);
}

/* The address a socket is bound to, rendered as bind(2)'s (render.bpf.h):
 * inet-[addr]:port, a unix socket's path as resolved at bind (the dentry it
 * created, path.bpf.h) or @name. An unbound inet socket (listen binds it to
 * an ephemeral port after this hook) renders with port 0, an unbound unix
 * socket as "". The socket is ts->paths[0] (a global function takes no kernel
 * pointers). Returns the length, -1 or path.bpf.h's -errno. Global: verified once. */
__noinline int bst_sock_local(struct bst_task *ts)
{
	struct unix_address *ua;
	struct unix_sock *u;
	struct socket *sock;
	struct sock *sk;
	__u16 family, port;
	int len = 2;

	if (!ts)
		return -1;
	sock = (struct socket *)ts->paths[0];
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return -1;
	__builtin_memset(ts->sa, 0, sizeof(ts->sa));
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ts->sa[0] = family & 0xff;
	ts->sa[1] = family >> 8;
	if (family == AF_INET || family == AF_INET6) {
		port = BPF_CORE_READ(sk, __sk_common.skc_num); /* host order */
		ts->sa[2] = port >> 8;
		ts->sa[3] = port & 0xff;
	}
	if (family == AF_INET) {
		bpf_core_read(&ts->sa[4], 4, &sk->__sk_common.skc_rcv_saddr);
		len = 16;
	} else if (family == AF_INET6) {
		bpf_core_read(&ts->sa[8], 16, &sk->__sk_common.skc_v6_rcv_saddr);
		len = 28;
	} else if (family == AF_UNIX) {
		u = (struct unix_sock *)sk;
		ts->paths[0] = (__u64)BPF_CORE_READ(u, path.dentry);
		ts->paths[1] = (__u64)BPF_CORE_READ(u, path.mnt);
		if (ts->paths[0])
			return bst_dentry_path(ts, 0, 0);
		ua = BPF_CORE_READ(u, addr);
		if (ua) {
			len = BPF_CORE_READ(ua, len);
			if (len < 2 || len > 110)
				return -1;
			bpf_probe_read_kernel(
				ts->sa, len & 0x7f,
				(void *)ua + bpf_core_field_offset(struct unix_address, name));
		}
	}
	return bst_render(ts, len);
}

static __always_inline int sock_local_hook(struct socket *sock, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = path_begin(&s, &ts);

	if (r <= 0)
		return r;
	ts->paths[0] = (__u64)sock;
	r = bst_sock_local(ts);
	if (r < 0)
		return deny_unrendered(&s, ts, op, r == -1 ? -EPERM : r);
	return bst_decide(&s, ts, r, s.policy, op);
}

SEC("lsm/socket_listen")
int BPF_PROG(bst_socket_listen, struct socket *sock, int backlog, int ret)
{
	if (ret)
		return ret;
	return sock_local_hook(sock, BST_OP_LISTEN);
}

/* accept(2), accept4(2): the listening socket's address */
SEC("lsm/socket_accept")
int BPF_PROG(bst_socket_accept, struct socket *sock, struct socket *newsock, int ret)
{
	if (ret)
		return ret;
	return sock_local_hook(sock, BST_OP_ACCEPT);
}

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
int BPF_PROG(bst_task_fix_setgroups, struct cred *new, const struct cred *old, int ret)
{
	struct groups_ctx c = {};
	struct group_info *gi;
	int r, n;

	if (ret)
		return ret;
	r = path_begin(&c.s, &c.ts);
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

/* ---- kill: "pidname\0signame" ---- */

/* kill(2), tkill, tgkill, rt_(tg)sigqueueinfo, pidfd_send_signal, and each
 * target of kill(0|-pgrp|-1): pidname is the target's executable path (as
 * the sender sees it), "<unknown>" without one (a kernel thread, an exiting
 * task). Not decided: signals the kernel sends (SEND_SIG_PRIV, si_code > 0),
 * on another's behalf (cred: USB async I/O), and those a process sends to
 * itself or its own threads (raise, abort, glibc's setxid and cancellation
 * signals): they give it nothing it does not have. */
SEC("lsm/task_kill")
int BPF_PROG(bst_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	struct file *exe;
	int r, m;

	if (ret)
		return ret;
	if (cred || (__u64)info == 1 || ((__u64)info > 1 && BPF_CORE_READ(info, si_code) > 0))
		return 0;
	if (BPF_CORE_READ(p, tgid) == BPF_CORE_READ(cur, tgid))
		return 0;
	r = path_begin(&s, &ts);
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

#include "unix.bpf.h"

/* Hooks of their own headers: mounts, bpfsystrace's own objects, and what no
 * file or socket hook sees (ptrace, modules, prctl, capabilities). */
#include "own.bpf.h"
#include "mount.bpf.h"
#include "sys.bpf.h"
