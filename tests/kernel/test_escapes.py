"""Escape attempts: a confined process trying to reach a file or port its
policy denies by another road. Each case is blocked, or is a known limit
asserted as such here and explained in docs/security.md ("Known limits").

The policy lets bst_probe read {d}/pub/* (nothing else), write nothing,
chroot only into {d}/jail and bind only [::1]:5454.
"""

import os
import subprocess

import pytest

from tests.conftest import cli
from tests.kernel.conftest import probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-socket: permit
	native-fsread: filename match "{d}/pub/*" then permit
	native-chroot: filename eq "{d}/jail" then permit
	native-bind: sockaddr eq "inet-[::1]:5454" then permit
	native-execve: filename eq "{probe}" then permit
"""


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "escape")
    for sub in ("pub", "jail/pub"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for name in ("pub/a", "secret", "secret2", "secret3", "jail/pub/a"):
        with open(os.path.join(d, name), "w") as f:
            f.write("x\n")
    # made by an unconfined process (the test), before the confined one runs
    os.symlink(os.path.join(d, "secret"), os.path.join(d, "pub/ln-secret"))
    os.link(os.path.join(d, "secret2"), os.path.join(d, "pub/hard"))
    os.rename(os.path.join(d, "secret3"), os.path.join(d, "pub/moved"))
    policy = os.path.join(workdir, "escape.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d))
    cg = make_cgroup_module("bst-escape.slice")
    cli("attach", "--cgroup", "bst-escape.slice", "--policy", policy, check=0)
    yield {"d": d, "cg": cg, "probe": probe_bin}
    cli("detach", "--cgroup", "bst-escape.slice", check=0)


def run(env, acts):
    proc = env["cg"].run([env["probe"], *acts])
    assert proc.returncode == 0, proc.stderr
    return proc


def test_path_forms_and_reopens_are_blocked(env):
    d = env["d"]
    want = {
        f"open:{d}/pub/a:r": "OK",  # control: permitted
        f"open:{d}/secret:r": "EPERM",  # control: denied
        f"open:{d}/pub/ln-secret:r": "EPERM",  # symlink: the target is decided
        f"open:{d}/pub/../secret:r": "EPERM",  # `..`
        f"open:{d}//secret:r": "EPERM",  # `//`
        f"open:{d}/pub//a:r": "OK",
        f"open:/proc/self/root{d}/secret:r": "EPERM",  # /proc/self/root
        f"reopen:{d}/pub/a:w": "EPERM",  # /proc/self/fd/N for writing
        f"reopen:{d}/pub/a:r": "OK",
        f"opath:{d}/secret:r": "EPERM",  # O_PATH, then reopen
        f"openat2:{d}/secret": "EPERM",  # openat2
        f"openat2:{d}/pub/a": "OK",
        f"uring:{d}/secret": "EPERM",  # io_uring openat
        f"uring:{d}/pub/a": "OK",
        f"stat:{d}/pub/ln-secret": "EPERM",
        # it cannot make the names itself
        f"link:{d}/secret:{d}/pub/mylink": "EPERM",
        f"rename:{d}/secret:{d}/pub/mine": "EPERM",
        f"symlink:{d}/secret:{d}/pub/mysym": "EPERM",
    }
    assert probe_results(run(env, list(want))) == want


def test_names_made_outside_are_known_limits(env):
    """A hard link or a rename done by an unconfined process gives the file a
    permitted name: path-based policy decides the name (docs/security.md)."""
    d = env["d"]
    got = probe_results(run(env, [f"open:{d}/pub/hard:r", f"open:{d}/pub/moved:r"]))
    assert got == {f"open:{d}/pub/hard:r": "OK", f"open:{d}/pub/moved:r": "OK"}


def test_ipv4_mapped_ipv6_bind_is_its_own_text(env):
    got = probe_results(
        run(
            env,
            [
                "bind6:::1:5454",
                "bind6:::ffff:127.0.0.1:5454",
                "bind4:127.0.0.1:5454",
                "sendto6:::ffff:127.0.0.1:5454",
            ],
        )
    )
    assert got == {
        "bind6:::1:5454": "OK",
        "bind6:::ffff:127.0.0.1:5454": "EPERM",
        "bind4:127.0.0.1:5454": "EPERM",
        "sendto6:::ffff:127.0.0.1:5454": "EPERM",
    }


def test_cgroup_moves_and_child_cgroups_are_blocked(env):
    d, cg = env["d"], env["cg"]
    root_procs = os.path.join(os.path.dirname(cg.path), "cgroup.procs")
    got = probe_results(
        run(
            env,
            [
                f"cgmove:{root_procs}",
                f"cgmove:{cg.path}/cgroup.procs",
                f"mkdir:{cg.path}/escape-child",
                f"open:{d}/secret:r",
            ],
        )
    )
    assert got == {
        f"cgmove:{root_procs}": "EPERM",
        f"cgmove:{cg.path}/cgroup.procs": "EPERM",
        f"mkdir:{cg.path}/escape-child": "EPERM",
        f"open:{d}/secret:r": "EPERM",
    }
    assert not os.path.exists(f"{cg.path}/escape-child")


def test_fork_and_exec_chains_stay_confined(env):
    d, probe = env["d"], env["probe"]
    proc = run(env, ["fork:-", f"open:{d}/secret:r", f"exec:{probe},fork:-,open:{d}/secret:r,exec:/bin/cat"])
    assert proc.stdout.splitlines() == [
        f"open:{d}/secret:r EPERM",
        f"open:{d}/secret:r EPERM",
        "exec:/bin/cat EPERM",
    ], proc.stdout


def test_chroot_into_an_allowed_directory(env):
    """Inside the chroot, paths are relative to it: the policy's {d}/pub/*
    no longer names anything, and the outside is out of reach."""
    d = env["d"]
    got = probe_results(
        run(
            env,
            [
                f"chroot:{d}/pub",
                f"chroot:{d}/jail",
                "open:/pub/a:r",
                f"open:{d}/secret:r",
                "open:/proc/self/root/pub/a:r",
            ],
        )
    )
    assert got == {
        f"chroot:{d}/pub": "EPERM",
        f"chroot:{d}/jail": "OK",
        "open:/pub/a:r": "EPERM",
        f"open:{d}/secret:r": "ENOENT",
        "open:/proc/self/root/pub/a:r": "ENOENT",
    }


def test_unconfined_control(env):
    d = env["d"]
    proc = subprocess.run(
        [env["probe"], f"open:{d}/secret:r", f"uring:{d}/secret"], capture_output=True, text=True, timeout=60
    )
    assert probe_results(proc) == {f"open:{d}/secret:r": "OK", f"uring:{d}/secret": "OK"}
