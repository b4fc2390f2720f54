"""stat (inode_getattr) is fsread of the path; a datagram sent to an address
(socket_sendmsg) is decided by the sendto, sendmsg and connect rules, so UDP
and unix datagrams cannot go around the connect rules.
"""

import os
import socket

import pytest

from tests.conftest import cli
from tests.kernel.conftest import assert_reference_agrees, new_log, probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-socket: permit
	native-fsread: filename eq "{d}/pub" then permit
	native-fsread: filename match "{d}/pub/*" then permit
	native-stat: filename eq "{d}/statonly" then permit
	native-fsread: filename sub "secret" then deny[eacces]
	native-connect: sockaddr eq "inet-[127.0.0.1]:{p1}" then permit
	native-connect: sockaddr eq "{d}/dgram-ok" then permit
	native-sendto: sockaddr eq "inet-[::1]:{p2}" then permit
	native-sendmsg: sockaddr eq "inet-[127.0.0.1]:{p2}" then deny[enetunreach]
"""


def cases(d, p1, p2):
    """(action, operation, object string, expected result)"""
    return [
        (f"stat:{d}/pub/a", "stat", f"{d}/pub/a", "OK"),
        (f"stat:{d}/pub", "stat", f"{d}/pub", "OK"),
        (f"stat:{d}/other", "stat", f"{d}/other", "EPERM"),
        (f"lstat:{d}/statonly", "stat", f"{d}/statonly", "OK"),
        (f"open:{d}/statonly:r", "fsread", f"{d}/statonly", "EPERM"),  # stat rule: stat only
        (f"stat:{d}/secret", "stat", f"{d}/secret", "EACCES"),
        (f"stat:{d}/pub/../other", "stat", f"{d}/other", "EPERM"),
        (f"stat:{d}/pub/link-to-other", "stat", f"{d}/other", "EPERM"),  # symlink followed
        (f"fstat:{d}/pub/a", None, None, "OK"),  # a descriptor: its open decided
        (f"sendto4:127.0.0.1:{p1}", "sendto", f"inet-[127.0.0.1]:{p1}", "OK"),  # connect rule
        (f"sendto6:::1:{p2}", "sendto", f"inet-[::1]:{p2}", "OK"),  # sendto rule
        (f"sendto4:127.0.0.1:{p2}", "sendto", f"inet-[127.0.0.1]:{p2}", "ENETUNREACH"),
        ("sendto4:127.0.0.1:9", "sendto", "inet-[127.0.0.1]:9", "EPERM"),
        ("sendto6:::ffff:127.0.0.1:9", "sendto", "inet-[::ffff:127.0.0.1]:9", "EPERM"),
        ("udpconnect4:127.0.0.1:9", "connect", "inet-[127.0.0.1]:9", "EPERM"),
        (f"udpconnect4:127.0.0.1:{p1}", "connect", f"inet-[127.0.0.1]:{p1}", "OK"),
        (f"sendtou:{d}/dgram-ok", "sendto", f"{d}/dgram-ok", "OK"),
        (f"sendtou:{d}/dgram-no", "sendto", f"{d}/dgram-no", "EPERM"),
    ]


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "stat")
    os.makedirs(os.path.join(d, "pub"), exist_ok=True)
    for name in ("pub/a", "other", "statonly", "secret"):
        with open(os.path.join(d, name), "w") as f:
            f.write("x\n")
    if not os.path.lexists(os.path.join(d, "pub/link-to-other")):
        os.symlink(os.path.join(d, "other"), os.path.join(d, "pub/link-to-other"))
    socks = []
    for path in ("dgram-ok", "dgram-no"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(os.path.join(d, path))
        socks.append(s)
    p1, p2 = 40001, 40002
    policy = os.path.join(workdir, "stat.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d, p1=p1, p2=p2))
    cg = make_cgroup_module("bst-stat.slice")
    cli("attach", "--cgroup", "bst-stat.slice", "--policy", policy, check=0)
    new_log()
    acts = cases(d, p1, p2)
    proc = cg.run([probe_bin, *(c[0] for c in acts)])
    assert proc.returncode == 0, proc.stderr
    yield {"d": d, "policy": policy, "cases": acts, "got": probe_results(proc), "log": new_log().splitlines()}
    cli("detach", "--cgroup", "bst-stat.slice", check=0)
    for s in socks:
        s.close()


def test_stat_and_datagrams_get_the_policy_errno(env):
    assert env["got"] == {a: r for a, _, _, r in env["cases"]}


def test_kernel_agrees_with_the_reference_evaluator(env):
    assert_reference_agrees(env["policy"], env["cases"])


def test_denials_are_logged(env):
    d, log = env["d"], env["log"]
    assert any(f"syscall: native-stat, filename: {d}/other, errno: EPERM" in ln for ln in log), log
    assert any("syscall: native-sendto, sockaddr: inet-[127.0.0.1]:9, errno: EPERM" in ln for ln in log), log
