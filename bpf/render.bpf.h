/* SPDX-License-Identifier: GPL-2.0 */
/*
 * render.bpf.h — socket addresses as systrace prints them.
 *
 *   AF_INET   inet-[127.0.0.1]:53
 *   AF_INET6  inet-[::1]:53   (glibc inet_ntop text: zero runs compressed,
 *                               ::ffff:a.b.c.d and ::a.b.c.d forms)
 *   AF_UNIX   the socket path; an abstract name as @name
 *   other     family(N)
 *
 * controller/model/objects.py renders the same strings in Python; the kernel
 * tests compare the two through socket.inet_ntop.
 */
#ifndef __BST_RENDER_BPF_H
#define __BST_RENDER_BPF_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define RENDER_MAX 160        /* longest rendered address, NUL included */

struct render {
	char *buf;
	__u32 pos;
};

static __always_inline void put(struct render *r, char c)
{
	if (r->pos < RENDER_MAX - 1) {
		r->buf[r->pos & (BST_PATH_MAX - 1)] = c;
		r->pos++;
	}
}

static __always_inline void put_str(struct render *r, const char *s, int n)
{
	for (int i = 0; i < n && i < 8; i++)
		put(r, s[i]);
}

static __always_inline void put_dec(struct render *r, __u32 v)
{
	char d[10];
	int n = 0;

	for (int i = 0; i < 10; i++) {
		d[i] = '0' + v % 10;
		v /= 10;
		n++;
		if (!v)
			break;
	}
	for (int i = 9; i >= 0; i--)
		if (i < n)
			put(r, d[i]);
}

static __always_inline void put_hex16(struct render *r, __u16 v)
{
	const char hex[] = "0123456789abcdef";
	int started = 0;

	for (int shift = 12; shift >= 0; shift -= 4) {
		__u8 nib = (v >> shift) & 0xf;

		if (nib || started || shift == 0) {
			put(r, hex[nib]);
			started = 1;
		}
	}
}

static __always_inline void put_ipv4(struct render *r, const __u8 *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			put(r, '.');
		put_dec(r, a[i]);
	}
}

static __always_inline void put_ipv6(struct render *r, const __u8 *a)
{
	__u16 w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++)
		w[i] = ((__u16)a[2 * i] << 8) | a[2 * i + 1];
	for (int i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0) {
				cur = i;
				cur_len = 1;
			} else {
				cur_len++;
			}
			if (cur_len > best_len) {
				best = cur;
				best_len = cur_len;
			}
		} else {
			cur = -1;
			cur_len = 0;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				put(r, ':');
			continue;
		}
		if (i)
			put(r, ':');
		/* glibc: an embedded IPv4 address for ::a.b.c.d and ::ffff:a.b.c.d */
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 7 && w[7] != 1) ||
		     (best_len == 5 && w[5] == 0xffff))) {
			put_ipv4(r, a + 12);
			break;
		}
		put_hex16(r, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		put(r, ':');
}

/* Render `address` into buf; returns the length without the NUL. */
static __always_inline int render_sockaddr(char *buf, struct sockaddr *address, int addrlen)
{
	struct render r = { .buf = buf, .pos = 0 };
	__u16 family = BPF_CORE_READ(address, sa_family);

	if (family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)address;
		__u8 a[4];
		__u16 port = bpf_ntohs(BPF_CORE_READ(in, sin_port));

		bpf_probe_read_kernel(a, sizeof(a), &in->sin_addr);
		put_str(&r, "inet-[", 6);
		put_ipv4(&r, a);
		put_str(&r, "]:", 2);
		put_dec(&r, port);
	} else if (family == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;
		__u8 a[16];
		__u16 port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));

		bpf_probe_read_kernel(a, sizeof(a), &in6->sin6_addr);
		put_str(&r, "inet-[", 6);
		put_ipv6(&r, a);
		put_str(&r, "]:", 2);
		put_dec(&r, port);
	} else if (family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)address;
		char path[108] = {};
		int n = addrlen - 2;

		if (n > 108)
			n = 108;
		if (n > 0)
			bpf_probe_read_kernel(path, n & 0x7f, un->sun_path);
		for (int i = 0; i < 108; i++) {
			if (i >= n)
				break;
			if (i == 0 && path[0] == 0) {
				put(&r, '@');
				continue;
			}
			if (i > 0 && path[i] == 0 && path[0] != 0)
				break;
			put(&r, path[i]);
		}
	} else {
		put_str(&r, "family(", 7);
		put_dec(&r, family);
		put(&r, ')');
	}
	buf[r.pos & (BST_PATH_MAX - 1)] = 0;
	return r.pos;
}

#endif /* __BST_RENDER_BPF_H */
