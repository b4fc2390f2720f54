"""The parser accepts systrace's language and prints it back canonically."""

import glob
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfsystrace.errors import Coord, PolicyError
from bpfsystrace.policy import ast, parse, parse_file, printer

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "policies")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
FILES = sorted(glob.glob(os.path.join(FIXTURES, "*")) + glob.glob(os.path.join(ROOT, "policies", "*")))


def test_openbsd_named_policy_parses():
    pf = parse_file(os.path.join(FIXTURES, "openbsd_usr_sbin_named"))
    (pol,) = pf.policies
    assert (pol.binary, pol.emulation, len(pol.rules)) == ("/usr/sbin/named", "native", 77)
    rename = next(r for r in pol.rules if r.syscall == "rename")
    assert isinstance(rename.expr, ast.AndNode)
    assert (rename.expr.right.arg, rename.expr.right.index) == ("filename", 1)
    sysctl = pol.rules[0]
    assert (sysctl.syscall, sysctl.expr, sysctl.action.kind) == ("__sysctl", None, "permit")
    enoent = next(r for r in pol.rules if r.action.errno)
    assert (enoent.action.errno, enoent.expr.op, enoent.expr.value) == (
        "enoent",
        "sub",
        "<non-existent filename>",
    )
    assert pol.rules[2].coord == Coord(pf.coord.file, 9, 2)


def test_corpus_constructs():
    pf = parse_file(os.path.join(FIXTURES, "corpus"))
    a, b = pf.policies
    assert (b.binary, b.emulation, b.detached, len(b.rules)) == ("/usr/bin/other", "linux", True, 1)
    r = {rule.coord.line: rule for rule in a.rules}
    assert r[4].log and isinstance(r[4].expr, ast.AndNode)
    assert isinstance(r[5].expr, ast.OrNode) and isinstance(r[5].expr.left, ast.NotNode)  # not > and > or
    assert r[7].expr.value == '"quoted"' and r[7].action.kind == "ask"
    assert r[9].action.modifier == "inherit" and isinstance(r[9].expr, ast.TrueExpr)
    assert (r[10].as_user, r[10].as_group) == ("named", "named")
    assert (r[10].predicate.kind, r[10].predicate.op, r[10].predicate.value) == ("user", "!=", "root")
    assert (r[11].as_user, r[11].as_group) == (None, "wheel")
    assert r[12].predicate.value == "staff"


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_round_trip_is_identity(path):
    pf = parse_file(path)
    text = printer.format_policy_file(pf)
    again = parse(text, "fmt")
    assert ast.ast_equal(again, pf)
    assert printer.format_policy_file(again) == text  # fmt is idempotent


def test_all_errors_of_a_file_are_reported():
    text = (
        "Policy: /bin/x, Emulation: native\n"
        "\tnative-fsread: filename eq \"/a then permit\n"
        "\tnative-fsread: filename eq \"/b\" then permit\n"
        "\tnative-fswrite: filename frob \"/c\" then permit\n"
    )
    with pytest.raises(PolicyError) as e:
        parse(text, "f")
    assert [(d.coord.line, d.coord.column) for d in e.value.diagnostics] == [(2, 29), (4, 27)]
    rendered = e.value.render()
    assert "f:4:27: error: unknown operator 'frob'" in rendered
    assert "\tnative-fswrite" not in rendered.splitlines()[4]  # tabs expanded for the caret
    assert rendered.splitlines()[5].index("^") == 26


# ------------------------------------------------------------ property ----

idents = st.sampled_from(["filename", "sockaddr", "uid", "gid", "oflags"])
strings = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
C = Coord("h", 1, 1)
symbols = st.builds(
    ast.Symbol,
    idents,
    st.integers(0, 2),
    st.sampled_from(["eq", "neq", "sub", "nsub", "match", "inpath", "re"]),
    strings,
    st.just(C),
)
exprs = st.recursive(
    symbols | st.just(ast.TrueExpr(C)),
    lambda inner: (
        st.builds(ast.NotNode, inner, st.just(C))
        | st.builds(ast.AndNode, inner, inner, st.just(C))
        | st.builds(ast.OrNode, inner, inner, st.just(C))
    ),
    max_leaves=6,
)
actions = st.one_of(
    st.builds(ast.Action, st.sampled_from(["permit", "deny", "ask"]), st.none(), st.none(), st.just(C)),
    st.builds(ast.Action, st.just("deny"), st.sampled_from(["enoent", "eacces"]), st.none(), st.just(C)),
    st.builds(ast.Action, st.just("permit"), st.none(), st.sampled_from(["inherit", "detach"]), st.just(C)),
)
rules = st.builds(
    ast.Rule,
    st.just("native"),
    st.sampled_from(["fsread", "bind", "__sysctl", "link"]),
    st.none() | exprs,
    actions,
    st.booleans(),
    st.none(),
    st.none(),
    st.none(),
    st.just(C),
    st.just(""),
)
files = st.builds(
    lambda rs: ast.PolicyFile((ast.Policy("/bin/x", "native", tuple(rs), False, C),), C),
    st.lists(rules, max_size=5),
)


@settings(max_examples=200, deadline=None)
@given(files)
def test_print_then_parse_gives_the_same_ast(pf):
    assert ast.ast_equal(parse(printer.format_policy_file(pf), "h"), pf)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_arbitrary_input_gives_a_policy_error_or_a_parse(text):
    try:
        parse(text, "fuzz")
    except PolicyError as e:
        assert all(d.coord.line >= 1 and d.coord.column >= 1 for d in e.diagnostics)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                'native-fsread:',
                'filename',
                'eq',
                '"/x"',
                'then',
                'permit',
                'deny[enoent]',
                'and',
                'or',
                'not',
                '(',
                ')',
                '->',
                'log',
                'as',
                ',',
                'if',
                'user',
                '=',
                'Policy:',
                '/bin/x',
                'Emulation:',
                '[1]',
                'match',
                '"',
                '#',
            ]
        ),
        max_size=12,
    )
)
def test_token_soup_never_crashes(words):
    try:
        parse("Policy: /bin/x, Emulation: native\n\t" + " ".join(words), "soup")
    except PolicyError:
        pass
