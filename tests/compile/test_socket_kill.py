"""socket (sockdom, socktype, sockproto) and kill (pidname, signame) rules
see several strings in one object, "first\\0second...": the DFA must agree
with the reference evaluator, and the checker must know which arguments the
hooks render."""

import itertools
import signal

import pytest

from bpfsystrace import abi
from bpfsystrace import policy as policy_mod
from bpfsystrace.compile import records
from bpfsystrace.model import check as check_mod
from bpfsystrace.model import objects, reference, syscalls

POLICY = """Policy: /usr/sbin/named, Emulation: native
\tnative-socket: sockproto eq "sctp" then deny[eacces]
\tnative-socket: sockdom eq "AF_INET6" and sockproto match "*p" and socktype neq "SOCK_STREAM" then deny
\tnative-socket: sockdom eq "AF_INET" and socktype eq "SOCK_DGRAM" then permit
\tnative-socket: sockdom match "AF_INET*" and socktype neq "SOCK_RAW" then permit
\tnative-socket: socktype eq "SOCK_RAW" then deny[eacces]
\tnative-socketpair: sockdom eq "AF_UNIX" then permit
\tnative-kill: pidname eq "/usr/sbin/named" and signame eq "SIGTERM" then permit
\tnative-kill: signame re "^SIG(USR1|HUP)$" then permit
\tnative-tgkill: pidname inpath "/usr/bin" then deny[esrch]
\tnative-listen: sockaddr match "inet-*:53" then permit
\tnative-accept: sockaddr eq "/run/x.sock" then permit
\tnative-setgroups: gid eq "70" then permit
\tnative-socket: sockaddr eq "x" then permit
"""
SOCKETS = [
    objects.socket_args(d, t, p)
    for d, t, p in itertools.product((1, 2, 10, 16), (1, 2, 3, 5, 10), (0, 6, 17, 132, 99))
]
KILLS = [
    objects.kill(p, s)
    for p, s in itertools.product(
        ("/usr/sbin/named", "/usr/bin/cat", "<unknown>", "/usr/sbin/namedx"), (0, 1, 10, 15, 9, 40)
    )
]


@pytest.fixture(scope="module")
def compiled():
    pf = policy_mod.parse(POLICY, "usr_sbin_named")
    (pol,), _ = check_mod.check([pf], env={})
    return pol, records.compile_policies([pol])


@pytest.mark.parametrize("op,values", [(abi.BST_OP_SOCKET, SOCKETS), (abi.BST_OP_KILL, KILLS)])
def test_two_string_dfa_equals_reference(compiled, op, values):
    pol, recs = compiled
    for value in values:
        rid = recs.decide(0, op, value.encode())
        ref = reference.decide(pol, op, value)
        info = recs.rules[rid]
        assert info.rule is ref.rule and info.errno == ref.errno, value


def test_socket_and_kill_decisions(compiled):
    pol, _ = compiled

    def verdict(op, value):
        d = reference.decide(pol, op, value)
        return d.errno

    assert verdict(abi.BST_OP_SOCKET, "AF_INET\0SOCK_DGRAM\0udp") == 0
    assert verdict(abi.BST_OP_SOCKET, "AF_INET6\0SOCK_STREAM\0tcp") == 0
    assert verdict(abi.BST_OP_SOCKET, "AF_INET6\0SOCK_DGRAM\0udp") == 1
    assert verdict(abi.BST_OP_SOCKET, "AF_INET6\0SOCK_DGRAM\0proto(99)") == 0
    assert verdict(abi.BST_OP_SOCKET, "AF_INET\0SOCK_STREAM\0sctp") == 13
    assert verdict(abi.BST_OP_SOCKET, "AF_INET\0SOCK_SEQPACKET\0sctp") == 13
    assert verdict(abi.BST_OP_SOCKET, "AF_INET\0SOCK_RAW\0tcp") == 13
    assert verdict(abi.BST_OP_SOCKET, "AF_UNIX\0SOCK_STREAM\0proto(0)") == 0  # socketpair's rule
    assert verdict(abi.BST_OP_SOCKET, "AF_UNKNOWN(16)\0SOCK_DGRAM\0proto(0)") == 1
    assert verdict(abi.BST_OP_KILL, "/usr/sbin/named\0SIGTERM") == 0
    assert verdict(abi.BST_OP_KILL, "/usr/sbin/named\0SIGKILL") == 1
    assert verdict(abi.BST_OP_KILL, "/usr/bin/cat\0SIGUSR1") == 0
    assert verdict(abi.BST_OP_KILL, "/usr/bin/cat\0SIGTERM") == 1  # tgkill's deny[esrch]
    tg = next(r for r in pol.rules if r.syscall == "tgkill")
    assert tg.errno == 1 and "deny[esrch] on a signal is enforced as deny[eperm]" in tg.approx
    assert verdict(abi.BST_OP_LISTEN, "inet-[::]:53") == 0
    assert verdict(abi.BST_OP_ACCEPT, "/run/x.sock") == 0
    assert verdict(abi.BST_OP_ACCEPT, "inet-[0.0.0.0]:53") == 1
    assert verdict(abi.BST_OP_SETGROUPS, "70") == 0
    assert verdict(abi.BST_OP_SETGROUPS, "") == 1


