/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.bpf.h — the maps the controller fills and reads, with bpfsystrace.h's
 * keys and values: targets, executables' policies (by identity and by path), the DFAs (policy_ops, the
 * states and cells tables, the regions that say which generation holds
 * which part of them), rules and their hits, counters, learn mode's `seen` and the
 * events ring buffer, and `grace` (the controller's wait for programs in
 * flight). Task storage and `epoch` are task.bpf.h's, `own` is
 * own.bpf.h's.
 */
#ifndef __BST_MAPS_BPF_H
#define __BST_MAPS_BPF_H

#include "bpfsystrace.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_TARGETS);
	__type(key, __u64);
	__type(value, struct bst_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_EXES);
	__type(key, struct bst_exe_key);
	__type(value, __u32);
} exes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_EXES);
	__type(key, struct bst_exe_path_key);
	__type(value, __u32);
} exe_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_POLICY_OPS);
	__type(key, struct bst_policy_op_key);
	__type(value, struct bst_policy_op);
} policy_ops SEC(".maps");

/* The DFA tables: arrays (lookups the verifier inlines), mmapable so that
 * the controller copies a generation's region in with one memcpy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BST_MAX_STATES);
	__type(key, __u32);
	__type(value, struct bst_state);
} states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BST_MAX_CELLS);
	__type(key, __u32);
	__type(value, struct bst_cell);
} cells SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BST_MAX_REGIONS);
	__type(key, struct bst_region_key);
	__type(value, struct bst_region);
} regions SEC(".maps");

/* rules and their hits: allocated as used (a preallocated per-CPU map of
 * BST_MAX_RULES would take max_entries x CPUs x 8 bytes up front) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BST_MAX_RULES);
	__type(key, struct bst_rule_key);
	__type(value, struct bst_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BST_MAX_RULES);
	__type(key, struct bst_rule_key);
	__type(value, __u64);
} rule_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BST_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Learn mode: (gen, exe, op, hash of object) already reported. LRU: a
 * forgotten entry only means one more (duplicate) event, never a decision. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BST_MAX_SEEN);
	__type(key, struct bst_seen_key);
	__type(value, __u64);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BST_RINGBUF_SIZE);
} events SEC(".maps");

/* grace: no program reads it. The controller updates it to wait until no
 * program still reads a replaced generation: the kernel completes an update
 * of a map of maps after an RCU grace period (synchronize_rcu), and every
 * program here is non-sleepable, under rcu_read_lock (controller/kernel/maps.py
 * grace()). */
struct bst_grace_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct bst_grace_inner);
} grace SEC(".maps");

#endif /* __BST_MAPS_BPF_H */
