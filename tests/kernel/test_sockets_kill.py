"""socket (socket_create, socket_post_create), listen and accept (socket_listen, socket_accept),
setgroups (task_fix_setgroups) and kill (task_kill), decided like the other
operations: the policy's errno, a logged event for each denial; socket rules
name the protocol too (sockproto), protocol 0 as the kernel resolved it. The kernel's
own sockets and signals, and signals a process sends itself, are not
decided; a process outside the cgroup is untouched."""

import os
import shutil
import subprocess

import pytest

from bpfsystrace.model import objects
from tests.conftest import cli
from tests.kernel.conftest import assert_reference_agrees, new_log, probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-socket: sockproto eq "sctp" then deny[eacces]
	native-socket: socktype eq "SOCK_SEQPACKET" and sockproto eq "proto(0)" then deny[enoent]
	native-socket: sockdom eq "AF_INET6" and sockproto eq "udp" then permit
	native-socket: sockdom eq "AF_INET" and socktype eq "SOCK_STREAM" then permit
	native-socket: sockdom eq "AF_INET" and socktype eq "SOCK_DGRAM" then deny[eacces]
	native-socketpair: sockdom eq "AF_UNIX" then permit
	native-socket: sockdom eq "AF_UNKNOWN(16)" and sockproto eq "proto(0)" then permit
	native-bind: sockaddr match "inet-\\\\[127.0.0.1]:*" then permit
	native-bind: sockaddr match "{d}/*" then permit
	native-connect: sockaddr match "inet-\\\\[127.0.0.1]:*" then permit
	native-listen: sockaddr eq "inet-[127.0.0.1]:{p1}" then permit
	native-listen: sockaddr eq "inet-[127.0.0.1]:{p3}" then permit
	native-listen: sockaddr eq "{d}/ok.sock" then permit
	native-accept: sockaddr eq "inet-[127.0.0.1]:{p3}" then permit
	native-setgroups: gid eq "1" then permit
	native-setgroups: gid eq "2" then permit
	native-setgroups: gid eq "3" then deny[eacces]
	native-kill: pidname eq "{sleep}" and signame eq "SIGTERM" then permit
	native-kill: signame eq "SIGUSR1" then deny[esrch]
	native-unshare: permit
