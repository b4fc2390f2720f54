/* SPDX-License-Identifier: GPL-2.0 */
/*
 * errno.bpf.h — the errno values the programs return (vmlinux.h carries the
 * kernel's types, not its macros). path.bpf.h adds EXDEV and ENOTNAME.
 */
#ifndef __BST_ERRNO_BPF_H
#define __BST_ERRNO_BPF_H

#define EPERM	     1
#define ESRCH	     3
#define ENOMEM	     12
#define ENAMETOOLONG 36

#endif /* __BST_ERRNO_BPF_H */
