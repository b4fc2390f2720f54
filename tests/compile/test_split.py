"""compile/split.py: an operation split over several automata decides exactly
as one automaton (and the reference evaluator) does, walked in the packed
tables as the kernel walks them, and diff sees through the split."""

import errno
import random
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfsystrace import abi
from bpfsystrace.compile import diff, records, split
from bpfsystrace.model import reference
from bpfsystrace.model.types import Atom

from .test_dfa import alternating, exprs, policy, rule, values
from .test_diff import changes, verdict
from .test_diff import policy as diff_policy
from .test_diff import rules as diff_rules

FS = abi.BST_OP_FSREAD


def split_everything():
    """Split as soon as there is one pattern rule, one related anchor per part."""
    return mock.patch.multiple(split, SPLIT_AT=0, MAX_RELATED=1)


def tables_rule(recs, data):
    """The rule the kernel's walk picks: every part in the packed tables, the lowest."""
    starts = recs.policy_ops[(0, FS)]
    local = min(recs.tables.walk(s, data, abi.BST_STATE_FINAL) for s, _ in starts)
    return recs.rules[recs.rule_base[(0, FS)] + local].rule


@settings(max_examples=300, deadline=None)
@given(st.lists(exprs, min_size=1, max_size=8), st.lists(values, min_size=1, max_size=8))
def test_split_decides_as_the_reference(exprs_, strings):
    pol = alternating(exprs_)
    with split_everything():
        recs = records.compile_policies([pol])
    for s in strings + ["", "/", "/a.c"]:
        want = reference.decide(pol, FS, s).rule
        assert recs.rules[recs.decide(0, FS, s.encode())].rule is want, s
        assert tables_rule(recs, s.encode()) is want, s


@settings(max_examples=200, deadline=None)
@given(diff_rules(), diff_rules(), st.lists(st.text(alphabet="/ab", max_size=5), max_size=30))
def test_diff_sees_through_the_split(a, b, probes):
    old, new = diff_policy(a), diff_policy(b)
    with split_everything():
        d = changes(old, new)
    assert d.complete
    for c in d.changes:
        assert verdict(old, FS, c.example) != verdict(new, FS, c.example), c
    kinds = {c.kind for c in d.changes}
    for p in probes:
        va, vb = verdict(old, FS, "/" + p), verdict(new, FS, "/" + p)
        if va != vb:
            want = diff.Verdict(va[0], va[1], va[2], "").kind_to(diff.Verdict(vb[0], vb[1], vb[2], ""))
            assert want in kinds, (p, want, kinds)


def test_many_globs_of_few_directories_are_split():
    """400 globs in 8 directories, among exact strings: one automaton would
    need more than the budget; split, every part stays small and the first
    match is still the first rule that matches."""
    rules, line = [], 0
    for i in range(2000):
        line += 1
        if i % 5 == 0:
            atom = Atom("filename", 0, "match", f"/srv/g{i % 40}/*/x{i}*.conf")
        else:
            atom = Atom("filename", 0, "eq", f"/srv/data/file{i:05d}")
        rules.append(rule(atom, "deny" if i % 7 == 0 else "permit", errno.EACCES if i % 7 == 0 else 0, line))
    pol = policy(*rules)
    recs = records.compile_policies([pol])
    parts = recs.parts[(0, FS)]
    assert 1 < len(parts) <= abi.BST_MAX_PARTS
    assert all(len(d.states) < 20_000 for d in parts), [len(d.states) for d in parts]
    # no part but the first holds an exact string; each says the first rule it can give
    firsts = [f for _, f in recs.policy_ops[(0, FS)]]
    assert firsts == [min(s.rule for s in d.states) for d in parts]
    rnd = random.Random(5)
    probes = ["/srv/g0/a/x0.conf", "/srv/g5/a/x5x1445.conf", "/srv/data/file00001", "/srv/g5/x5.conf"]
    for _ in range(1500):
        i = rnd.randrange(2000)
        probes.append(
            rnd.choice([f"/srv/g{i % 40}/a/x{i}{rnd.choice(['', '7', 'q'])}.conf", f"/srv/data/file{i:05d}"])
        )
    for s in probes:
        want = reference.decide(pol, FS, s).rule
        assert recs.rules[recs.decide(0, FS, s.encode())].rule is want, s
        assert tables_rule(recs, s.encode()) is want, s


def test_ordinary_policies_are_not_split():
    rules = [rule(Atom("filename", 0, "match", f"/srv/data{i}/*.conf"), line=i + 1) for i in range(100)]
    recs = records.compile_policies([policy(*rules)])
    assert len(recs.parts[(0, FS)]) == 1  # 100 globs of unrelated anchors share one automaton
    subs = [rule(Atom("filename", 0, "sub", f"tmp{i}"), line=i + 1) for i in range(split.SPLIT_AT)]
    assert len(records.compile_policies([policy(*subs)]).parts[(0, FS)]) == 1