"""


def cases(d, p1, p2, p3, sleep, t1, t2):
    """(action, operation, object string, expected result); t1, t2: target pids"""
    inet = objects.inet
    return [
        ("socket:2:1", "socket", objects.socket_args(2, 1, 6), "OK"),
        ("socket:2:2", "socket", objects.socket_args(2, 2, 17), "EACCES"),
        ("socket:10:1", "socket", objects.socket_args(10, 1, 6), "EPERM"),
        ("socket:1:2", "socket", objects.socket_args(1, 2, 0), "OK"),
        # netlink: the family is the protocol (route 0 permitted, sock_diag 4 not)
        ("socket:16:3", "socket", objects.socket_args(16, 3, 0), "OK"),
        ("socket:16:3:4", "socket", objects.socket_args(16, 3, 4), "EPERM"),
        ("socketpair:-", "socket", objects.socket_args(1, 1, 0), "OK"),
        # the protocol: asked for (sctp on a stream), or 0 resolved as the kernel does
        ("socket:2:1:132", "socket", objects.socket_args(2, 1, 132), "EACCES"),
        ("socket:10:1:132", "socket", objects.socket_args(10, 1, 132), "EACCES"),
        ("socket:2:5", "socket", objects.socket_args(2, 5, 132), "EACCES"),
        ("socket:2:1:6", "socket", objects.socket_args(2, 1, 6), "OK"),
        ("socket:10:2", "socket", objects.socket_args(10, 2, 17), "OK"),
        ("socket:10:2:17", "socket", objects.socket_args(10, 2, 17), "OK"),
        ("socket:2:2:136", "socket", objects.socket_args(2, 2, 136), "EACCES"),
        # AF_UNIX takes protocol 1 (PF_UNIX) and gives the socket 0: named proto(1)
        # before the socket exists, decided again on proto(0) after (socket_post_create)
        ("socket:1:5:1", "socket", objects.socket_args(1, 5, 0), "ENOENT"),
        (f"listen4:127.0.0.1:{p1}", "listen", inet("127.0.0.1", p1), "OK"),
        (f"listen4:127.0.0.1:{p2}", "listen", inet("127.0.0.1", p2), "EPERM"),
        (f"listenu:{d}/ok.sock", "listen", f"{d}/ok.sock", "OK"),
        (f"listenu:{d}/no.sock", "listen", f"{d}/no.sock", "EPERM"),
        (f"accept4:127.0.0.1:{p3}", "accept", inet("127.0.0.1", p3), "OK"),
        (f"accept4:127.0.0.1:{p1}", "accept", inet("127.0.0.1", p1), "EPERM"),
        ("setgroups:1,2", "setgroups", "2", "OK"),
        ("setgroups:1,5", "setgroups", "5", "EPERM"),
        ("setgroups:3", "setgroups", "3", "EACCES"),
        ("setgroups:-", "setgroups", "", "EPERM"),
        (f"kill:{t2}:9", "kill", objects.kill(sleep, 9), "EPERM"),
        (f"kill:{t2}:10", "kill", objects.kill(sleep, 10), "EPERM"),  # deny[esrch]
        (f"kill:{t2}:0", "kill", objects.kill(sleep, 0), "EPERM"),
        (f"kill:{t1}:15", "kill", objects.kill(sleep, 15), "OK"),
        ("kill:self:0", None, None, "OK"),  # to itself: not decided
        ("sigchld:-", None, None, "OK"),  # the kernel's SIGCHLD: not decided
        ("unsharenet:-", None, None, "OK"),  # the kernel's own sockets: not decided
    ]


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "sockets")
    os.makedirs(d, exist_ok=True)
    p1, p2, p3 = 41001, 41002, 41003
    sleep = os.path.realpath(shutil.which("sleep"))
    targets = [subprocess.Popen([sleep, "300"]) for _ in range(2)]
    policy = os.path.join(workdir, "sockets.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d, p1=p1, p3=p3, sleep=sleep))
    cg = make_cgroup_module("bst-sockets.slice")
    cli("attach", "--cgroup", "bst-sockets.slice", "--policy", policy, check=0)
    new_log()
    acts = cases(d, p1, p2, p3, sleep, *(t.pid for t in targets))
    proc = cg.run([probe_bin, *(c[0] for c in acts)])
    assert proc.returncode == 0, proc.stderr
    outside = subprocess.run(
        [
            probe_bin,
            "socket:2:2",
            "socket:16:3:4",
            f"listen4:127.0.0.1:{p2}",
            f"accept4:127.0.0.1:{p1}",
            "setgroups:5",
            f"kill:{targets[1].pid}:10",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    yield {
        "d": d,
        "policy": policy,
        "cases": acts,
        "got": probe_results(proc),
        "outside": probe_results(outside),
        "targets": targets,
        "log": new_log().splitlines(),
        "sleep": sleep,
        "p": (p1, p2),
    }
    cli("detach", "--cgroup", "bst-sockets.slice", check=0)
    for t in targets:
        t.kill()
        t.wait()


def test_calls_get_the_policy_errno(env):
    assert env["got"] == {a: r for a, _, _, r in env["cases"]}


def test_permitted_signal_was_delivered(env):
    assert env["targets"][0].wait(timeout=10) == -15
    assert env["targets"][1].poll() is None or env["targets"][1].returncode == -10  # outside run


def test_kernel_agrees_with_the_reference_evaluator(env):
    assert_reference_agrees(env["policy"], env["cases"])


def test_outside_the_cgroup_nothing_is_decided(env):
    assert set(env["outside"].values()) == {"OK"}, env["outside"]


def test_denials_are_logged(env):
    log, sleep, (p1, p2) = env["log"], env["sleep"], env["p"]
    for want in (
        "syscall: native-socket, sockdom: AF_INET, socktype: SOCK_DGRAM, sockproto: udp, errno: EACCES",
        "syscall: native-socket, sockdom: AF_UNKNOWN(16), socktype: SOCK_RAW, sockproto: proto(4), errno: EPERM",
        "syscall: native-socket, sockdom: AF_INET, socktype: SOCK_SEQPACKET, sockproto: sctp, errno: EACCES",
        "syscall: native-socket, sockdom: AF_INET6, socktype: SOCK_STREAM, sockproto: sctp, errno: EACCES",
        "syscall: native-socket, sockdom: AF_INET, socktype: SOCK_DGRAM, sockproto: udplite, errno: EACCES",
        "syscall: native-socket, sockdom: AF_UNIX, socktype: SOCK_SEQPACKET, sockproto: proto(0), errno: ENOENT",
        f"syscall: native-listen, sockaddr: inet-[127.0.0.1]:{p2}, errno: EPERM",
        f"syscall: native-accept, sockaddr: inet-[127.0.0.1]:{p1}, errno: EPERM",
        "syscall: native-setgroups, gid: 5, errno: EPERM",
        "syscall: native-setgroups, gid: <empty list>, errno: EPERM",
        f"syscall: native-kill, pidname: {sleep}, signame: SIGUSR1, errno: EPERM",
        f"syscall: native-kill, pidname: {sleep}, signame: SIGKILL, errno: EPERM",
        f"syscall: native-kill, pidname: {sleep}, signame: <unknown>: 0, errno: EPERM",
    ):
        assert any(want in ln for ln in log), (want, log)
    assert not any("native-kill" in ln and "SIGCHLD" in ln for ln in log), log
