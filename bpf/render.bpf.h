/* SPDX-License-Identifier: GPL-2.0 */
/*
 * render.bpf.h — socket addresses as systrace prints them, into ts->buf.
 *
 *   AF_INET   inet-[127.0.0.1]:53
 *   AF_INET6  inet-[::1]:53   (glibc inet_ntop text: the longest run of two or
 *                               more zero groups compressed, ::ffff:a.b.c.d and
 *                               ::a.b.c.d for mapped and compatible addresses)
 *   AF_UNIX   the socket path; an abstract name as @name
 *   other     family(N)
 *   SOCK_RAW  raw-[127.0.0.1], raw-[::1]: a raw socket's port field is no port
 *             (its protocol, or nothing), so port rules never match one
 *
 * Verifier cost: number formatting branches on data at every digit, and when a
 * branch's outcome follows from constants the verifier keeps those paths apart,
 * so they multiply. Here all loop-carried state lives in the task's scratch
 * (map memory: loaded back it is an unknown value, so paths merge), and the
 * loops over IPv6 groups and unix path bytes are bpf_loop callbacks, verified
 * once. controller/model/objects.py renders the same text in Python.
 */
#ifndef __BST_RENDER_BPF_H
#define __BST_RENDER_BPF_H

#include "task.bpf.h"

#define AF_UNIX	   1
#define AF_INET	   2
#define AF_INET6   10
#define RENDER_MAX 160 /* longest rendered address, NUL included */

/* v, as a value the verifier knows nothing about (see above) */
static __always_inline __u32 launder(struct bst_task *ts, int slot, __u32 v)
{
	volatile __u32 *p = &ts->tmp[slot & 3];

	*p = v;
	return *p;
}

/* Bound an index for the verifier in the register that is used: clang
 * drops a plain `& 0xff` it can prove redundant, and may index with another
 * copy of the value than the one it compared. */
#define BOUND_BYTE(v) asm volatile("%[x] &= 0xff" : [x] "+r"(v))

static __always_inline void put(struct bst_task *ts, char c)
{
	__u64 p = *(volatile __u32 *)&ts->pos;

	if (p >= RENDER_MAX - 1)
		return;
	*(volatile __u32 *)&ts->pos = p + 1;
	BOUND_BYTE(p);
	ts->buf[p] = c;
}

static __always_inline void put_dec(struct bst_task *ts, __u32 v)
{
	char d[5];
	__u32 n = 1;

	d[0] = '0' + (v / 10000) % 10;
	d[1] = '0' + (v / 1000) % 10;
	d[2] = '0' + (v / 100) % 10;
	d[3] = '0' + (v / 10) % 10;
	d[4] = '0' + v % 10;
	if (v >= 10)
		n = 2;
	if (v >= 100)
		n = 3;
	if (v >= 1000)
		n = 4;
	if (v >= 10000)
		n = 5;
	for (int i = 0; i < 5; i++)
		if (i + launder(ts, 0, n) >= 5)
			put(ts, d[i]);
}

static __always_inline void put_hex16(struct bst_task *ts, __u32 v)
{
	__u32 n = 1;

	if (v >= 0x10)
		n = 2;
	if (v >= 0x100)
		n = 3;
	if (v >= 0x1000)
		n = 4;
	for (int i = 0; i < 4; i++) {
		__u8 nib = (v >> (12 - 4 * i)) & 0xf;

		if (i + launder(ts, 0, n) >= 4)
			put(ts, nib < 10 ? '0' + nib : 'a' + nib - 10);
	}
}

static __always_inline void put_ipv4(struct bst_task *ts, int off)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			put(ts, '.');
		put_dec(ts, ts->sa[(off + i) & 127 & 0x7f]);
	}
}

static __always_inline void put_lit(struct bst_task *ts, const char *s, int n)
{
	for (int i = 0; i < n && i < 8; i++)
		put(ts, s[i]);
}

struct render_ctx {
	struct bst_task *ts;
	int n; /* unix: path bytes in the address */
};

/* sockaddr_in6: port at sa[2..3], address at sa[8..23] */
static __always_inline __u32 v6_word(struct bst_task *ts, __u32 i)
{
	__u32 at = 8 + 2 * (i & 7);

	return ((__u32)ts->sa[at & 0x7f] << 8) | ts->sa[(at + 1) & 0x7f];
}

