/* SPDX-License-Identifier: GPL-2.0 */
/*
 * errno.bpf.h — the errno values the programs return (vmlinux.h carries the
 * kernel's types, not its macros; path.bpf.h adds EXDEV and ENOTNAME), and
 * BST_LSM(), how every LSM program is declared so that what it returns is
 * provably an errno.
 */
#ifndef __BST_ERRNO_BPF_H
#define __BST_ERRNO_BPF_H

#define EPERM	     1
#define ESRCH	     3
#define ENOMEM	     12
#define ENAMETOOLONG 36
#define MAX_ERRNO    4095

/* Linux 6.12 and later verify that an LSM program returns a value in
 * [-MAX_ERRNO, 0] on every path; older kernels trust it. A global function's
 * result (bst_decide ...) and the previous module's `ret` are unknown scalars
 * to the verifier, so every program's result passes through here: anything
 * out of range (which no program means to return) denies with EPERM, fail
 * closed. In BPF assembly, because clang otherwise folds the two signed
 * comparisons into one unsigned comparison of a copy (or sign-extends a copy),
 * and the verifier cannot carry that back to the returned register. */
static __always_inline int bst_lsm_ret(int ret)
{
	long r = ret;

	asm volatile("if %[r] s> 0 goto +1\n\t"
		     "if %[r] s>= %[lo] goto +1\n\t"
		     "%[r] = %[eperm]"
		     : [r] "+r"(r)
		     : [lo] "i"(-MAX_ERRNO), [eperm] "i"(-EPERM));
	return r;
}

/* BPF_PROG (libbpf's bpf_tracing.h) whose result goes through bst_lsm_ret():
 * SEC("lsm/HOOK") int BST_LSM(name, args...) { ... }. */
/* clang-format off */
#define BST_LSM(name, args...)						    \
name(unsigned long long *ctx);						    \
static __always_inline int ____##name(unsigned long long *ctx, ##args);    \
int name(unsigned long long *ctx)					    \
{									    \
	_Pragma("GCC diagnostic push")					    \
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		    \
	return bst_lsm_ret(____##name(___bpf_ctx_cast(args)));		    \
	_Pragma("GCC diagnostic pop")					    \
}									    \
static __always_inline int ____##name(unsigned long long *ctx, ##args)
/* clang-format on */

#endif /* __BST_ERRNO_BPF_H */
