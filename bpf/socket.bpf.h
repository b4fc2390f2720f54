/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socket.bpf.h — socket(2) and socketpair(2), decided on the domain, type and
 * protocol (names.bpf.h), and listen(2) and accept(2), on the socket's bound address
 * (bst_sock_local(), which unix.bpf.h uses for a unix peer).
 */
#ifndef __BST_SOCKET_BPF_H
#define __BST_SOCKET_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "render.bpf.h"
#include "path.bpf.h"
#include "names.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"

/* ---- socket, listen, accept ---- */

/* socket(2) and socketpair(2): "sockdom\0socktype\0sockproto"
 * (AF_INET\0SOCK_DGRAM\0udp). Decided before the family creates the socket
 * (no family code runs for a denied one, no module is loaded for it), on the
 * protocol asked for; an inet family's protocol 0 is named as the kernel
 * resolves it (first_proto). The kernel's own sockets (kern: created by the
 * kernel on its behalf, e.g. for NFS or a tunnel) are never decided. */
static __always_inline int first_proto(int family, int type, int protocol)
{
	if (protocol || (family != AF_INET && family != AF_INET6))
		return protocol;
	if (type == 1) /* SOCK_STREAM: tcp, the first of inetsw[] (permanent) */
		return 6;
	if (type == 2) /* SOCK_DGRAM: udp */
		return 17;
	if (type == 5) /* SOCK_SEQPACKET: sctp, the only one */
		return 132;
	return 0;
}

static __always_inline int decide_socket(int family, int type, int protocol)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r;

	r = hook_begin(&s, &ts, MANAGER_EXEMPT);
	if (r <= 0)
		return r;
	r = bst_put_socket(ts, family, type, protocol);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_SOCKET, -EPERM);
	return bst_decide(&s, ts, r, s.policy, BST_OP_SOCKET);
}

SEC("lsm/socket_create")
int BST_LSM(bst_socket_create, int family, int type, int protocol, int kern, int ret)
{
	if (ret)
		return ret;
	if (kern)
		return 0;
	return decide_socket(family, type, first_proto(family, type, protocol));
}

/* After the family created the socket: when the protocol it gave the socket
 * is not the one socket_create named (a kernel that resolves protocol 0
 * otherwise, a family that rewrites it), the socket is decided again on what
 * it is; a denied socket is released before it has a descriptor. */
SEC("lsm/socket_post_create")
int BST_LSM(bst_socket_post_create, struct socket *sock, int family, int type, int protocol,
	    int kern, int ret)
{
	struct sock *sk;
	int real;

	if (ret)
		return ret;
	if (kern)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	real = BPF_CORE_READ(sk, sk_protocol);
	if (real == first_proto(family, type, protocol))
		return 0;
	return decide_socket(family, type, real);
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
	return bst_render(ts, len, 0); /* listen, accept: not raw sockets */
}

static __always_inline int sock_local_hook(struct socket *sock, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	ts->paths[0] = (__u64)sock;
	r = bst_sock_local(ts);
	if (r < 0)
		return deny_unrendered(&s, ts, op, r == -1 ? -EPERM : r);
	return bst_decide(&s, ts, r, s.policy, op);
}

SEC("lsm/socket_listen")
int BST_LSM(bst_socket_listen, struct socket *sock, int backlog, int ret)
{
	if (ret)
		return ret;
	return sock_local_hook(sock, BST_OP_LISTEN);
}

/* accept(2), accept4(2): the listening socket's address */
SEC("lsm/socket_accept")
int BST_LSM(bst_socket_accept, struct socket *sock, struct socket *newsock, int ret)
{
	if (ret)
		return ret;
	return sock_local_hook(sock, BST_OP_ACCEPT);
}

#endif /* __BST_SOCKET_BPF_H */