/* Pass 1: the longest run of zero groups (first one on a tie). */
static long v6_scan(__u32 i, void *data)
{
	struct bst_task *ts = ((struct render_ctx *)data)->ts;

	if (!ts)
		return 1;
	if (v6_word(ts, i) == 0) {
		if (ts->v6[0] < 0)
			ts->v6[0] = i;
		ts->v6[1] = i - ts->v6[0] + 1;
		if (ts->v6[1] > ts->v6[3]) {
			ts->v6[2] = ts->v6[0];
			ts->v6[3] = ts->v6[1];
		}
	} else {
		ts->v6[0] = -1;
	}
	return 0;
}

/* Pass 2: one group, "::" for the compressed run. */
static long v6_group(__u32 i, void *data)
{
	struct bst_task *ts = ((struct render_ctx *)data)->ts;
	int best, len;

	if (!ts)
		return 1;
	best = ts->v6[2];
	len = ts->v6[3];
	if (best >= 0 && (int)i >= best && (int)i < best + len) {
		if ((int)i == best)
			put(ts, ':');
		if ((int)i == best + len - 1 && best + len == 8)
			put(ts, ':');
		return 0;
	}
	if (i)
		put(ts, ':');
	/* glibc: an embedded IPv4 address for ::a.b.c.d and ::ffff:a.b.c.d */
	if (i == 6 && best == 0 &&
	    (len == 6 || (len == 7 && v6_word(ts, 7) != 1) ||
	     (len == 5 && v6_word(ts, 5) == 0xffff))) {
		put_ipv4(ts, 20);
		return 1;
	}
	put_hex16(ts, v6_word(ts, i));
	return 0;
}

static long unix_byte(__u32 i, void *data)
{
	struct render_ctx *r = data;
	struct bst_task *ts = r->ts;
	__u8 c;

	if (!ts || (int)i >= r->n)
		return 1;
	c = ts->sa[(2 + i) & 0x7f];
	if (ts->sa[2] == 0) { /* abstract: @name, bytes as they are */
		put(ts, i == 0 ? '@' : c);
		return 0;
	}
	if (c == 0)
		return 1;
	put(ts, c);
	return 0;
}

#ifndef SOCK_RAW
#define SOCK_RAW 3
#endif

static __always_inline void put_inet_start(struct bst_task *ts, int raw)
{
	if (raw)
		put_lit(ts, "raw-[", 5);
	else
		put_lit(ts, "inet-[", 6);
}

static __always_inline void put_inet_end(struct bst_task *ts, int raw)
{
	if (raw) {
		put(ts, ']');
		return;
	}
	put_lit(ts, "]:", 2);
	put_dec(ts, ((__u32)ts->sa[2] << 8) | ts->sa[3]);
}

/* Render ts->sa (a copy of the sockaddr; addrlen bytes valid) into ts->buf
 * and NUL-terminate it; returns the length. raw: the socket is SOCK_RAW.
 * Global: verified once. */
__noinline int bst_render(struct bst_task *ts, int addrlen, int raw)
{
	struct render_ctx r = { .ts = ts };
	__u32 family;
	__u64 p;

	if (!ts)
		return -1;
	ts->pos = 0;
	family = ts->sa[0] | ((__u32)ts->sa[1] << 8);
	if (family == AF_INET && addrlen >= 16) {
		put_inet_start(ts, raw);
		put_ipv4(ts, 4);
		put_inet_end(ts, raw);
	} else if (family == AF_INET6 && addrlen >= 24) {
		put_inet_start(ts, raw);
		ts->v6[0] = -1;
		ts->v6[1] = 0;
		ts->v6[2] = -1;
		ts->v6[3] = 0;
		bpf_loop(8, v6_scan, &r, 0);
		if (ts->v6[3] < 2)
			ts->v6[2] = -1;
		bpf_loop(8, v6_group, &r, 0);
		put_inet_end(ts, raw);
	} else if (family == AF_UNIX) {
		r.n = addrlen - 2;
		if (r.n > 108)
			r.n = 108;
		bpf_loop(108, unix_byte, &r, 0);
	} else {
		put_lit(ts, "family(", 7);
		put_dec(ts, family);
		put(ts, ')');
	}
	p = *(volatile __u32 *)&ts->pos;
	if (p >= RENDER_MAX)
		return -1;
	BOUND_BYTE(p);
	ts->buf[p] = 0;
	return p;
}

#endif /* __BST_RENDER_BPF_H */
