"""The compiled automata decide exactly as the reference evaluator does."""

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfsystrace import abi
from bpfsystrace.compile import records
from bpfsystrace.errors import Coord, PolicyError
from bpfsystrace.model import reference
from bpfsystrace.model.types import And, Atom, Const, Not, Or, Policy, Rule

FS = abi.BST_OP_FSREAD


def rule(expr, action="permit", err=0, line=1):
    return Rule(
        "fsread",
        (FS,),
        expr,
        action,
        err,
        "" if not err else "eperm",
        False,
        Coord("t", line, 1),
        f"native-fsread: rule {line}",
    )


def policy(*rules):
    return Policy("/bin/x", "native", tuple(rules), False, Coord("t", 1, 1))


def alternating(exprs_, every=2):
    """A policy of one rule per expression, every `every`th one from the second
    a deny[eacces], the others permits (first match order matters)."""
    return policy(
        *[
            rule(e, "deny" if i % every == 1 else "permit", errno.EACCES if i % every == 1 else 0, i + 1)
            for i, e in enumerate(exprs_)
        ]
    )


def kernel_rule(pol, value):
    """Which source rule the compiled DFA picks (None: no rule matched)."""
    recs = records.compile_policies([pol])
    info = recs.rules[recs.decide(0, FS, value.encode())]
    return info.rule


def reference_rule(pol, value):
    return reference.decide(pol, FS, value).rule


CASES = [
    (Atom("filename", 0, "eq", "/etc/group"), {"/etc/group": True, "/etc/groups": False, "/etc/grou": False}),
    (Atom("filename", 0, "sub", "<non-existent"), {"/<non-existent filename>: x": True, "/x": False}),
    (
        Atom("filename", 0, "match", "/usr/lib/*"),
        {"/usr/lib/a/b.so": True, "/usr/lib": False, "/usr/lib/": True},
    ),
    (Atom("filename", 0, "match", "/dev/tty?"), {"/dev/ttyS": True, "/dev/tty": False, "/dev/tty10": False}),
    (Atom("filename", 0, "match", "/x/[a-c]*"), {"/x/b": True, "/x/d": False, "/x/": False}),
    (Atom("filename", 0, "match", "/x/[!a-c]"), {"/x/b": False, "/x/d": True}),
    (Atom("filename", 0, "match", "/x/\\*"), {"/x/*": True, "/x/a": False}),
    (Atom("filename", 0, "match", "/x/[ab"), {"/x/[ab": True, "/x/a": False}),
    (
        Atom("filename", 0, "inpath", "/usr/lib"),
        {"/usr/lib": True, "/usr/lib/x": True, "/usr/libexec": False},
    ),
    (Atom("filename", 0, "inpath", "/usr/lib/"), {"/usr/lib": True, "/usr/libexec/x": False}),
    (Atom("filename", 0, "inpath", "/"), {"/": True, "/a": True}),
    (Atom("filename", 0, "neq", "/a"), {"/a": False, "/b": True}),
    (Atom("filename", 0, "nsub", "tmp"), {"/tmp/x": False, "/var/x": True}),
    (
        Atom("filename", 0, "re", "^/etc/(passwd|group)$"),
        {"/etc/passwd": True, "/etc/group": True, "/etc/groupx": False},
    ),
    (Atom("filename", 0, "re", "ss[wd]+"), {"/etc/passwd": True, "/etc/shadow": False}),
    (Atom("filename", 0, "re", "^/a{2,3}$"), {"/aa": True, "/aaaa": False, "/a": False}),
    (Atom("filename", 0, "re", "^/x.y$"), {"/x/y": True, "/xy": False}),
]


@pytest.mark.parametrize("atom,expect", CASES, ids=[f"{a.op} {a.value}" for a, _ in CASES])
def test_operator_semantics(atom, expect):
    pol = policy(rule(atom))
    for value, holds in expect.items():
        assert (reference_rule(pol, value) is not None) == holds, value
        assert (kernel_rule(pol, value) is not None) == holds, value


def test_first_match_wins_and_implicit_deny():
    r1 = rule(Atom("filename", 0, "sub", "<non-existent"), "deny", errno.ENOENT, line=1)
    r2 = rule(Atom("filename", 0, "match", "/etc/*"), line=2)
    r3 = rule(Atom("filename", 0, "eq", "/etc/shadow"), "deny", errno.EACCES, line=3)
    pol = policy(r1, r2, r3)
    recs = records.compile_policies([pol])
    assert recs.rules[recs.decide(0, FS, b"/etc/shadow")].rule is r2  # r3 is shadowed
    assert recs.rules[recs.decide(0, FS, b"/etc/<non-existent filename>")].rule is r1
    none = recs.rules[recs.decide(0, FS, b"/var/x")]
    assert none.rule is None and none.errno == errno.EPERM and none.implicit


def test_combinators():
    a = Atom("filename", 0, "match", "/srv/*")
    b = Atom("filename", 0, "sub", "secret")
    pol = policy(rule(And(a, Not(b))), rule(Or(Const(False), b), "deny", errno.EACCES, 2))
    for v, want in {"/srv/x": 0, "/srv/secret": 1, "/etc/secret": 1, "/etc/x": None}.items():
        got = kernel_rule(pol, v)
        assert got is reference_rule(pol, v)
        assert (None if got is None else pol.rules.index(got)) == want


