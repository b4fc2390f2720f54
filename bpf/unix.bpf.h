/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unix.bpf.h — AF_UNIX names decided where the kernel resolves them, and
 * AF_UNSPEC addresses decided as the INET code reads them.
 *
 * socket_bind/connect/sendmsg see the address as the caller wrote it:
 * "sock/../private.sock" matches a wildcard rule for "sock/". So for a unix
 * socket they only note the operation (bst_task.unix_op) and the decision is
 * made on what the kernel found:
 *   connect (stream, seqpacket)   unix_stream_connect: the listening peer
 *   connect (datagram), sendto    unix_may_send: the peer the name resolved to
 *   bind to a path                path_mknod(S_IFSOCK): the new file's directory + name
 * The peer is rendered as its bound path (bst_sock_local: the dentry it was
 * bound to, walked by path.bpf.h's bst_dentry_path, so symlinks and ".." are
 * gone) or its abstract name "@name"; an abstract or autobind ("") bind is
 * decided by socket_bind, as the kernel takes it byte for byte.
 *
 * A denied connect returns before the kernel links the sockets (no
 * connection, nothing queued on the listener); a denied bind returns before
 * vfs_mknod (no file). A datagram sent on a connected socket (no address) was
 * decided by its connect.
 *
 * The noted operation is consumed by the hook that decides it; a stale one (the
 * call failed before the kernel resolved the name) can only make the next send
 * on a connected socket be decided once more, as sendto of its connected peer.
 */
#ifndef __BST_UNIX_BPF_H
#define __BST_UNIX_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "render.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "socket.bpf.h"

#define AF_UNSPEC 0

/* Returns 1: render and decide the address here; 0: decided elsewhere (the
 * unix hooks below, or the INET code ignores the address); the address is
 * ts->sa, rendered by bst_render afterwards. */
static __always_inline int unix_or_unspec(struct bst_task *ts, __u16 sk_family, __u16 sk_type,
					  int addrlen, __u32 op)
{
	__u32 family = ts->sa[0] | ((__u32)ts->sa[1] << 8);

	if (sk_family == AF_UNIX) {
		if (op != BST_OP_BIND) {
			ts->unix_op = op == BST_OP_CONNECT ? UNIX_PEND_CONNECT : UNIX_PEND_SENDTO;
			return 0;
		}
		if (family == AF_UNIX && addrlen > 2 && ts->sa[2]) {
			ts->unix_op = UNIX_PEND_BIND; /* a path: path_mknod decides */
			return 0;
		}
		return 1; /* @abstract, or autobind "" */
	}
	if (family != AF_UNSPEC || op == BST_OP_CONNECT) /* connect(AF_UNSPEC): a disconnect */
		return 1;
	/* inet_bind, udp_sendmsg, raw_sendmsg: AF_UNSPEC is AF_INET;
	 * rawv6_sendmsg: AF_INET6; udpv6_sendmsg: no address (the connected peer) */
	if (sk_family == AF_INET || (sk_family == AF_INET6 && sk_type == SOCK_RAW)) {
		ts->sa[0] = sk_family;
		return 1;
	}
	if (sk_family == AF_INET6 && op == BST_OP_SENDTO)
		return 0;
	return 1;
}

/* path_mknod of a socket inode: bind(2) to a path (noted by socket_bind) or
 * mknod(2). */
static __always_inline __u32 unix_bind_op(void)
{
	struct bst_task *ts = bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0, 0);

	if (ts && ts->unix_op == UNIX_PEND_BIND) {
		ts->unix_op = UNIX_PEND_NONE;
		return BST_OP_BIND;
	}
	return BST_OP_MKNOD;
}

/* Decide op on the peer socket `other` (a struct socket *): its bound path,
 * resolved, or its @abstract name (bst_sock_local). */
static __always_inline int unix_peer_decide(struct socket *other, __u32 op)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	ts->unix_op = UNIX_PEND_NONE;
	ts->paths[0] = (__u64)other;
	r = bst_sock_local(ts);
	if (r < 0)
		return deny_unrendered(&s, ts, op, r == -1 ? -EPERM : r);
	return bst_decide(&s, ts, r, s.policy, op);
}

/* connect(2) of a stream or seqpacket socket, with the listener found */
SEC("lsm/unix_stream_connect")
int BST_LSM(bst_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk,
	    int ret)
{
	if (ret)
		return ret;
	return unix_peer_decide(BPF_CORE_READ(other, sk_socket), BST_OP_CONNECT);
}

/* connect(2) of a datagram socket, and every datagram sent: decided when
 * socket_connect or socket_sendmsg (with an address) noted it. */
SEC("lsm/unix_may_send")
int BST_LSM(bst_unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	struct bst_task *ts;
	__u32 pend;

	if (ret)
		return ret;
	ts = bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0, 0);
	if (!ts)
		return 0; /* no socket hook of a confined task ran: not confined */
	pend = ts->unix_op;
	if (pend != UNIX_PEND_CONNECT && pend != UNIX_PEND_SENDTO)
		return 0; /* a send on a connected socket: its connect decided */
	return unix_peer_decide(other, pend == UNIX_PEND_CONNECT ? BST_OP_CONNECT : BST_OP_SENDTO);
}

#endif /* __BST_UNIX_BPF_H */
