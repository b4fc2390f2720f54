"""rename and link rules see two strings, filename and filename[1]: the DFA
over "first\\0second" must agree with the reference evaluator."""

import itertools

import pytest

from bpfsystrace import abi
from bpfsystrace import policy as policy_mod
from bpfsystrace.compile import records
from bpfsystrace.model import check as check_mod
from bpfsystrace.model import reference

POLICY = """Policy: /bin/mv, Emulation: native
\tnative-rename: filename match "/slave/*" and filename[1] match "/slave/*" then permit
\tnative-rename: filename sub "tmp" or filename[1] eq "/x" then deny[eacces]
\tnative-rename: not filename[1] inpath "/data" then deny[enoent]
\tnative-link: filename re "^/a" and not filename[1] re "b$" then permit
\tnative-fswrite: filename[1] eq "/x" then permit
\tnative-fswrite: filename eq "/y" then permit
"""
PATHS = ["/slave/a", "/slave/", "/x", "/tmp/q", "/data", "/data/z", "/ab", "/a/b", "/y", "/"]


@pytest.fixture(scope="module")
def compiled():
    pf = policy_mod.parse(POLICY, "two.policy")
    (pol,), _ = check_mod.check([pf], env={})
    return pol, records.compile_policies([pol])


@pytest.mark.parametrize("op", [abi.BST_OP_RENAME, abi.BST_OP_LINK])
def test_two_string_dfa_equals_reference(compiled, op):
    pol, recs = compiled
    for a, b in itertools.product(PATHS, repeat=2):
        value = f"{a}\0{b}"
        rid = recs.decide(0, op, value.encode())
        ref = reference.decide(pol, op, value)
        info = recs.rules[rid]
        assert info.rule is ref.rule and info.errno == ref.errno, (a, b)


def test_filename1_is_fail_closed_for_one_string_operations(compiled):
    pol, recs = compiled
    # `filename[1] eq "/x"` cannot hold for fswrite: the permit never applies
    assert recs.rules[recs.decide(0, abi.BST_OP_FSWRITE, b"/x")].errno != 0
    assert recs.rules[recs.decide(0, abi.BST_OP_FSWRITE, b"/y")].errno == 0
    # and fswrite's rules decide unlink too (the alias), not rename
    assert recs.rules[recs.decide(0, abi.BST_OP_UNLINK, b"/y")].errno == 0
    assert reference.decide(pol, abi.BST_OP_RENAME, "/y\0/q").errno != 0
