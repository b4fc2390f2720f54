/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decide.bpf.h — the decision engine: bst_match() walks a policy's automata
 * for an operation over ts->buf (bst_walk: one of them), bst_verdict() gives the rule's verdict (its hit
 * counted, an event for denials and `log` rules; audit and learn mode),
 * bst_decide() does both; bst_emit() and bst_learn() report.
 */
#ifndef __BST_DECIDE_BPF_H
#define __BST_DECIDE_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include "subject.bpf.h"

/* A walk over one region of the tables (bpfsystrace.h): the state is local
 * to the region and every index is checked against it; anything outside it
 * means the maps do not describe the decision (broken: fail closed). */
struct walk_ctx {
	struct bst_task *ts;
	__u32 state;
	__u32 state_base;
	__u32 nstates;
	__u32 cell_base;
	__u32 ncells;
	int broken;
};

static long walk_byte(__u32 i, void *data)
{
	struct walk_ctx *w = data;
	struct bst_state *st;
	struct bst_cell *c;
	__u32 s = w->state, idx, j = i;

	if (i >= BST_PATH_MAX)
		return 1;
	if (s >= w->nstates) {
		w->broken = 1;
		return 1;
	}
	idx = w->state_base + s;
	st = bpf_map_lookup_elem(&states, &idx);
	if (!st) {
		w->broken = 1;
		return 1;
	}
	if (st->flags & BST_STATE_FINAL)
		return 1;
	/* the verifier loses i's bound across the lookups: restate it */
	asm volatile("%0 &= %1" : "+r"(j) : "i"(BST_PATH_MAX - 1));
	idx = st->base + (__u8)w->ts->buf[j];
	if (idx < w->ncells) {
		idx += w->cell_base;
		c = bpf_map_lookup_elem(&cells, &idx);
		if (!c) {
			w->broken = 1;
			return 1;
		}
		if (c->check == s + 1) {
			w->state = c->next;
			return 0;
		}
	}
	w->state = st->next;
	return 0;
}

/* One decision, as reported in an event. */
struct decision {
	__u32 len;
	__u32 policy;
	__u32 op;
	__u32 rule;
	__s32 err;     /* positive errno, 0 when permitted */
	__u32 evflags; /* BST_EV_AUDIT, BST_EV_LEARN, BST_EV_INTERP */
};

/* Emit an event for a decision (global: verified once per program). */
__noinline int bst_emit(struct subject *s, struct bst_task *ts, struct decision *d)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bst_event *ev;
	__u32 len;
	int err;

	if (!s || !ts || !d)
		return 0;
	len = d->len;
	err = d->err;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(BST_CNT_LOST_EVENTS);
		return 0;
	}
	ev->ts_ns = bpf_ktime_get_boot_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->target_id = s->target_id;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->gen = s->gen;
	ev->policy = d->policy;
	ev->rule = d->rule;
	ev->op = d->op;
	ev->errno_ = err;
	ev->flags = d->evflags | (len >= BST_EVENT_STR ? BST_EV_TRUNCATED : 0) |
		    (err && !(d->evflags & BST_EV_AUDIT) ? BST_EV_DENIED : 0);
	ev->str_len = len;
	ev->exe_dev = s->exe_dev;
	ev->exe_ino = s->exe_ino;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_probe_read_kernel(ev->str, sizeof(ev->str), ts->buf);
	ev->str[BST_EVENT_STR - 1] = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

struct hash_ctx {
	struct bst_task *ts; /* bpf_loop's context must be on the stack (6.1) */
	__u64 hash;
};

static long hash_byte(__u32 i, void *data)
{
	struct hash_ctx *h = data;

	if (i >= BST_PATH_MAX)
		return 1;
	h->hash = (h->hash ^ (__u8)h->ts->buf[i]) * 0x100000001b3ULL;
	return 0;
}

/* Learn mode: report (exe, op, object) the first time it is seen in this
 * generation; later sightings are only counted. Always permits. Global. */
__noinline int bst_learn(struct subject *s, struct bst_task *ts, struct decision *d)
{
	struct bst_seen_key k = {};
	struct hash_ctx h = {};
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 len;

	if (!s || !ts || !d)
		return 0;
	len = d->len;
	if (len > BST_PATH_MAX)
		len = BST_PATH_MAX;
	h.ts = ts;
	h.hash = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
	bpf_loop(len, hash_byte, &h, 0);
	k.gen = s->gen;
	k.op = d->op;
	k.exe_dev = s->exe_dev;
	k.exe_ino = s->exe_ino;
	k.hash = h.hash;
	if (bpf_map_update_elem(&seen, &k, &now, BPF_NOEXIST)) {
		count(BST_CNT_LEARN_SEEN);
		return 0;
	}
	d->err = 0;
	d->evflags |= BST_EV_LEARN;
	bst_emit(s, ts, d);
	return 0;
}

