"""Policy generations in the kernel maps: write one, swap it in, remove one.

A generation is every record of one compiled attachment, keyed by its `gen`.
install() writes the whole new generation first and then points the target
at it with a single update of `targets`; until that update the kernel keeps
deciding with the old generation, after it with the new one. Nothing is
edited in place under load. A failure before the swap removes what was
written, so no half-applied policy is ever in force.
"""
from __future__ import annotations

import ctypes as C
import logging

from .. import abi
from ..compile.records import Records
from ..errors import KernelError

log = logging.getLogger(__name__)

GEN_MAPS = ("exes", "policy_ops", "states", "trans", "rules", "rule_hits")


def live_gens(k) -> dict[int, int]:
    """cgroup id -> generation for every attached target."""
    out = {}
    for key in k.targets.keys():
        t = k.targets.lookup(key)
        if t is not None:
            out[key.value] = t.gen
    return out


def _free_gen(k) -> int:
    used = set(live_gens(k).values())
    for gen in range(1, 1 << 20):
        if gen not in used:
            return gen
    raise KernelError("allocate generation", "targets", 28)


_CAPACITY = {"states": abi.BST_MAX_STATES, "trans": abi.BST_MAX_TRANS,
             "rules": abi.BST_MAX_RULES, "rule_hits": abi.BST_MAX_RULES,
             "exes": abi.BST_MAX_EXES, "policy_ops": abi.BST_MAX_POLICY_OPS}


def _explain_full(e: KernelError) -> KernelError:
    """A full map (E2BIG/ENOSPC on update) as something an administrator can act on."""
    name = e.obj
    if e.errno in (7, 28) and name in _CAPACITY:
        return KernelError("install policy in map", name, e.errno,
                           f"the map holds at most {_CAPACITY[name]} entries for all attached "
                           f"policies together: detach other targets or simplify the policies "
                           f"('bpfsystrace check --stats' shows their size)")
    return e


def install(k, recs: Records, exe_ids: dict[int, tuple[int, int]], cgid: int,
            manager: tuple[int, int] | None) -> int:
    """Write a generation for cgroup `cgid` and swap it in; returns its gen."""
    gen = _free_gen(k)
    try:
        _write(k, recs, exe_ids, gen)
    except KernelError as e:
        prune(k, keep=set(live_gens(k).values()))
        raise _explain_full(e) from None
    except BaseException:
        prune(k, keep=set(live_gens(k).values()))
        raise
    flags = abi.BST_TARGET_MANAGER if manager else 0
    mdev, mino = manager or (0, 0)
    target = abi.BstTarget(gen, recs.default_policy, flags, mdev, mino)
    old = k.targets.lookup(C.c_uint64(cgid))
    try:
        k.targets.update(C.c_uint64(cgid), target)     # the swap
    except BaseException:
        prune(k, keep=set(live_gens(k).values()))
        raise
    prune(k, keep=set(live_gens(k).values()))        # the old generation, crash leftovers
    return gen


def _write(k, recs: Records, exe_ids, gen: int) -> None:
    zero_hits = (C.c_uint64 * k.rule_hits._ncpu)()
    for rid in range(len(recs.rules)):
        key = abi.BstRuleKey(gen, rid)
        k.rules.update(key, recs.rule_record(rid))
        k.rule_hits.update(key, zero_hits)
    for sid, st in enumerate(recs.states):
        k.states.update(abi.BstStateKey(gen, sid), st)
    for state, byte, nxt in recs.trans:
        k.trans.update(abi.BstTransKey(gen, state, byte, 0), C.c_uint32(nxt))
    for (policy, op), start in recs.policy_ops.items():
        k.policy_ops.update(abi.BstPolicyOpKey(gen, policy, op, 0), abi.BstPolicyOp(start, 0))
    for policy, (dev, ino) in exe_ids.items():
        k.exes.update(abi.BstExeKey(gen, dev, ino), C.c_uint32(policy))


def prune(k, keep: set[int]) -> int:
    """Delete every record of generations not in `keep` (one pass over the maps)."""
    removed = 0
    for name in GEN_MAPS:
        m = getattr(k, name)
        for key in m.keys():
            if key.gen not in keep:
                m.delete(key)
                removed += 1
    return removed


def remove_target(k, cgid: int) -> bool:
    old = k.targets.lookup(C.c_uint64(cgid))
    if old is None:
        return False
    k.targets.delete(C.c_uint64(cgid))
    prune(k, keep=set(live_gens(k).values()))
    return True


def rule_hits(k, gen: int) -> dict[int, int]:
    """rule id -> hits summed over CPUs, for one generation."""
    out = {}
    for key in k.rule_hits.keys():
        if key.gen == gen:
            val = k.rule_hits.lookup(key)
            if val is not None:
                out[key.rule] = sum(v for v in val)
    return out


def counters(k) -> list[int]:
    out = []
    for i in range(abi.BST_NR_COUNTERS):
        val = k.counters.lookup(C.c_uint32(i))
        out.append(sum(v for v in val) if val is not None else 0)
    return out
