/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sockaddr.bpf.h — socket_bind, socket_connect, socket_sendmsg: decided on the
 * address the caller gives, as render.bpf.h renders it (AF_UNIX names and
 * AF_UNSPEC: unix.bpf.h).
 */
#ifndef __BST_SOCKADDR_BPF_H
#define __BST_SOCKADDR_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "render.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

/* unix.bpf.h (included at the end): AF_UNIX names are decided where the
 * kernel resolves them, AF_UNSPEC as the INET code reads it. */
static __always_inline int unix_or_unspec(struct bst_task *ts, __u16 sk_family, __u16 sk_type,
					  int addrlen, __u32 op);

static __always_inline int sock_hook(struct socket *sock, struct sockaddr *address, int addrlen,
				     __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int len = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (len <= 0)
		return len;
	/* the kernel's copy of the address is a sockaddr_storage: 112 bytes are there */
	bpf_probe_read_kernel(ts->sa, sizeof(ts->sa), address);
	len = unix_or_unspec(ts, BPF_CORE_READ(sock, sk, __sk_common.skc_family),
			     BPF_CORE_READ(sock, type), addrlen, op);
	if (len <= 0)
		return len; /* decided where the kernel resolves the name (unix.bpf.h) */
	len = bst_render(ts, addrlen, BPF_CORE_READ(sock, type) == SOCK_RAW);
	if (len < 0)
		return -EPERM;
	return bst_decide(&s, ts, len, s.policy, op);
}

SEC("lsm/socket_bind")
int BST_LSM(bst_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return sock_hook(sock, address, addrlen, BST_OP_BIND);
}

SEC("lsm/socket_connect")
int BST_LSM(bst_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
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
int BST_LSM(bst_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	struct sockaddr *name;

	if (ret)
		return ret;
	name = BPF_CORE_READ(msg, msg_name);
	if (!name)
		return 0;
	return sock_hook(sock, name, BPF_CORE_READ(msg, msg_namelen), BST_OP_SENDTO);
}

/* ---- SCTP ---- */

#define SCTP_SET_PEER_PRIMARY_ADDR 5
#define SCTP_PRIMARY_ADDR	   6
#define SCTP_SOCKOPT_BINDX_ADD	   100
#define SCTP_SOCKOPT_BINDX_REM	   101
#define SCTP_MAX_ADDRS		   16 /* addresses of one call decided one by one */

/* One address of a packed list: its size (16 or 28), copied to ts->sa; 0:
 * not an inet address, or past the list's end. */
static __always_inline int sctp_addr(struct bst_task *ts, __u64 entry, int off, int addrlen)
{
	__u16 family = 0;

	bpf_probe_read_kernel(&family, sizeof(family), (void *)entry);
	if (family == AF_INET && off + 16 <= addrlen) {
		bpf_probe_read_kernel(ts->sa, 16, (void *)entry);
		return 16;
	}
	if (family == AF_INET6 && off + 28 <= addrlen) {
		bpf_probe_read_kernel(ts->sa, 28, (void *)entry);
		return 28;
	}
	return 0;
}

/* One address of an SCTP list per bpf_loop step: the verifier checks the
 * render and the decision once, not once per address (an unrolled loop of
 * SCTP_MAX_ADDRS copies took 237,000 instructions and 2.4 s under TCG). */
struct sctp_walk {
	struct subject *s;
	struct bst_task *ts; /* bpf_loop's context must be on the stack (6.1) */
	__u64 list;	     /* the kernel's copy: read with bpf_probe_read_kernel */
	int addrlen;
	int off;
	__u32 op;
	int r;	  /* the first denial */
	int done; /* every address decided and permitted */
};

static long sctp_one(__u32 i, void *ctx)
{
	struct sctp_walk *w = ctx;
	struct bst_task *ts = w->ts;
	int size, len, r;

	if (!ts)
		return 1;
	if (w->off >= w->addrlen) {
		w->done = 1;
		return 1;
	}
	size = sctp_addr(ts, w->list + w->off, w->off, w->addrlen);
	if (!size)
		return 1; /* not an inet address: refused */
	len = bst_render(ts, size, 0);
	if (len < 0) {
		w->r = -EPERM;
		return 1;
	}
	r = bst_decide(w->s, ts, len, w->s->policy, w->op);
	if (r) {
		w->r = r;
		return 1;
	}
	w->off += size;
	return 0;
}

/* SCTP's own ways to bind and connect, which socket_bind and socket_connect
 * never see: sctp_bindx(SCTP_BINDX_ADD_ADDR), SCTP_PRIMARY_ADDR and
 * SCTP_SET_PEER_PRIMARY_ADDR (local addresses) as bind; sctp_connectx,
 * sendmsg's implicit connect and the rest as connect. Every address of the
 * packed list (the kernel's copy) is decided, as bind or connect decide one;
 * removing addresses (SCTP_BINDX_REM_ADDR) is not. A list that is not inet
 * addresses, or longer than SCTP_MAX_ADDRS, is refused. */
SEC("lsm/sctp_bind_connect")
int BST_LSM(bst_sctp_bind_connect, struct sock *sk, int optname, struct sockaddr *address,
	    int addrlen)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	struct sctp_walk w = {};
	int r;

	if (optname == SCTP_SOCKOPT_BINDX_REM)
		return 0;
	w.op = BST_OP_CONNECT;
	if (optname == SCTP_SOCKOPT_BINDX_ADD || optname == SCTP_PRIMARY_ADDR ||
	    optname == SCTP_SET_PEER_PRIMARY_ADDR)
		w.op = BST_OP_BIND;
	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	w.s = &s;
	w.ts = ts;
	/* a plain number: the verifier lets no variable offset onto a trusted pointer */
	bpf_probe_read_kernel(&w.list, sizeof(w.list), &address);
	w.addrlen = addrlen;
	/* one step more than SCTP_MAX_ADDRS: the step that finds the list's end */
	bpf_loop(SCTP_MAX_ADDRS + 1, sctp_one, &w, 0);
	if (w.r)
		return w.r;
	if (w.done)
		return 0;
	ts->buf[0] = 0;
	return deny_unrendered(&s, ts, w.op, -EPERM);
}

#endif /* __BST_SOCKADDR_BPF_H */
