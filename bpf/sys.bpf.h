/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sys.bpf.h — what no file or socket hook sees: acting through another
 * process (ptrace), changing the kernel (modules, kexec, perf), prctl, new
 * namespaces, and the capabilities a confined task uses. systrace denied
 * every call its policy did not permit; these programs give the same default
 * deny (docs/enforcement.md):
 *
 *   ptrace_access_check  ptrace, process_vm_readv/writev, pidfd_getfd, /proc/PID/mem ...:
 *   ptrace_traceme       pidname, the other process's executable
 *   task_prctl           cmd, the option's name (PR_SET_MM)
 *   kernel_load_data     init_module ("", LOADING_MODULE), kexec_load
 *   kernel_read_file     finit_module (filename, the module file), kexec_file_load
 *   kernel_module_request  init_module (""): a module autoloaded for the task
 *   syslog               syslog ("": syslog(2), /proc/kmsg, /dev/kmsg read)
 *   inode_init_security_anon  userfaultfd ("": "[userfaultfd]" only)
 *   mmap_addr            mmap ("": a mapping below 64 KiB only)
 *   userns_create        unshare (a new user namespace, also unprivileged; 6.1+)
 *   perf_event_open      perf_event_open ("")
 *   capable              the system calls that have no hook of their own but
 *                        need a capability (sethostname, reboot, swapon, iopl,
 *                        settimeofday, unshare, setns, the new mount API's
 *                        fsopen ... ; x86-64 system call numbers), else the capability itself ("capable",
 *                        permitted by the table of controller/model/capabilities.py)
 */
#ifndef __BST_SYS_BPF_H
#define __BST_SYS_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "tables.bpf.h"
#include "maps.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "own.bpf.h"

#define CAP_DAC_OVERRIDE    1
#define CAP_DAC_READ_SEARCH 2
#define CAP_OPT_NOAUDIT	    0x2
#define PTRACE_MODE_NOAUDIT 0x04

/* Decide without reporting (the kernel's "noaudit" probes, which ask whether
 * a task could, not that it does): the verdict only, counted as a rule hit
 * is not. Audit and learn mode permit. Global. */
__noinline int bst_decide_quiet(struct subject *s, struct bst_task *ts, __u32 len, __u32 op)
{
	struct bst_rule_key rk = {};
	struct bst_rule *r;

	if (!s || !ts)
		return -EPERM;
	rk.gen = s->gen;
	rk.rule = bst_match(s, ts, len, s->policy, op);
	r = bpf_map_lookup_elem(&rules, &rk);
	if (s->flags & (BST_TARGET_AUDIT | BST_TARGET_LEARN))
		return 0;
	if (!r)
		return -EPERM; /* fail closed: the maps do not describe it */
	return r->errno_ > 0 ? -r->errno_ : 0;
}

/* An operation with no argument, decided on "". */
static __always_inline int decide_bare(__u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	ts->buf[0] = 0;
	return bst_decide(&s, ts, 0, s.policy, op);
}

/* ---- ptrace: pidname, the other process's executable ---- */

/* The executable of task p at ts->buf[0] (as the caller sees its path),
 * "<unknown>" without one; < 0: not rendered. Like task_kill's pidname. */
static __always_inline int put_task_exe(struct bst_task *ts, struct task_struct *p)
{
	struct file *exe = BPF_CORE_READ(p, mm, exe_file);

	if (!exe)
		return PUT_NAME(ts, 0, "<unknown>");
	ts->paths[0] = (__u64)BPF_CORE_READ(exe, f_path.dentry);
	ts->paths[1] = (__u64)BPF_CORE_READ(exe, f_path.mnt);
	return bst_dentry_path(ts, 0, 0);
}

static __always_inline int ptrace_decide(struct task_struct *other, int quiet)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = put_task_exe(ts, other);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_PTRACE, r);
	if (quiet)
		return bst_decide_quiet(&s, ts, r, BST_OP_PTRACE);
	return bst_decide(&s, ts, r, s.policy, BST_OP_PTRACE);
}

/* ptrace(2) attach, process_vm_readv/writev, pidfd_getfd, kcmp, and the
 * /proc/PID files that need ptrace access (mem, environ, fd, maps ...).
 * The kernel never asks for the caller's own thread group. */
SEC("lsm/ptrace_access_check")
int BST_LSM(bst_ptrace_access_check, struct task_struct *child, unsigned int mode)
{
	return ptrace_decide(child, mode & PTRACE_MODE_NOAUDIT);
}

/* PTRACE_TRACEME: the parent becomes the tracer */
SEC("lsm/ptrace_traceme")
int BST_LSM(bst_ptrace_traceme, struct task_struct *parent)
{
	return ptrace_decide(parent, 0);
}

/* ---- prctl: cmd, the option's name ---- */

static const char fmt_prctl[] = "PR_UNKNOWN(%d)";

