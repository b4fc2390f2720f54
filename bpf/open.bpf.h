/* SPDX-License-Identifier: GPL-2.0 */
/*
 * open.bpf.h — file_open: opens for reading and writing, and the execve
 * decisions made at the open of the binary (the caller's execve rules,
 * entering a policy, the permit[inherit] and permit[detach] bindings that
 * exec.bpf.h puts in force) and of its interpreter.
 */
#ifndef __BST_OPEN_BPF_H
#define __BST_OPEN_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "subject.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

#define FMODE_READ	0x1
#define FMODE_WRITE	0x2
#define FMODE_EXEC	0x20
#define FMODE_BACKING	0x2000000  /* 6.8+: overlayfs' file on the real layer */
#define FMODE_NOACCOUNT 0x20000000 /* internal opens, e.g. overlayfs' real file (6.1) */

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

#define S_IWGRP 00020
#define S_IWOTH 00002

/* The policy of the binary an execve opens: by its identity (exes), else by
 * its path (exe_paths), as systrace chose policies. A file found by path
 * alone (a package upgrade renamed a new file over the program) is added to
 * exes, so that the hooks that look policies up by identity (bprm_check,
 * every decision after the exec) find it too. Only a file owned by root and
 * writable by nobody else follows a path: a file that a confined task could
 * have written there does not become the program. */
static __always_inline __u32 binary_policy(struct subject *s, struct bst_task *ts, __u32 len,
					   struct inode *inode, __u32 dev, __u64 ino)
{
	struct bst_exe_key ek = { .gen = s->gen, .dev = dev, .ino = ino };
	struct bst_exe_path_key *pk = &ts->exe_path;
	__u32 policy = exe_policy(s->gen, dev, ino);
	__u32 *p;
	long n;

	if (policy != BST_POLICY_NONE || len >= BST_EXE_PATH_MAX)
		return policy;
	if (BPF_CORE_READ(inode, i_uid.val) != 0 ||
	    (BPF_CORE_READ(inode, i_mode) & (S_IWGRP | S_IWOTH)))
		return BST_POLICY_NONE;
	__builtin_memset(pk, 0, sizeof(*pk));
	pk->gen = s->gen;
	n = bpf_probe_read_kernel_str(pk->path, sizeof(pk->path), ts->buf);
	if (n != (long)len + 1)
		return BST_POLICY_NONE;
	p = bpf_map_lookup_elem(&exe_paths, pk);
	if (!p)
		return BST_POLICY_NONE;
	policy = *p;
	if (bpf_map_update_elem(&exes, &ek, &policy, BPF_NOEXIST) == 0)
		count(BST_CNT_EXE_BY_PATH);
	return policy;
}

/* An execve: the binary's own open, or (after bprm_check) its interpreter. */
static __always_inline int decide_exec(struct subject *s, struct bst_task *ts, __u32 len,
				       struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 dev, binding, own, next;
	__u64 ino;
	int err;

	inode_id(inode, &dev, &ino);
	if (ts->exec_phase == EXEC_ARMED && !holds_cred_guard(bpf_get_current_task_btf()))
		/* not this execve's interpreter: the binary of a new execve, opened
		 * before prepare_bprm_creds (6.7+), after one that failed after
		 * bprm_check (exec.bpf.h cred_prepare disarms it later there) */
		ts->exec_phase = EXEC_IDLE;
	if ((s->flags & BST_TARGET_MANAGER) && dev == s->manager_dev && ino == s->manager_ino) {
		/* Nothing inside a target may become the exempt service manager. */
		struct decision d = { len, s->policy, BST_OP_EXECVE, BST_RULE_NONE, EPERM, 0 };

		bst_emit(s, ts, &d);
		return -EPERM;
	}
	if (ts->exec_phase == EXEC_ARMED && ts->exec_gen == s->gen &&
	    ts->exec_policy != BST_POLICY_NONE)
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
	next = binary_policy(s, ts, len, inode, dev, ino);
	own = next != BST_POLICY_NONE;
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
	/* Code the caller chooses must not run under another policy than its
	 * own: a plain exec that changes the policy in force (into the binary's
	 * own, or the default) is a secure exec (exec.bpf.h). The exempt
	 * manager's exec runs what the administrator configured. */
	if (binding == BIND_NONE && !s->manager && (own ? next : s->default_policy) != s->policy)
		binding = BIND_SECURE;
	return exec_bind(s, binding);
}

SEC("lsm/file_open")
int BST_LSM(bst_file_open, struct file *file, int ret)
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
	err = hook_begin(&s, &ts, MANAGER_TOO);
	if (err <= 0)
		return err;
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

#endif /* __BST_OPEN_BPF_H */