def test_unseen_argument_is_fail_closed_and_reported(compiled):
    pol, _ = compiled
    last = pol.rules[-1]
    assert last.enforced and "does not see sockaddr for socket" in last.approx


def test_rendered_names_follow_systrace():
    assert objects.socket_args(2, 2, 17) == "AF_INET\0SOCK_DGRAM\0udp"
    assert objects.socket_args(16, 3, 0) == "AF_UNKNOWN(16)\0SOCK_RAW\0proto(0)"
    assert objects.socket_args(10, 6, 132) == "AF_INET6\0SOCK_UNKNOWN(6)\0sctp"
    assert objects.socket_args(17, 3, 768) == "AF_UNKNOWN(17)\0SOCK_RAW\0proto(768)"
    for sig in range(1, 32):
        assert objects.signame(sig) in (signal.Signals(sig).name, "SIGIO", "SIGABRT", "SIGCHLD")
    assert objects.signame(15) == "SIGTERM"
    assert objects.signame(0) == "<unknown>: 0"
    assert objects.signame(34) == "<unknown>: 34"


def test_names_that_became_enforceable():
    for name in (
        "socket",
        "socketpair",
        "listen",
        "accept",
        "accept4",
        "setgroups",
        "kill",
        "tgkill",
        "tkill",
        "pidfd_send_signal",
    ):
        assert syscalls.ops_of(name), name
        assert name not in syscalls.WHY_NOT
    assert syscalls.OPERATIONS["socket"].labels == ("sockdom", "socktype", "sockproto")
    assert syscalls.OPERATIONS["kill"].labels == ("pidname", "signame")
    assert syscalls.OPERATIONS["rename"].labels == ("filename", "filename[1]")
    assert not syscalls.OPERATIONS["socket"].sees("socktype", 1)


def test_exec_modifiers_become_rule_flags_on_execve_only():
    pf = policy_mod.parse(
        'Policy: /bin/sh, Emulation: native\n'
        '\tnative-execve: filename eq "/bin/a" then permit[inherit]\n'
        '\tnative-execve: filename eq "/bin/b" then permit[detach]\n'
        '\tnative-execve: filename eq "/bin/c" then permit\n'
        '\tnative-fsread: filename eq "/etc/a" then permit[inherit]\n',
        "bin_sh",
    )
    (pol,), _ = check_mod.check([pf], env={})
    inherit, detach, plain, fsread = pol.rules
    assert (inherit.binding, detach.binding, plain.binding) == ("inherit", "detach", None)
    assert inherit.approx is None and detach.approx is None
    # on any other call systrace ignores the modifier: check says so
    assert fsread.binding is None
    assert "only means something on execve: here it is a plain permit" in fsread.approx
    recs = records.compile_policies([pol])
    flags = {}
    for rid, info in enumerate(recs.rules):
        if info.rule is not None and info.op == abi.BST_OP_EXECVE:
            flags[info.rule.source.split()[-1]] = recs.rule_record(rid).flags
    binding = abi.BST_RULE_INHERIT | abi.BST_RULE_DETACH
    assert flags["permit[inherit]"] & binding == abi.BST_RULE_INHERIT
    assert flags["permit[detach]"] & binding == abi.BST_RULE_DETACH
    assert flags["permit"] & binding == 0
