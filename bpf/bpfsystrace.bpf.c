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
 *
 * One object, one translation unit: the code is in headers by concern (maps,
 * task storage, rendering, the subject, the decision engine, the hook
 * prologue, then one header per hook family), included below in the order
 * the object is laid out in; each header includes what it uses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "bpfsystrace.h"

char LICENSE[] SEC("license") = "GPL";

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
#include "open.bpf.h"
#include "sockaddr.bpf.h"
#include "exec.bpf.h"
#include "fs.bpf.h"
#include "ids.bpf.h"
#include "socket.bpf.h"
#include "groups.bpf.h"
#include "kill.bpf.h"
#include "unix.bpf.h"

/* Hooks of their own headers: mounts, bpfsystrace's own objects, and what no
 * file or socket hook sees (ptrace, modules, prctl, capabilities), other
 * processes' scheduling and limits, SIGIO, xattrs, watches, SysV IPC, keys. */
#include "own.bpf.h"
#include "mount.bpf.h"
#include "sys.bpf.h"
#include "attr.bpf.h"
#include "proc.bpf.h"
#include "ipc.bpf.h"
