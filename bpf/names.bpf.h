/* SPDX-License-Identifier: GPL-2.0 */
/*
 * names.bpf.h — systrace's names for numbers, into ts->buf: socket domains
 * and types (socket), signals (kill), as systrace's translators print them,
 * and socket protocols as /etc/protocols names them:
 *
 *   sockdom   AF_UNIX AF_INET AF_INET6, any other AF_UNKNOWN(N)
 *   socktype  SOCK_STREAM SOCK_DGRAM SOCK_RAW SOCK_SEQPACKET SOCK_RDM,
 *             any other SOCK_UNKNOWN(N)
 *   sockproto of AF_INET and AF_INET6: ip icmp igmp tcp udp ipv6-icmp sctp
 *             udplite raw mptcp; any other, and of any other family, proto(N)
 *   signame   SIGHUP ... SIGSYS (Linux's names of signals 1-31), any other
 *             (0, real-time signals) "<unknown>: N"
 *
 * controller/model/objects.py renders the same text in Python. Every writer
 * puts its text at ts->buf[off..], NUL-terminated, and returns its length
 * without the NUL (< 0: not rendered).
 */
#ifndef __BST_NAMES_BPF_H
#define __BST_NAMES_BPF_H

#include "bpfsystrace.h"
#include "task.bpf.h"
#include "render.bpf.h"
#include "path.bpf.h"

static __always_inline int put_lit_at(struct bst_task *ts, __u32 off, const char *s, int n)
{
	__u64 p;

	for (int i = 0; i <= n; i++) {
		p = off + i;
		BOUND_PATH(p); /* path.bpf.h: & (BST_PATH_MAX - 1), kept by clang */
		ts->buf[p] = i < n ? s[i] : 0;
	}
	return n;
}

#define PUT_NAME(ts, off, lit) put_lit_at(ts, off, lit, sizeof(lit) - 1)

/* fmt: a constant .rodata format with one %d */
static __always_inline int put_unknown(struct bst_task *ts, __u32 off, const char *fmt, int v)
{
	__u64 arg = (__u64)(__s64)v, p = off;
	long n;

	BOUND_PATH(p);
	n = bpf_snprintf(&ts->buf[p], 32, fmt, &arg, sizeof(arg));

	return n > 1 ? n - 1 : -1;
}

static const char fmt_af[] = "AF_UNKNOWN(%d)";
static const char fmt_sock[] = "SOCK_UNKNOWN(%d)";
static const char fmt_sig[] = "<unknown>: %d";
static const char fmt_proto[] = "proto(%d)";

/* The protocol's name at ts->buf[off] (an inet one by its /etc/protocols
 * name, any other "proto(N)"); returns its length. */
static __always_inline int put_proto(struct bst_task *ts, __u32 off, int family, int proto)
{
	if (family != AF_INET && family != AF_INET6)
		return put_unknown(ts, off, fmt_proto, proto);
	switch (proto) {
	case 0:
		return PUT_NAME(ts, off, "ip");
	case 1:
		return PUT_NAME(ts, off, "icmp");
	case 2:
		return PUT_NAME(ts, off, "igmp");
	case 6:
		return PUT_NAME(ts, off, "tcp");
	case 17:
		return PUT_NAME(ts, off, "udp");
	case 58:
		return PUT_NAME(ts, off, "ipv6-icmp");
	case 132:
		return PUT_NAME(ts, off, "sctp");
	case 136:
		return PUT_NAME(ts, off, "udplite");
	case 255:
		return PUT_NAME(ts, off, "raw");
	case 262:
		return PUT_NAME(ts, off, "mptcp");
	}
	return put_unknown(ts, off, fmt_proto, proto);
}