/* Walk one part of (s->gen, policy, op)'s automata over ts->buf[0..len):
 * the rule it ends on (from rule_base), or BST_RULE_NONE when the maps do not
 * describe it. Global: verified once per program. */
__noinline __u32 bst_walk(struct bst_task *ts, struct bst_policy_op *po, __u32 len)
{
	struct walk_ctx w = {};
	struct bst_state *st;
	__u32 idx;

	if (!ts || !po)
		return BST_RULE_NONE;
	w.ts = ts;
	w.state = po->start;
	w.state_base = po->state_base;
	w.nstates = po->nstates;
	w.cell_base = po->cell_base;
	w.ncells = po->ncells;
	if (len > BST_PATH_MAX)
		len = BST_PATH_MAX;
	bpf_loop(len, walk_byte, &w, 0);
	if (w.broken || w.state >= w.nstates)
		return BST_RULE_NONE;
	idx = w.state_base + w.state;
	st = bpf_map_lookup_elem(&states, &idx);
	return st ? st->rule : BST_RULE_NONE;
}

/* The rule that (s->gen, policy)'s automata for `op` give for the string
 * ts->buf[0..len): the lowest of its parts' (each part's rules are numbered
 * for the whole operation, "no rule matched" the highest), or BST_RULE_NONE
 * when the maps do not describe it: a missing part fails closed. No side
 * effects. Global: verified once per program. */
__noinline __u32 bst_match(struct subject *s, struct bst_task *ts, __u32 len, __u32 policy,
			   __u32 op)
{
	struct bst_policy_op_key pk = {};
	struct bst_policy_op *po;
	__u32 best, r, nparts, base, p;

	if (!s || !ts)
		return BST_RULE_NONE;
	pk.gen = s->gen;
	pk.policy = policy;
	pk.op = op;
	po = bpf_map_lookup_elem(&policy_ops, &pk);
	if (!po)
		return BST_RULE_NONE;
	base = po->rule_base;
	nparts = po->nparts;
	best = bst_walk(ts, po, len);
	if (best == BST_RULE_NONE)
		return BST_RULE_NONE;
	for (p = 1; p < BST_MAX_PARTS; p++) {
		if (p >= nparts)
			break;
		pk.part = p;
		po = bpf_map_lookup_elem(&policy_ops, &pk);
		if (!po)
			return BST_RULE_NONE;
		if (po->first_rule >= best)
			continue; /* nothing in this part comes before what matched */
		r = bst_walk(ts, po, len);
		if (r == BST_RULE_NONE)
			return BST_RULE_NONE;
		if (r < best)
			best = r;
	}
	return base + best;
}

/* The verdict of rule d->rule (bst_match's answer for d->policy, d->op and
 * ts->buf[0..d->len)): count its hit, emit an event for denials and `log`
 * rules. Returns 0 to permit or -errno. Global: verified once per program. */
__noinline int bst_verdict(struct subject *s, struct bst_task *ts, struct decision *d)
{
	struct bst_rule_key rk = {};
	struct bst_rule *r;
	__u64 *hits;
	int err;

	if (!s || !ts || !d)
		return -EPERM;
	rk.gen = s->gen;
	rk.rule = d->rule;
	r = bpf_map_lookup_elem(&rules, &rk);
	if (!r) {
		/* Fail closed: the maps do not describe this decision. */
		count(BST_CNT_MAP_MISSING);
		d->rule = BST_RULE_NONE;
		d->err = EPERM;
		bst_emit(s, ts, d);
		return -EPERM;
	}
	hits = bpf_map_lookup_elem(&rule_hits, &rk);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	err = r->errno_ > 0 ? r->errno_ : 0;
	if (s->flags & BST_TARGET_LEARN)
		/* Learn mode: nothing is denied, each new object reported once. */
		return bst_learn(s, ts, d);
	d->err = err;
	if (err && (s->flags & BST_TARGET_AUDIT)) {
		/* Audit (complain) mode: counted above and reported, but permitted. */
		d->evflags |= BST_EV_AUDIT;
		bst_emit(s, ts, d);
		return 0;
	}
	if (err || (r->flags & BST_RULE_LOG))
		bst_emit(s, ts, d);
	return -err;
}

/* Decide `op` for the string ts->buf[0..len) under (s->gen, policy): find the
 * rule and give its verdict. Returns 0 to permit or -errno. Global. */
__noinline int bst_decide(struct subject *s, struct bst_task *ts, __u32 len, __u32 policy, __u32 op)
{
	struct decision d = { len, policy, op, BST_RULE_NONE, 0, 0 };

	if (d.len > BST_PATH_MAX)
		d.len = BST_PATH_MAX;
	d.rule = bst_match(s, ts, d.len, policy, op);
	return bst_verdict(s, ts, &d);
}

#endif /* __BST_DECIDE_BPF_H */
