"""setuid and setgid (task_fix_setuid, task_fix_setgid): each id a call gives
the process is decided as a decimal string; `uname eq "NAME"` is resolved to
NAME's uid when the policy is checked (the reference policy's
`native-setuid: uid eq "70" and uname eq "named" then permit`)."""

import errno
import os

import pytest

from bpfsystrace import abi
from bpfsystrace.compile import pipeline
from bpfsystrace.model import reference
from tests.conftest import cli
from tests.kernel.conftest import new_log, probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-setgid: gid eq "1" then permit
	native-setuid: uid eq "1" and uname eq "daemon" then permit
	native-setuid: uid eq "2" and uname eq "daemon" then permit
	native-setuid: uid eq "3" then deny[eacces]
	native-setfsuid: uid eq "4" then permit
"""

CASES = [
    ("setgid:5", abi.BST_OP_SETGID, "5", "EPERM"),
    ("setgid:1", abi.BST_OP_SETGID, "1", "OK"),
    ("setuid:3", abi.BST_OP_SETUID, "3", "EACCES"),
    ("setuid:2", abi.BST_OP_SETUID, "2", "EPERM"),  # uname daemon is uid 1, not 2
    ("seteuid:5", abi.BST_OP_SETUID, "5", "EPERM"),
    ("setfsuid:4", abi.BST_OP_SETUID, "4", "OK"),
    ("setfsuid:5", abi.BST_OP_SETUID, "5", "EPERM"),
    ("setuid:1", abi.BST_OP_SETUID, "1", "OK"),  # the process is uid 1 from here
]


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    policy = os.path.join(workdir, "setuid.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin))
    cg = make_cgroup_module("bst-setuid.slice")
    cli("attach", "--cgroup", "bst-setuid.slice", "--policy", policy, check=0)
    new_log()
    proc = cg.run([probe_bin, *(c[0] for c in CASES)])
    assert proc.returncode == 0, proc.stderr
    yield {"policy": policy, "got": probe_results(proc), "log": new_log()}
    cli("detach", "--cgroup", "bst-setuid.slice", check=0)


def test_setuid_and_setgid_get_the_policy_errno(env):
    assert env["got"] == {a: r for a, _, _, r in CASES}


def test_kernel_agrees_with_the_reference_evaluator(env):
    (policy,), _ = pipeline.load_policies([env["policy"]])
    for action, op, obj, result in CASES:
        dec = reference.decide(policy, op, obj)
        assert ("OK" if dec.permitted else errno.errorcode[dec.errno]) == result, action


def test_denials_are_logged_with_the_id(env):
    assert "syscall: native-setuid, uid: 3, errno: EACCES" in env["log"]
    assert "syscall: native-setgid, gid: 5, errno: EPERM" in env["log"]