SEC("lsm/task_prctl")
int BST_LSM(bst_task_prctl, int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
	    unsigned long arg5)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	r = 0;
	if (option > 0 && option < BST_NR_PRCTL)
		r = put_table(ts, bst_prctl_names, option);
	else if (option == 0x59616d61)
		r = PUT_NAME(ts, 0, "PR_SET_PTRACER");
	else if (option == 0x53564d41)
		r = PUT_NAME(ts, 0, "PR_SET_VMA");
	if (r == 0)
		r = put_unknown(ts, 0, fmt_prctl, option);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_PRCTL, -EPERM);
	return bst_decide(&s, ts, r, s.policy, BST_OP_PRCTL);
}

/* ---- modules, kexec ---- */

/* init_module(2) (a module image from memory) and kexec_load(2). Firmware,
 * IMA policies and certificates loaded from user memory are not decided. */
SEC("lsm/kernel_load_data")
int BST_LSM(bst_kernel_load_data, enum kernel_load_data_id id, bool contents)
{
	if (id == LOADING_MODULE)
		return decide_bare(BST_OP_INIT_MODULE);
	if (id == LOADING_KEXEC_IMAGE || id == LOADING_KEXEC_INITRAMFS)
		return decide_bare(BST_OP_KEXEC_LOAD);
	return 0;
}

/* finit_module(2): the module file's path; kexec_file_load(2). */
SEC("lsm/kernel_read_file")
int BST_LSM(bst_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r;

	if (id == READING_KEXEC_IMAGE || id == READING_KEXEC_INITRAMFS)
		return decide_bare(BST_OP_KEXEC_LOAD);
	if (id != READING_MODULE)
		return 0;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	if (!file)
		return deny_unrendered(&s, ts, BST_OP_FINIT_MODULE, -EPERM);
	ts->paths[0] = (__u64)BPF_CORE_READ(file, f_path.dentry);
	ts->paths[1] = (__u64)BPF_CORE_READ(file, f_path.mnt);
	r = bst_dentry_path(ts, 0, 0);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_FINIT_MODULE, r);
	return bst_decide(&s, ts, r, s.policy, BST_OP_FINIT_MODULE);
}

/* Module autoloading on the task's behalf (request_module: a socket family
 * or protocol, a line discipline, a filesystem type, a crypto algorithm):
 * kernel code that no rule permitted, decided as init_module on "". The
 * kernel goes on without the module, so the call that asked fails as if it
 * did not exist (socket: EAFNOSUPPORT); the denial is logged. */
SEC("lsm/kernel_module_request")
int BST_LSM(bst_kernel_module_request, char *kmod_name)
{
	return decide_bare(BST_OP_INIT_MODULE);
}

/* ---- the kernel log, userfaultfd ---- */

/* syslog(2), /proc/kmsg's open and /dev/kmsg opened for reading: the kernel
 * log ("", syslog). With kernel.dmesg_restrict=1 (Debian's default) the
 * kernel asks capable for CAP_SYSLOG first, which a syslog rule permits too. */
SEC("lsm/syslog")
int BST_LSM(bst_syslog, int type)
{
	return decide_bare(BST_OP_SYSLOG);
}

/* userfaultfd(2) and /dev/userfaultfd: the kernel asks for every secure
 * anonymous inode, named by its kind. A userfaultfd stops the kernel in the
 * middle of a copy from user memory for as long as its owner wants (the
 * classic aid for winning a kernel race): decided as userfaultfd on "".
 * Other kinds pass: io_uring's instance ("[io_uring]"; its work is decided
 * at the hooks of what it does), secretmem, KVM. */
SEC("lsm/inode_init_security_anon")
int BST_LSM(bst_inode_init_security_anon, struct inode *inode, const struct qstr *name,
	    const struct inode *context_inode)
{
	static const char uffd[] = "[userfaultfd]";
	char kind[sizeof(uffd)] = {};

	if (bpf_probe_read_kernel_str(kind, sizeof(kind), BPF_CORE_READ(name, name)) !=
	    sizeof(uffd))
		return 0;
	for (int i = 0; i < sizeof(uffd); i++)
		if (kind[i] != uffd[i])
			return 0;
	return decide_bare(BST_OP_USERFAULTFD);
}

/* A mapping below 64 KiB (Debian's vm.mmap_min_addr): the NULL page, where a
 * kernel bug's NULL dereference finds what the task put there. The kernel
 * asks CAP_SYS_RAWIO for it through commoncap alone, which the capable hook
 * never sees. Decided as mmap on "" (mmap, mremap with MREMAP_FIXED); every
 * other mapping returns at once (the hook runs for every mapping of every
 * task). */
#define LOW_MAP_END 65536

SEC("lsm/mmap_addr")
int BST_LSM(bst_mmap_addr, unsigned long addr)
{
	if (addr >= LOW_MAP_END)
		return 0;
	return decide_bare(BST_OP_MMAP);
}

/* ---- namespaces, perf ---- */

/* unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER): a new user namespace, which
 * needs no privilege and gives every capability inside it (Linux 6.1+;
 * loader.OPTIONAL_PROGRAMS). */
