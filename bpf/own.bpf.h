/* SPDX-License-Identifier: GPL-2.0 */
/*
 * own.bpf.h — bpfsystrace's own maps, programs, links and pins are out of
 * reach of every confined task, whatever its policy says about bpf, unlink
 * or rename. They are known by identity, not by name: the loader fills
 * `own` after load with each map's, program's and link's id and each pin's
 * inode (docs/security.md):
 *
 *   bpf_map, bpf_prog   a new descriptor of one of ours (BPF_OBJ_GET of a pin,
 *                       BPF_MAP_GET_FD_BY_ID, BPF_PROG_GET_FD_BY_ID): denied
 *   bpf                 BPF_LINK_GET_FD_BY_ID of one of our links; LINK_DETACH
 *                       and LINK_UPDATE on a descriptor of one: denied
 *   path hooks          unlink, rename (either side), rmdir, chmod, chown,
 *                       truncate, link of a pin or pin directory: denied,
 *                       whatever path (bind mount, other bpffs mount) names it
 *   sb_umount           of the bpffs that holds the pins (its last mount
 *                       going away would drop every pin): denied
 *
 * Every attempt is counted (BST_CNT_OWN_OBJECT) and reported as a denial of
 * the object "<bpfsystrace's own object>", in audit and learn mode as well.
 */
#ifndef __BST_OWN_BPF_H
#define __BST_OWN_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "names.bpf.h"
#include "subject.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "tables.bpf.h"

/* Row `idx` of a 64-row name table (tables.bpf.h) at ts->buf[0]; its length
 * (0: the row is empty). The mask keeps the verifier's bound on the index
 * (clang checks a copy otherwise). */
#define put_table(ts, table, idx)                           \
	({                                                  \
		__u64 __i = (idx);                          \
		asm volatile("%[x] &= 63" : [x] "+r"(__i)); \
		put_row(ts, table[__i]);                    \
	})

static __always_inline int put_row(struct bst_task *ts, const char *row)
{
	for (int i = 0; i < BST_NAME_W - 1; i++) {
		char c = row[i];

		ts->buf[i] = c;
		if (!c)
			return i;
	}
	ts->buf[BST_NAME_W - 1] = 0;
	return BST_NAME_W - 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_OWN);
	__type(key, struct bst_own_key);
	__type(value, __u32);
} own SEC(".maps");

static __always_inline int is_own(__u32 kind, __u32 dev, __u64 id)
{
	struct bst_own_key k = { .kind = kind, .dev = dev, .id = id };

	return id && bpf_map_lookup_elem(&own, &k) != 0;
}

/* Deny, count and report a reach for one of our objects. Global. */
__noinline int bst_deny_own(struct subject *s, struct bst_task *ts, __u32 op)
{
	struct decision d = { 0, 0, op, BST_RULE_NONE, EPERM, 0 };

	if (!s || !ts)
		return -EPERM;
	count(BST_CNT_OWN_OBJECT);
	d.policy = s->policy;
	d.len = PUT_NAME(ts, 0, "<bpfsystrace's own object>");
	bst_emit(s, ts, &d);
	return -EPERM;
}

/* Is the dentry ts->paths[0] (global functions take no kernel pointers) one
 * of our pins or pin directories? -EPERM (reported) if so, else 0. Global. */
__noinline int bst_own_dentry(struct subject *s, struct bst_task *ts, __u32 op)
{
	struct dentry *dentry;
	struct inode *inode;

	if (!s || !ts || !ts->paths[0])
		return 0;
	dentry = (struct dentry *)ts->paths[0];
	inode = BPF_CORE_READ(dentry, d_inode);
	if (!inode)
		return 0;
	if (!is_own(BST_OWN_PIN, BPF_CORE_READ(inode, i_sb, s_dev), BPF_CORE_READ(inode, i_ino)))
		return 0;
	return bst_deny_own(s, ts, op);
}

SEC("lsm/bpf_map")
int BST_LSM(bst_bpf_map, struct bpf_map *map, fmode_t fmode)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	if (is_own(BST_OWN_MAP, 0, BPF_CORE_READ(map, id)))
		return bst_deny_own(&s, ts, BST_OP_BPF);
	return 0;
}

SEC("lsm/bpf_prog")
int BST_LSM(bst_bpf_prog, struct bpf_prog *prog)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	if (is_own(BST_OWN_PROG, 0, BPF_CORE_READ(prog, aux, id)))
		return bst_deny_own(&s, ts, BST_OP_BPF);
	return 0;
}

/* The id of the bpf_link a descriptor of the current task refers to (0: none
 * or not readable). A descriptor of another kind reads as an unrelated
 * number; only an id in `own` matters. */
static __always_inline __u64 fd_link_id(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = 0;
	struct bpf_link *l;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	l = BPF_CORE_READ(f, private_data);
	return l ? BPF_CORE_READ(l, id) : 0;
}

/* The command's name at ts->buf[0] (tables.bpf.h), BPF_CMD(N) for others. */
static const char fmt_bpf_cmd[] = "BPF_CMD(%d)";

static __always_inline int own_bpf_cmd(int cmd, union bpf_attr *attr)
{
	if (cmd == BPF_LINK_GET_FD_BY_ID)
		return is_own(BST_OWN_LINK, 0, BPF_CORE_READ(attr, link_id));
	if (cmd == BPF_MAP_GET_FD_BY_ID)
		return is_own(BST_OWN_MAP, 0, BPF_CORE_READ(attr, map_id));
	if (cmd == BPF_PROG_GET_FD_BY_ID)
		return is_own(BST_OWN_PROG, 0, BPF_CORE_READ(attr, prog_id));
	if (cmd == BPF_LINK_DETACH)
		return is_own(BST_OWN_LINK, 0,
			      fd_link_id(BPF_CORE_READ(attr, link_detach.link_fd)));
	if (cmd == BPF_LINK_UPDATE)
		return is_own(BST_OWN_LINK, 0,
			      fd_link_id(BPF_CORE_READ(attr, link_update.link_fd)));
	return 0;
}

/* bpf(2): our objects first (whatever the policy), then the policy's rules
 * for the command. The kernel's own bpf() calls (sys_bpf from a program, the
 * loader of a preloaded object) run in the caller's context too and are
 * decided alike. */
SEC("lsm/bpf")
int BST_LSM(bst_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	struct subject s = {};
	struct bst_task *ts = 0;
	int r = hook_begin(&s, &ts, MANAGER_EXEMPT);

	if (r <= 0)
		return r;
	if (own_bpf_cmd(cmd, attr))
		return bst_deny_own(&s, ts, BST_OP_BPF);
	if (cmd >= 0 && cmd < BST_NR_BPF_CMDS)
		r = put_table(ts, bst_bpf_cmd_names, cmd);
	else
		r = put_unknown(ts, 0, fmt_bpf_cmd, cmd);
	if (r < 0)
		return deny_unrendered(&s, ts, BST_OP_BPF, -EPERM);
	return bst_decide(&s, ts, r, s.policy, BST_OP_BPF);
}

#endif /* __BST_OWN_BPF_H */