/* "AF_INET\0SOCK_DGRAM\0udp" at ts->buf[0]; returns the whole length. Global. */
__noinline int bst_put_socket(struct bst_task *ts, int family, int type, int proto)
{
	int n, m, k;

	if (!ts)
		return -1;
	if (family == AF_UNIX)
		n = PUT_NAME(ts, 0, "AF_UNIX");
	else if (family == AF_INET)
		n = PUT_NAME(ts, 0, "AF_INET");
	else if (family == AF_INET6)
		n = PUT_NAME(ts, 0, "AF_INET6");
	else
		n = put_unknown(ts, 0, fmt_af, family);
	if (n < 0 || n > 64)
		return -1;
	switch (type) {
	case 1:
		m = PUT_NAME(ts, n + 1, "SOCK_STREAM");
		break;
	case 2:
		m = PUT_NAME(ts, n + 1, "SOCK_DGRAM");
		break;
	case 3:
		m = PUT_NAME(ts, n + 1, "SOCK_RAW");
		break;
	case 4:
		m = PUT_NAME(ts, n + 1, "SOCK_RDM");
		break;
	case 5:
		m = PUT_NAME(ts, n + 1, "SOCK_SEQPACKET");
		break;
	default:
		m = put_unknown(ts, n + 1, fmt_sock, type);
	}
	if (m < 0 || m > 64)
		return -1;
	k = put_proto(ts, n + 1 + m + 1, family, proto);
	if (k < 0)
		return -1;
	return n + 1 + m + 1 + k;
}

/* The signal's name at ts->buf[off]; returns its length. Global. */
__noinline int bst_put_signame(struct bst_task *ts, __u32 off, int sig)
{
	if (!ts || off >= BST_PATH_MAX)
		return -1;
	switch (sig) {
	case 1:
		return PUT_NAME(ts, off, "SIGHUP");
	case 2:
		return PUT_NAME(ts, off, "SIGINT");
	case 3:
		return PUT_NAME(ts, off, "SIGQUIT");
	case 4:
		return PUT_NAME(ts, off, "SIGILL");
	case 5:
		return PUT_NAME(ts, off, "SIGTRAP");
	case 6:
		return PUT_NAME(ts, off, "SIGABRT");
	case 7:
		return PUT_NAME(ts, off, "SIGBUS");
	case 8:
		return PUT_NAME(ts, off, "SIGFPE");
	case 9:
		return PUT_NAME(ts, off, "SIGKILL");
	case 10:
		return PUT_NAME(ts, off, "SIGUSR1");
	case 11:
		return PUT_NAME(ts, off, "SIGSEGV");
	case 12:
		return PUT_NAME(ts, off, "SIGUSR2");
	case 13:
		return PUT_NAME(ts, off, "SIGPIPE");
	case 14:
		return PUT_NAME(ts, off, "SIGALRM");
	case 15:
		return PUT_NAME(ts, off, "SIGTERM");
	case 16:
		return PUT_NAME(ts, off, "SIGSTKFLT");
	case 17:
		return PUT_NAME(ts, off, "SIGCHLD");
	case 18:
		return PUT_NAME(ts, off, "SIGCONT");
	case 19:
		return PUT_NAME(ts, off, "SIGSTOP");
	case 20:
		return PUT_NAME(ts, off, "SIGTSTP");
	case 21:
		return PUT_NAME(ts, off, "SIGTTIN");
	case 22:
		return PUT_NAME(ts, off, "SIGTTOU");
	case 23:
		return PUT_NAME(ts, off, "SIGURG");
	case 24:
		return PUT_NAME(ts, off, "SIGXCPU");
	case 25:
		return PUT_NAME(ts, off, "SIGXFSZ");
	case 26:
		return PUT_NAME(ts, off, "SIGVTALRM");
	case 27:
		return PUT_NAME(ts, off, "SIGPROF");
	case 28:
		return PUT_NAME(ts, off, "SIGWINCH");
	case 29:
		return PUT_NAME(ts, off, "SIGIO");
	case 30:
		return PUT_NAME(ts, off, "SIGPWR");
	case 31:
		return PUT_NAME(ts, off, "SIGSYS");
	}
	return put_unknown(ts, off, fmt_sig, sig);
}

#endif /* __BST_NAMES_BPF_H */