SEC("lsm/userns_create")
int BST_LSM(bst_userns_create, const struct cred *cred)
{
	return decide_bare(BST_OP_UNSHARE);
}

SEC("lsm/perf_event_open")
int BST_LSM(bst_perf_event_open, void *attr, int type)
{
	return decide_bare(BST_OP_PERF_EVENT_OPEN);
}

/* ---- capable ---- */

#define CAP_NO_OP 0xffffffffu /* cap_syscall: not a call that a capability gates */

/* The operation of the x86-64 system call in progress that has no hook of
 * its own and that a capability gates (CAP_NO_OP: none of them). A
 * 32-bit (int 0x80) call is not recognised and falls to the capability's
 * own decision (docs/security.md). */
static __always_inline __u32 cap_syscall(struct task_struct *task, long *nr)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	*nr = BPF_CORE_READ(regs, orig_ax);
	switch (*nr) {
	case 272:
		return BST_OP_UNSHARE;
	case 308:
		return BST_OP_SETNS;
	case 170:
	case 171:
		return BST_OP_SETHOSTNAME; /* sethostname, setdomainname */
	case 169:
		return BST_OP_REBOOT;
	case 167:
	case 168:
		return BST_OP_SWAPON; /* swapon, swapoff */
	case 164:
	case 227:
	case 159:
	case 305:			    /* settimeofday, clock_settime, */
		return BST_OP_SETTIMEOFDAY; /* adjtimex, clock_adjtime */
	case 172:
	case 173:
		return BST_OP_IOPL; /* iopl, ioperm */
	case 246:
	case 320:
		return BST_OP_KEXEC_LOAD; /* kexec_load, kexec_file_load */
	case 428:
	case 430:
	case 431:
	case 432:
	case 433:
	case 442:
		return BST_OP_MOUNT; /* the new mount API: put_new_mount() */
	}
#else
#error "x86-64 only: these are x86-64 system call numbers (docs/install.md)"
#endif
	return CAP_NO_OP;
}

/* The new mount API's steps before move_mount (which mount.bpf.h decides on
 * its mount point): "\0fsopen" ... (no mount point yet; only a rule that
 * matches an empty filename, e.g. `native-mount: permit`, permits them). */
static __always_inline int put_new_mount(struct bst_task *ts, long nr)
{
	ts->buf[0] = 0;
	switch (nr) {
	case 428:
		return 1 + PUT_NAME(ts, 1, "open_tree");
	case 430:
		return 1 + PUT_NAME(ts, 1, "fsopen");
	case 431:
		return 1 + PUT_NAME(ts, 1, "fsconfig");
	case 432:
		return 1 + PUT_NAME(ts, 1, "fsmount");
	case 433:
		return 1 + PUT_NAME(ts, 1, "fspick");
	}
	return 1 + PUT_NAME(ts, 1, "mount_setattr");
}

static const char fmt_cap[] = "CAP_UNKNOWN(%d)";

/* Every capability check of a confined task: during a call listed in
 * cap_syscall() that call's rules decide; otherwise the capability is
 * decided as "capable" on its name (CAP_NET_ADMIN), whose rules the compiler
 * writes from the calls the policy permits. The kernel's noaudit probes are
 * decided without an event. Outsiders: hook_begin's check only. */
SEC("lsm/capable")
int BST_LSM(bst_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	    unsigned int opts)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct subject s = {};
	struct bst_task *ts = 0;
	int quiet = opts & CAP_OPT_NOAUDIT;
	long nr = -1;
	__u32 op;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	/* A check of credentials the kernel put in place for its own work
	 * (overlayfs acting with its mounter's, access(2)'s, nfsd's) is not the
	 * task's: decide only the task's own (docs/security.md). */
	if (cred != BPF_CORE_READ(task, real_cred))
		return 0;
	op = cap_syscall(task, &nr);
	if (op != CAP_NO_OP) {
		r = op == BST_OP_MOUNT ? put_new_mount(ts, nr) : 0;
		if (!r)
			ts->buf[0] = 0;
		return quiet ? bst_decide_quiet(&s, ts, r, op)
			     : bst_decide(&s, ts, r, s.policy, op);
	}
	/* bpf(2) never overrides file permissions for a confined task: the
	 * pins are mode 0000 (loader), so BPF_OBJ_GET cannot open them. */
	if (nr == 321 && (cap == CAP_DAC_OVERRIDE || cap == CAP_DAC_READ_SEARCH))
		return quiet ? -EPERM : bst_deny_own(&s, ts, BST_OP_BPF);
	if (cap >= 0 && cap < BST_NR_CAPS)
		r = put_table(ts, bst_cap_names, cap);
	else
		r = put_unknown(ts, 0, fmt_cap, cap);
	if (r <= 0)
		return deny_unrendered(&s, ts, BST_OP_CAPABLE, -EPERM);
	if (quiet)
		return bst_decide_quiet(&s, ts, r, BST_OP_CAPABLE);
	return bst_decide(&s, ts, r, s.policy, BST_OP_CAPABLE);
}

#endif /* __BST_SYS_BPF_H */
