"""policy/fastline.py builds exactly the AST the grammar builds, or declines."""

import random

import pytest

from bpfsystrace.policy import fastline
from bpfsystrace.policy.parser import PolicyParser

LINES = [
    'native-fsread: filename eq "/etc/passwd" then permit',
    '\tnative-fsread: filename eq "/etc/passwd" then permit',
    '  native-fswrite:filename   match "/srv/*.log"   ->   deny[eacces]',
    'native-fsread: filename[1] eq "/a" then permit log',
    'native-rename: filename [ 1 ] sub "x\\"y" then deny',
    'native-execve: filename eq "/bin/sh" then permit[inherit]',
    'native-execve: filename eq "/bin/sh" then permit [ detach ] log',
    'native-fsread: filename inpath "/usr/lib/" then permit',
    'native-fsread: filename re "^/a[0-9]+$" then deny[enoent] log',
    'native-connect: sockaddr eq "inet-[127.0.0.1]:53" then permit',
    'native-fsread: filename neq "\\\\x" -> permit',
    'native-fsread: filename nsub "" then deny',
]
DECLINED = [
    'native-fsread: filename eq "/a" and filename eq "/b" then permit',
    'native-fsread: permit',
    'native-fsread: filename eq "/a" then permit as root',
    'native-fsread: filename eq "/a" then permit, if user = 0',
    'native-fsread: filename eq "/a" then deny[EACCES]',
    'native-fsread: filename eq "/a" then permit[sideways]',
    'native-fsread: filename eq "/a" thenpermit',
    'native-fsread: filename eq "/a" then permitlog',
    'native-log: filename eq "/a" then permit',
    'native-fsread: user eq "/a" then permit',
    'Policy: /usr/sbin/named, Emulation: native',
    'native-fsread: filename eq "/a',
]


@pytest.fixture(scope="module")
def parser():
    return PolicyParser()


def grammar(parser, line):
    parser._line, parser._lineno, parser._filename = line, 3, "f"
    return parser._parse_line(line)


@pytest.mark.parametrize("line", LINES)
def test_fast_path_equals_the_grammar(parser, line):
    fast = fastline.fast_rule(line, line, "f", 3)
    assert fast is not None, line
    assert fast == grammar(parser, line)


@pytest.mark.parametrize("line", DECLINED)
def test_anything_else_goes_to_the_grammar(line):
    assert fastline.fast_rule(line, line, "f", 3) is None


def test_random_spacing_and_strings_agree(parser):
    rnd = random.Random(3)
    ws = ["", " ", "  ", "\t"]
    taken = 0
    for _ in range(500):
        s = "".join(rnd.choice('ab/\\"*. ') for _ in range(rnd.randrange(8)))
        s = s.replace("\\", "\\\\").replace('"', '\\"')
        idx = rnd.choice(["", "[1]", f"{rnd.choice(ws)}[{rnd.choice(ws)}0]"])
        act = rnd.choice(["permit", "deny", "deny[eperm]", "permit[inherit]"])
        line = (
            f"{rnd.choice(ws)}native-fsread{rnd.choice(ws)}:{rnd.choice(ws)}filename{idx} "
            f'{rnd.choice(["eq", "match", "sub"])}{rnd.choice(ws)}"{s}"{rnd.choice(ws)}'
            f"{rnd.choice(['then ', '->'])}{rnd.choice(ws)}{act}{rnd.choice(['', ' log'])}{rnd.choice(ws)}"
        )
        fast = fastline.fast_rule(line, line, "f", 3)
        try:
            want = grammar(parser, line)
        except Exception:
            want = None
        if fast is not None:
            taken += 1
            assert fast == want, line
    assert taken > 300  # the fast path took most of them
