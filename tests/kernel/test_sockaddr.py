"""The kernel renders socket addresses exactly as glibc's inet_ntop does.

For each address a policy permits connect to exactly the string that
model.objects renders; the confined connect must then get past the policy
(any errno but EPERM), while the same address under a deny-by-default rule
gets EPERM. A difference of one character between the kernel's text and
Python's would turn the first into EPERM.
"""

import os

import pytest

from bpfsystrace.model import objects
from tests.conftest import cli
from tests.kernel.conftest import probe_results

ADDRESSES = [
    "::1",
    "::",
    "2001:db8::1",
    "2001:db8:0:0:1::1",
    "2001:db8::1:0:0:1",
    "fe80::1:2:3:4",
    "1:2:3:4:5:6:7:8",
    "1::",
    "1:0:0:2::3",
    "0:1:0:0:0:0:0:0",
    "::ffff:127.0.0.1",
    "::ffff:10.1.2.3",
    "::1.2.3.4",
    "::2",
    "::ffff:0:1",
    "ff02::fb",
    "1:0:2:0:3:0:4:0",
    "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
]
PORTS = {addr: 1000 + i for i, addr in enumerate(ADDRESSES)}


@pytest.fixture(scope="module")
def confined(workdir, probe_bin, make_cgroup_module):
    pol = os.path.join(workdir, "sockaddr.policy")
    rules = "".join(
        f'\tnative-connect: sockaddr eq "{objects.inet(a, PORTS[a])}" then permit\n' for a in ADDRESSES
    )
    rules += '\tnative-connect: sockaddr eq "inet-[127.0.0.1]:7" then permit\n'
    with open(pol, "w") as f:
        f.write(f"Policy: {probe_bin}, Emulation: native\n\tnative-socket: permit\n{rules}")
    cg = make_cgroup_module("bst-sockaddr.slice")
    cli("attach", "--cgroup", "bst-sockaddr.slice", "--policy", pol, check=0)
    yield cg, probe_bin
    cli("detach", "--cgroup", "bst-sockaddr.slice", check=0)


def test_ipv6_text_matches_inet_ntop(confined):
    cg, probe = confined
    acts = [f"connect6:{a}:{PORTS[a]}" for a in ADDRESSES]
    wrong_port = [f"connect6:{a}:{PORTS[a] + 500}" for a in ADDRESSES]
    proc = cg.run([probe, *acts, *wrong_port])
    got = probe_results(proc)
    for a in acts:
        assert got[a] != "EPERM", (
            f"{a}: kernel text differs from {objects.inet(a.split(':', 1)[1].rsplit(':', 1)[0], 0)}"
        )
    for a in wrong_port:
        assert got[a] == "EPERM", a


def test_ipv4_text(confined):
    cg, probe = confined
    got = probe_results(
        cg.run([probe, "connect4:127.0.0.1:7", "connect4:127.0.0.1:70", "connect4:127.0.0.10:7"])
    )
    assert got == {
        "connect4:127.0.0.1:7": "ECONNREFUSED",
        "connect4:127.0.0.1:70": "EPERM",
        "connect4:127.0.0.10:7": "EPERM",
    }