def test_default_policies():
    recs = records.compile_policies([], "permit")
    assert recs.rules[recs.decide(0, abi.BST_OP_BIND, b"inet-[::1]:53")].errno == 0
    recs = records.compile_policies([], "deny")
    assert recs.rules[recs.decide(0, abi.BST_OP_CONNECT, b"/dev/log")].errno == errno.EPERM


def test_bad_regex_is_a_policy_error_at_the_rule():
    pol = policy(rule(Atom("filename", 0, "re", "(unclosed"), line=7))
    with pytest.raises(PolicyError) as e:
        records.compile_policies([pol])
    assert e.value.diagnostics[0].coord.line == 7
    assert "missing ')'" in e.value.diagnostics[0].message


def test_state_budget_names_the_rule(monkeypatch):
    monkeypatch.setattr(records, "MAX_STATES_PER_DFA", 50)
    rules = [rule(Atom("filename", 0, "match", f"*{i}*x*{i}"), line=i + 1) for i in range(12)]
    with pytest.raises(PolicyError) as e:
        records.compile_policies([policy(*rules)])
    d = e.value.diagnostics[0]
    assert "automaton states" in d.message and d.coord.line == 12


def test_ten_thousand_eq_rules_compile_to_a_trie():
    rules = [rule(Atom("filename", 0, "eq", f"/srv/data/file{i:05d}"), line=i + 1) for i in range(10000)]
    recs = records.compile_policies([policy(*rules)])
    assert recs.rules[recs.decide(0, FS, b"/srv/data/file04242")].rule is rules[4242]
    assert recs.rules[recs.decide(0, FS, b"/srv/data/file4242")].rule is None
    assert len(recs.dfas[(0, FS)].states) < 20 * 10000


def test_globs_with_one_tail_stay_small():
    """40 globs ending in one tail (`*.conf`) used to need 2^40 subsets: each
    started glob was remembered. Only the first of them can decide, so the
    automaton stays linear and still decides the first match."""
    rules = [rule(Atom("filename", 0, "match", f"/srv/g/*/x{i}*.conf"), line=i + 1) for i in range(40)]
    pol = policy(*rules)
    recs = records.compile_policies([pol])
    assert len(recs.dfas[(0, FS)].states) < 40 * 20
    for s in ["/srv/g/a/x3.conf", "/srv/g/a/x31/x3q.conf", "/srv/g/b/x1x2x39.conf", "/srv/g/x/x5.con", "/x"]:
        assert recs.rules[recs.decide(0, FS, s.encode())].rule is reference_rule(pol, s), s


# ------------------------------------------------------------ property ----

ALPHA = "/ab.*?[]!-"
values = st.text(alphabet="/abc.", max_size=8)
patterns = st.text(alphabet=ALPHA, min_size=0, max_size=6)


@st.composite
def atoms_(draw):
    op = draw(st.sampled_from(["eq", "neq", "sub", "nsub", "match", "inpath"]))
    return Atom("filename", 0, op, draw(patterns if op == "match" else values))


exprs = st.recursive(
    atoms_() | st.builds(Const, st.booleans()),
    lambda inner: st.builds(Not, inner) | st.builds(And, inner, inner) | st.builds(Or, inner, inner),
    max_leaves=4,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(exprs, min_size=0, max_size=4), st.lists(values, min_size=1, max_size=6))
def test_dfa_equals_reference(exprs_, strings):
    pol = alternating(exprs_)
    recs = records.compile_policies([pol])
    for s in strings:
        assert recs.rules[recs.decide(0, FS, s.encode())].rule is reference_rule(pol, s), s


# many single-atom globs and subs that share their tails, mixed with rules that
# use the same atoms under not/and/or: the pruning of dominated threads must
# never change which rule matches first
tails = st.sampled_from(["*.c", "*a", ".c", "a*", "b*.c", "*"])
shared = st.builds(
    lambda op, head, tail: Atom("filename", 0, op, head + tail if op == "match" else tail.replace("*", "")),
    st.sampled_from(["match", "match", "match", "sub", "eq"]),
    st.sampled_from(["", "/", "/a", "/*", "*/", "/b/"]),
    tails,
)
shared_exprs = st.recursive(
    shared,
    lambda inner: st.builds(Not, inner) | st.builds(And, inner, inner) | st.builds(Or, inner, inner),
    max_leaves=3,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(shared | shared_exprs, min_size=1, max_size=10), st.lists(values, min_size=1, max_size=8))
def test_dfa_with_shared_tails_equals_reference(exprs_, strings):
    pol = alternating(exprs_, every=3)
    recs = records.compile_policies([pol])
    for s in strings + ["/a.c", "/b/a.c", "/ab.c", "a", "/b/b.c"]:
        assert recs.rules[recs.decide(0, FS, s.encode())].rule is reference_rule(pol, s), s
