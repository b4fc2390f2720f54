"""diff: every example it prints is decided differently by the reference evaluator;
policies that decide the same report nothing; a difference the evaluator finds is reported."""

import errno

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfsystrace import abi
from bpfsystrace.compile import diff
from bpfsystrace.errors import Coord
from bpfsystrace.model import reference
from bpfsystrace.model.types import And, Atom, Not, Or, Policy, Rule

FS, KILL, EXEC = abi.BST_OP_FSREAD, abi.BST_OP_KILL, abi.BST_OP_EXECVE
ERRNOS = (errno.EPERM, errno.EACCES, errno.ENOENT)

values = st.text(alphabet="/ab", min_size=0, max_size=4)
atom = st.one_of(
    st.builds(
        lambda op, v: Atom("filename", 0, op, v),
        st.sampled_from(("eq", "neq", "sub", "nsub", "inpath")),
        values,
    ),
    st.builds(lambda v: Atom("filename", 0, "match", v), st.text(alphabet="/ab*?", max_size=4)),
    st.builds(lambda v: Atom("filename", 0, "re", v), st.sampled_from(("^/a", "b$", "a+b", "^/$"))),
)
expr = st.recursive(
    atom, lambda e: st.one_of(st.builds(And, e, e), st.builds(Or, e, e), st.builds(Not, e)), max_leaves=3
)


@st.composite
def rules(draw, op=FS, syscall="fsread", ex=expr):
    out = []
    for line in range(1, draw(st.integers(0, 4)) + 1):
        err = draw(st.sampled_from((0,) + ERRNOS))
        binding = draw(st.sampled_from((None, "inherit", "detach"))) if op == EXEC and not err else None
        out.append(
            Rule(
                syscall,
                (op,),
                draw(ex),
                "deny" if err else "permit",
                err,
                errno.errorcode[err].lower() if err else "",
                draw(st.booleans()),
                Coord("p", line, 1),
                f"native-{syscall}: rule {line}",
                binding=binding,
            )
        )
    return out


def policy(rs, binary="/bin/x"):
    return Policy(binary, "native", tuple(rs), False, Coord("p", 1, 1))


def side(pol, label):
    return diff.Side.build([pol], "deny", label, "deny")


def verdict(pol, op, value):
    d = reference.decide(pol, op, value)
    binding = d.rule.binding if d.rule is not None and d.permitted else None
    return d.errno, d.log, binding


def changes(old, new, op=FS):
    return diff.diff_op(side(old, "OLD"), side(new, "NEW"), "/bin/x", op, per_kind=50)


@settings(max_examples=300, deadline=None)
@given(rules(), rules())
def test_every_example_is_decided_differently(a, b):
    old, new = policy(a), policy(b)
    d = changes(old, new)
    assert d.complete
    for c in d.changes:
        assert c.example.startswith("/"), c  # the kernel renders absolute paths
        va, vb = verdict(old, FS, c.example), verdict(new, FS, c.example)
        assert va != vb, (c.example, c.kind)
        assert (va[0], va[1]) == (c.old.errno, c.old.log)
        assert (vb[0], vb[1]) == (c.new.errno, c.new.log)


@settings(max_examples=300, deadline=None)
@given(rules(), st.lists(st.text(alphabet="/ab", min_size=0, max_size=5), max_size=30))
def test_shadowed_additions_change_nothing(a, probes):
    """Rules appended after copies of themselves (and the policy against itself) decide
    nothing new: no difference is reported."""
    old = policy(a)
    new = policy(
        a
        + [
            Rule(
                r.syscall,
                r.ops,
                r.expr,
                r.action,
                r.errno,
                r.errno_name,
                r.log,
                Coord("q", 10 + i, 1),
                r.source,
                binding=r.binding,
            )
            for i, r in enumerate(a)
        ]
    )
    assert changes(old, new).changes == []
    assert changes(old, old).changes == []


@settings(max_examples=300, deadline=None)
@given(rules(), rules(), st.lists(st.text(alphabet="/ab", max_size=5), max_size=40))
def test_a_difference_the_evaluator_finds_is_reported(a, b, probes):
    old, new = policy(a), policy(b)
    kinds = {c.kind for c in changes(old, new).changes}
    for p in probes:
        value = "/" + p
        va, vb = verdict(old, FS, value), verdict(new, FS, value)
        if va != vb:
            want = diff.Verdict(va[0], va[1], va[2], "").kind_to(diff.Verdict(vb[0], vb[1], vb[2], ""))
            assert want in kinds, (value, want, kinds)


kill_atom = st.builds(
    lambda arg, op, v: Atom(arg, 0, op, v),
    st.sampled_from(("pidname", "signame")),
    st.sampled_from(("eq", "sub", "match")),
    st.text(alphabet="aS*", max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(rules(KILL, "kill", kill_atom), rules(KILL, "kill", kill_atom))
def test_two_part_examples_have_both_parts(a, b):
    old, new = policy(a), policy(b)
    for c in changes(old, new, KILL).changes:
        first, sep, second = c.example.partition("\0")
        assert sep and first and second and "\0" not in second, repr(c.example)
        assert verdict(old, KILL, c.example) != verdict(new, KILL, c.example)


@settings(max_examples=200, deadline=None)
@given(rules(EXEC, "execve"), rules(EXEC, "execve"))
def test_exec_binding_changes_are_decided_differently(a, b):
    old, new = policy(a), policy(b)
    for c in changes(old, new, EXEC).changes:
        assert verdict(old, EXEC, c.example) != verdict(new, EXEC, c.example), c


def test_shortest_example_and_both_rules():
    def r(line, ex, err=0):
        action = "deny" if err else "permit"
        return Rule(
            "fsread",
            (FS,),
            ex,
            action,
            err,
            "enoent" if err else "",
            False,
            Coord("p", line, 1),
            f"rule {line}",
        )

    old = policy([r(1, Atom("filename", 0, "match", "/etc/*"))])
    new = policy(
        [
            r(1, Atom("filename", 0, "eq", "/etc/shadow"), errno.ENOENT),
            r(2, Atom("filename", 0, "match", "/etc/*")),
        ]
    )
    d = changes(old, new)
    assert [(c.kind, c.example) for c in d.changes] == [("permitted -> denied", "/etc/shadow")]
    assert d.changes[0].old.where == "p:1:1: rule 1"
    assert d.changes[0].new.describe() == "denied (ENOENT) by p:1:1: rule 1"
