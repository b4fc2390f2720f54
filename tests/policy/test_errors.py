"""The twenty most likely mistakes, each with its own precise message."""

import pytest

from bpfsystrace.errors import PolicyError
from bpfsystrace.model.check import check
from bpfsystrace.policy import parse
from bpfsystrace.policy import parser as P

H = "Policy: /bin/x, Emulation: native\n"

CASES = {
    "missing quote": ('native-fsread: filename eq "/etc/x then permit', P.ERR_UNTERMINATED, 28),
    "missing then": ('native-fsread: filename eq "/etc/x" permit', P.ERR_NO_THEN, 37),
    "unknown operator": (
        'native-fsread: filename equals "/x" then permit',
        P.ERR_UNKNOWN_OP.format(op="equals"),
        25,
    ),
    "missing action": ('native-fsread: filename eq "/x" then', P.ERR_NO_ACTION, 37),
    "unknown action": (
        'native-fsread: filename eq "/x" then allow',
        P.ERR_UNKNOWN_ACTION.format(act="allow"),
        38,
    ),
    "errno bracket open": ('native-fsread: filename eq "/x" then deny[enoent', P.ERR_UNCLOSED_BRACKET, 49),
    "errno uppercase": ('native-fsread: filename eq "/x" then deny[ENOENT]', P.ERR_BAD_ERRNO, 43),
    "bad index": ('native-rename: filename[x] eq "/a" then permit', P.ERR_BAD_INDEX, 25),
    "emulation mismatch": (
        'linux-fsread: filename eq "/x" then permit',
        P.ERR_EMULATION.format(got="linux", want="native"),
        1,
    ),
    "missing colon": ('native-fsread filename eq "/x" then permit', P.ERR_NO_COLON, 15),
    "missing prefix": ('fsread: permit', P.ERR_NO_PREFIX.format(emu="native", name="fsread"), 1),
    "garbage after action": (
        'native-fsread: filename eq "/x" then permit permit',
        P.ERR_TRAILING.format(tok="permit"),
        45,
    ),
    "empty expression": ('native-fsread: then permit', P.ERR_EMPTY_EXPR.format(tok="then"), 16),
    "missing paren": ('native-fsread: (filename eq "/x" then permit', P.ERR_UNBALANCED_OPEN, 34),
    "extra paren": ('native-fsread: filename eq "/x") then permit', P.ERR_UNBALANCED_CLOSE, 32),
    "and without right operand": (
        'native-fsread: filename eq "/x" and then permit',
        P.ERR_OPERAND.format(op="and", side="right"),
        33,
    ),
    "or without left operand": (
        'native-fsread: or filename eq "/x" then permit',
        P.ERR_OPERAND.format(op="or", side="left"),
        16,
    ),
    "unquoted value": ('native-fsread: filename eq /etc/x then permit', P.ERR_UNQUOTED, 28),
    "log misplaced": ('native-fsread: filename eq "/x" then log permit', P.ERR_LOG_PLACE, 38),
    "as without user": ('native-fsread: filename eq "/x" then permit as', P.ERR_AS, 47),
    "bad predicate": ('native-fsread: filename eq "/x" then permit, if uid = 0', P.ERR_IF, 49),
    "bad permit modifier": ('native-fsread: true then permit[foo]', P.ERR_MODIFIER, 33),
}


@pytest.mark.parametrize("line,message,column", CASES.values(), ids=CASES.keys())
def test_mistake(line, message, column):
    with pytest.raises(PolicyError) as e:
        parse(H + line, "t.policy")
    (d,) = e.value.diagnostics
    assert (d.message, d.coord.line, d.coord.column) == (message, 2, column)
    assert d.render().startswith(f"t.policy:2:{column}: error: {message}")


def test_rule_before_header():
    with pytest.raises(PolicyError) as e:
        parse("native-fsread: permit\n", "t")
    assert e.value.diagnostics[0].message == P.ERR_BEFORE_HEADER


