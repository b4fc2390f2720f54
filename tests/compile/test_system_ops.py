"""The operations no file or socket hook used to see (mount, bpf, ptrace,
prctl, modules, kernel operations) and the generated `native-capable` rule:
the DFA agrees with the reference evaluator, a policy without a rule denies,
and a capability is permitted exactly when a permitted call needs it."""

import os
import re

import pytest

from bpfsystrace import abi
from bpfsystrace import policy as policy_mod
from bpfsystrace.compile import pipeline, records
from bpfsystrace.model import capabilities, kernel_names, reference, syscalls
from bpfsystrace.model import check as check_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

POLICY = """Policy: /usr/bin/x, Emulation: native
\tnative-mount: filename eq "/srv/m" and fstype eq "tmpfs" then permit
\tnative-mount: fstype eq "bind" then deny[eacces]
\tnative-umount2: filename inpath "/srv" then permit
\tnative-bpf: cmd eq "BPF_MAP_CREATE" then permit
\tnative-ptrace: pidname eq "/usr/bin/x" then permit
\tnative-prctl: cmd match "PR_SET_*" and cmd neq "PR_SET_MM" then permit
\tnative-setdomainname: permit
\tnative-bind: sockaddr match "inet-*:53" then permit
\tnative-setuid: uid eq "0" then permit
\tnative-capable: capability eq "CAP_NET_ADMIN" then permit
\tnative-capable: capability eq "CAP_SETUID" then deny
"""

CASES = [
    (abi.BST_OP_MOUNT, "/srv/m\0tmpfs", 0),
    (abi.BST_OP_MOUNT, "/srv/m\0proc", 1),
    (abi.BST_OP_MOUNT, "/srv/m\0bind", 13),
    (abi.BST_OP_MOUNT, "\0fsopen", 1),
    (abi.BST_OP_UMOUNT, "/srv/m", 0),
    (abi.BST_OP_UMOUNT, "/etc", 1),
    (abi.BST_OP_PIVOT_ROOT, "/srv", 1),
    (abi.BST_OP_BPF, "BPF_MAP_CREATE", 0),
    (abi.BST_OP_BPF, "BPF_OBJ_GET", 1),
    (abi.BST_OP_PTRACE, "/usr/bin/x", 0),
    (abi.BST_OP_PTRACE, "/usr/bin/y", 1),
    (abi.BST_OP_PRCTL, "PR_SET_DUMPABLE", 0),
    (abi.BST_OP_PRCTL, "PR_SET_MM", 1),
    (abi.BST_OP_SETHOSTNAME, "", 0),
    (abi.BST_OP_REBOOT, "", 1),
    (abi.BST_OP_INIT_MODULE, "", 1),
    (abi.BST_OP_CAPABLE, "CAP_NET_BIND_SERVICE", 0),
    (abi.BST_OP_CAPABLE, "CAP_NET_ADMIN", 0),
    (abi.BST_OP_CAPABLE, "CAP_SETUID", 1),
    (abi.BST_OP_CAPABLE, "CAP_SYS_ADMIN", 0),
    (abi.BST_OP_CAPABLE, "CAP_SYS_MODULE", 1),
    (abi.BST_OP_CAPABLE, "CAP_DAC_OVERRIDE", 1),
]


@pytest.fixture(scope="module")
def compiled():
    pf = policy_mod.parse(POLICY, "usr_bin_x")
    (pol,), _ = check_mod.check([pf], env={})
    return pol, records.compile_policies([pol])


@pytest.mark.parametrize("op,value,err", CASES)
def test_kernel_dfa_and_reference_agree(compiled, op, value, err):
    pol, recs = compiled
    ref = reference.decide(pol, op, value)
    rule = recs.rules[recs.decide(0, op, value.encode())]
    assert ref.errno == rule.errno == err, (value, ref.describe())


def test_a_policy_without_rules_denies_every_new_operation():
    pf = policy_mod.parse(
        "Policy: /usr/bin/y, Emulation: native\n\tnative-fsread: filename eq \"/x\" then permit\n",
        "usr_bin_y",
    )
    (pol,), _ = check_mod.check([pf], env={})
    for op in range(abi.BST_OP_MOUNT, abi.BST_NR_OPS):
        assert reference.decide(pol, op, "").errno == 1, syscalls.BY_OP[op].name
    assert reference.decide(pol, abi.BST_OP_CAPABLE, "CAP_DAC_READ_SEARCH").errno == 0


def test_named_keeps_what_it_needs_and_nothing_more():
    (pol,), _ = pipeline.load_policies([os.path.join(ROOT, "policies", "usr_sbin_named")])
    caps = capabilities.needed(pol.rules)
    for c in ("CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"):
        assert c in caps
    for c in (
        "CAP_SYS_ADMIN",
        "CAP_NET_ADMIN",
        "CAP_SYS_MODULE",
        "CAP_SYS_PTRACE",
        "CAP_BPF",
        "CAP_SYS_BOOT",
        "CAP_SYS_RAWIO",
        "CAP_SYS_TIME",
        "CAP_NET_RAW",  # its socket rules name SOCK_DGRAM and SOCK_STREAM only
    ):
        assert c not in caps
        assert reference.decide(pol, abi.BST_OP_CAPABLE, c).errno == 1


@pytest.mark.parametrize(
    "rule, raw",
    [
        ("native-socket: permit", True),
        ('native-socket: socktype eq "SOCK_RAW" then permit', True),
        ('native-socket: sockdom eq "AF_INET" then permit', True),
        ('native-socket: sockdom eq "AF_UNKNOWN(17)" then permit', True),
        ('native-socket: socktype neq "SOCK_RAW" then permit', True),  # AF_PACKET's SOCK_DGRAM
        ('native-socket: socktype eq "SOCK_DGRAM" and sockdom match "AF_INET*" then permit', False),
        ('native-socketpair: sockdom eq "AF_UNIX" then permit', False),
        ('native-socket: socktype eq "SOCK_RAW" then deny', False),
    ],
)
def test_cap_net_raw_only_where_a_raw_or_packet_socket_is_permitted(tmp_path, rule, raw):
    path = tmp_path / "usr_bin_x"
    path.write_text(f"Policy: /usr/bin/x, Emulation: native\n\t{rule}\n")
    (pol,), _ = pipeline.load_policies([str(path)])
    assert ("CAP_NET_RAW" in capabilities.needed(pol.rules)) == raw


def test_every_name_in_the_table_is_a_capability_and_the_docs_list_them():
    doc = open(os.path.join(ROOT, "docs", "policy-language.md")).read()
    for cap, names in capabilities.NEEDED_BY.items():
        assert cap in kernel_names.CAPABILITIES
        row = re.search(rf"^\| `{cap}` \| (.*) \|$", doc, re.M)
        assert row, cap
        assert row.group(1) == ", ".join(f"`{n}`" for n in names), cap


def test_new_names_are_enforced_and_leave_the_generic_reason():
    for name in (
        "mount",
        "umount2",
        "pivot_root",
        "bpf",
        "ptrace",
        "process_vm_writev",
        "pidfd_getfd",
        "init_module",
        "finit_module",
        "kexec_load",
        "prctl",
        "unshare",
        "setns",
        "sethostname",
        "reboot",
        "swapon",
        "settimeofday",
        "iopl",
        "ioperm",
        "perf_event_open",
        "capable",
    ):
        assert syscalls.ops_of(name), name
    assert abi.BST_NR_OPS == len(syscalls.BY_OP) == max(syscalls.BY_OP) + 1
