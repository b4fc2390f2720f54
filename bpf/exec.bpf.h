/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exec.bpf.h — an execve after the binary's open (open.bpf.h): bprm_check
 * arms its interpreter's decision, cred_prepare disarms a failed one,
 * bprm_committed_creds puts its binding in force and makes an exec into
 * another policy a secure one; and fork: task_alloc confines the child as
 * its parent.
 */
#ifndef __BST_EXEC_BPF_H
#define __BST_EXEC_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "subject.bpf.h"
#include "hook.bpf.h"
#include "decide.bpf.h"

/* The binary of an execve passed its open: later FMODE_EXEC opens in this
 * execve are its interpreter's, decided by the policy the binary will run
 * under if it has one (its own, or its caller's for permit[inherit]). */
SEC("lsm/bprm_check_security")
int BST_LSM(bst_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct subject s = {};
	struct bst_task *ts;
	struct bst_subj *r;
	__u32 dev;
	__u64 ino;
	int err;

	if (ret)
		return ret;
	err = hook_begin(&s, &ts, MANAGER_TOO);
	if (err <= 0)
		return err;
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

/* prepare_creds() runs at the start of every execve (prepare_bprm_creds,
 * with the task's cred_guard_mutex just taken, before in_execve is set) and
 * elsewhere. Outside an execve's later steps it disarms a previous execve
 * that failed after bprm_check, so that its state cannot leak into the next
 * one (on 6.1 the binary is opened after this; on 6.12 before, and
 * file_open disarms there: open.bpf.h). The binding a binary's open noted is
 * kept while the task holds cred_guard_mutex: on 6.12 that open came first. */
SEC("lsm/cred_prepare")
int BST_LSM(bst_cred_prepare, struct cred *new, const struct cred *old, gfp_t gfp, int ret)
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
	if (r && !holds_cred_guard(task))
		r->pend_mode = BIND_NONE;
	return 0;
}

/* ---- secure exec ---- */

/* An exec into another policy than the caller's (BIND_SECURE) must not run
 * code the caller chooses under that policy. AppArmor and SELinux make such
 * an exec secure (AT_SECURE: the loader ignores LD_PRELOAD and the rest); a
 * BPF program cannot set bprm->secureexec, so the exec is refused instead
 * when its environment holds a variable that glibc's loader or libc would
 * drop in a secure exec (glibc's unsecvars.h, less TMPDIR and TZDIR, which
 * choose where files go, not code). It is checked at bprm_committed_creds,
 * in the kernel's own copy of the strings, in the new process's memory that
 * nothing else can write and before any of its code runs; the exec is past
 * its point of no return there, so the process is killed (SIGKILL), counted
 * and reported. */
#define ENV_CHUNK 64
#define SIGKILL	  9

static __always_inline int has_prefix(const char *buf, const char *lit, int n)
{
	for (int i = 0; i < n; i++)
		if (buf[i] != lit[i])
			return 0;
	return 1;
}

#define PREFIX(buf, lit) has_prefix(buf, lit, sizeof(lit) - 1)

static __always_inline int loader_var(const char *b)
{
	return PREFIX(b, "LD_") || PREFIX(b, "GCONV_PATH=") || PREFIX(b, "GETCONF_DIR=") ||
	       PREFIX(b, "GLIBC_TUNABLES=") || PREFIX(b, "HOSTALIASES=") ||
	       PREFIX(b, "LOCALDOMAIN=") || PREFIX(b, "LOCPATH=") || PREFIX(b, "MALLOC_TRACE=") ||
	       PREFIX(b, "NIS_PATH=") || PREFIX(b, "NLSPATH=") || PREFIX(b, "RESOLV_HOST_CONF=") ||
	       PREFIX(b, "RES_OPTIONS=");
}

struct env_ctx {
	__u64 p;     /* user address of the next chunk */
	__u32 skip;  /* argument strings before the environment */
	__u32 left;  /* environment strings not yet read */
	__u32 mid;   /* p is inside a string, not at its start */
	__s32 found; /* 1: a loader variable starts at p; -1: unreadable */
};

/* One chunk of the strings: argv[0..argc), then envp[0..envc), NUL-ended,
 * one after the other from bprm->p. */