@pytest.mark.parametrize(
    "header", ["Policy: /bin/x", "Policy /bin/x, Emulation: native", "Policy: /bin/x, Emulation native"]
)
def test_bad_header(header):
    with pytest.raises(PolicyError) as e:
        parse(header + "\n", "t")
    assert e.value.diagnostics[0].message == P.ERR_HEADER


def test_unknown_errno_name_is_a_check_error_with_a_hint():
    pf = parse(H + 'native-fsread: filename eq "/x" then deny[enoexist]', "t")
    with pytest.raises(PolicyError) as e:
        check([pf])
    (d,) = e.value.diagnostics
    assert (d.message, d.coord.line) == ("unknown errno name 'enoexist'", 2)
    assert "lowercase" in d.hints[0]


def test_unknown_argument_name_is_a_check_error():
    pf = parse(H + 'native-fsread: filenme eq "/x" then permit', "t")
    with pytest.raises(PolicyError) as e:
        check([pf])
    assert e.value.diagnostics[0].message == "unknown argument name 'filenme'"


@pytest.mark.parametrize(
    "name,near", [("fswirte", "fswrite"), ("fsreed", "fsread"), ("conect", "connect"), ("xyzzy", None)]
)
def test_a_misspelt_system_call_is_an_error_not_a_dropped_rule(name, near):
    """A typo must not turn a deny rule into nothing ("not enforceable")."""
    pf = parse(H + f'native-{name}: filename eq "/etc/shadow" then deny[eacces]', "t")
    with pytest.raises(PolicyError) as e:
        check([pf])
    (d,) = e.value.diagnostics
    want = f"unknown system call '{name}'" + (f": did you mean '{near}'?" if near else "")
    assert (d.message, d.severity, d.coord.line) == (want, "error", 2)


@pytest.mark.parametrize("name", ["getpid", "break", "__sysctl", "issetugid", "sigaction", "mprotect"])
def test_a_call_linux_or_openbsd_has_stays_a_not_enforceable_rule(name):
    (pol,), _ = check([parse(H + f"native-{name}: permit", "t")])
    assert pol.rules[0].why_not


LINT = """Policy: /bin/x, Emulation: native
\tnative-connect: sockaddr eq "127.0.0.1:80" then permit
\tnative-fsread: filename eq "etc/resolv.conf" then permit
\tnative-fsread: filename eq "/etc/hosts" then permit
\tnative-fsread: filename eq "/etc/hosts" then deny
\tnative-fswrite: permit
\tnative-fswrite: filename eq "/tmp/x" then deny
\tnative-fsread: filename match "etc/*" then permit
\tnative-fsread: filename match "*.conf" and not filename eq "/etc/a.conf" then permit
\tnative-bind: sockaddr eq "inet-[127.0.0.1]:53" then permit
"""


def test_rules_that_can_never_match_or_are_never_reached_are_warned_of_by_line():
    _, warnings = check([parse(LINT, "t")])
    got = {(w.coord.line, w.message.split(":")[0]) for w in warnings}
    assert got == {
        (2, "this rule can never match"),
        (3, "this rule can never match"),
        (5, "this rule is never reached"),
        (7, "this rule is never reached"),
        (8, "this rule can never match"),
    }
    assert all(w.severity == "warning" for w in warnings)
    assert "inet-[ADDR]:PORT" in next(w.message for w in warnings if w.coord.line == 2)
    assert "line 6" in next(w.message for w in warnings if w.coord.line == 7)


def test_a_syntax_error_does_not_hide_the_checkers_errors_on_other_lines(tmp_path):
    from bpfsystrace.compile import pipeline

    f = tmp_path / "usr_bin_x"
    f.write_text(
        H + 'native-fsread: filename eq "/etc/x then permit\n'
        'native-fsread: filename eq "/y" then deny[enoexist]\n'
        "native-fswirte: permit\n"
    )
    with pytest.raises(PolicyError) as e:
        pipeline.load_policies([str(f)])
    got = [(d.coord.line, d.message) for d in e.value.diagnostics]
    assert got == [
        (2, P.ERR_UNTERMINATED),
        (3, "unknown errno name 'enoexist'"),
        (4, "unknown system call 'fswirte': did you mean 'fswrite'?"),
    ]