static long env_chunk(__u32 i, void *data)
{
	struct env_ctx *c = data;
	char buf[ENV_CHUNK];
	long n;

	if (!c->left)
		return 1;
	n = bpf_probe_read_user_str(buf, sizeof(buf), (void *)c->p);
	if (n <= 0) {
		c->found = -1;
		return 1;
	}
	if (!c->mid && !c->skip && loader_var(buf)) {
		c->found = 1;
		return 1;
	}
	if (n < ENV_CHUNK) {
		c->p += n;
		c->mid = 0;
		if (c->skip)
			c->skip--;
		else
			c->left--;
	} else {
		c->p += ENV_CHUNK - 1;
		c->mid = 1;
	}
	return 0;
}

static __always_inline void secure_exec(struct linux_binprm *bprm)
{
	struct env_ctx c = {};
	struct subject s = {};
	struct bst_task *ts = 0;
	int r;

	c.p = BPF_CORE_READ(bprm, p);
	c.skip = BPF_CORE_READ(bprm, argc);
	c.left = BPF_CORE_READ(bprm, envc);
	bpf_loop(1 << 22, env_chunk, &c, 0);
	if (c.left && !c.found)
		c.found = -1; /* not read to the end: fail closed */
	if (!c.found)
		return;
	r = hook_begin(&s, &ts, MANAGER_TOO);
	if (r < 0 || (r > 0 && !(s.flags & (BST_TARGET_AUDIT | BST_TARGET_LEARN)))) {
		count(BST_CNT_INSECURE_EXEC);
		bpf_send_signal(SIGKILL);
	}
	if (r <= 0)
		return;
	/* the report: the new program's policy, the variable (or the binary's
	 * name when the strings could not be read) */
	if (c.found < 0 || bpf_probe_read_user_str(ts->buf, BST_EVENT_STR, (void *)c.p) <= 0)
		bpf_probe_read_kernel_str(ts->buf, BST_EVENT_STR, BPF_CORE_READ(bprm, filename));
	ts->buf[BST_EVENT_STR - 1] = 0;
	{
		struct decision d = { 0, s.policy, BST_OP_EXECVE, BST_RULE_NONE, EPERM, 0 };

		for (d.len = 0; d.len < BST_EVENT_STR - 1 && ts->buf[d.len]; d.len++)
			;
		if (s.flags & (BST_TARGET_AUDIT | BST_TARGET_LEARN))
			d.evflags = BST_EV_AUDIT;
		bst_emit(&s, ts, &d);
	}
}

/* The execve succeeded: the task now runs the new binary, and that is the
 * executable its policy is looked up by from now on (whatever its mm later
 * claims, e.g. after prctl(PR_SET_MM_EXE_FILE)). Under a permit[inherit] rule
 * it keeps its caller's policy, under permit[detach] it leaves confinement
 * (for good, as in systrace); a plain execve ends an inherit binding. The
 * manager's and the launcher's exemptions end here. */
SEC("lsm/bprm_committed_creds")
int BST_LSM(bst_bprm_committed, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bst_task *ts = bpf_task_storage_get(&task_store, task, 0, 0);
	struct bst_subj *r = bpf_task_storage_get(&subjects, task, 0, 0);
	__u32 dev, secure;
	__u64 ino;

	if (ts)
		ts->exec_phase = EXEC_IDLE;
	/* A record that was never confined only remembers that its task was
	 * outside: the exec of an unconfined task (a shell, cgexec, runc init
	 * before they move into a target) must not end its entry as a launcher
	 * (subj_enter reads its executable when it enters). */
	if (!r || !r->attach_id)
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
	secure = r->pend_mode == BIND_SECURE;
	r->pend_mode = BIND_NONE;
	if (secure)
		secure_exec(bprm);
	return 0;
}

#define CLONE_INTO_CGROUP 0x200000000ULL

/* fork, clone, clone3, threads, io_uring workers: the child of a confined
 * task is confined alike, under the same attachment and policy, before it
 * can run. clone3(CLONE_INTO_CGROUP) is denied to a confined task: it would
 * put the child outside the service's cgroup. A parent inside a
 * target that no hook has seen yet is recorded first. No memory for the
 * record fails the fork (fail closed). */
SEC("lsm/task_alloc")
int BST_LSM(bst_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
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
	if ((clone_flags & CLONE_INTO_CGROUP) && parent->mode == SUBJ_CONFINED) {
		/* clone3 names the child's cgroup, which this hook cannot see:
		 * the child would stay confined but leave the service's cgroup
		 * (its stop, its pids.max and memory.max). Denied. */
		count(BST_CNT_CLONE_CGROUP);
		return -EPERM;
	}
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

#endif /* __BST_EXEC_BPF_H */
