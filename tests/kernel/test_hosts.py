"""Real hosts (issue 30): launchers that exec'd enter a policy, and a policy
follows its program through a package upgrade.

One attachment for the module, default deny, no controller running: the
program `sbin/prog` (a copy of bst_probe) may read {d}/ok and nothing else.
A service reaches its cgroup through a launcher that was itself exec'd after
the programs were loaded (a shell, cgexec, a container runtime's init): it
must be able to exec the program into its policy. An upgrade renames a new
file over the program (as dpkg does): the next exec of it gets the policy
by its path, with or without the controller.
"""

import errno
import os
import shutil
import subprocess

import pytest

from tests.conftest import cli
from tests.kernel.conftest import counters, probe_results

CGROUP = "bst-hosts.slice"


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    base = os.path.join(workdir, "hosts")
    d, sbin, pol = (os.path.join(base, n) for n in ("files", "sbin", "policies"))
    for sub in (d, sbin, pol):
        os.makedirs(sub, exist_ok=True)
    for name in ("ok", "secret"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name + "\n")
    prog = os.path.join(sbin, "prog")
    shutil.copy(probe_bin, prog)
    with open(os.path.join(pol, "prog"), "w") as f:
        f.write(f"Policy: {prog}, Emulation: native\n\tnative-fsread: filename eq \"{d}/ok\" then permit\n")
    cg = make_cgroup_module(CGROUP)
    cli("attach", "--cgroup", CGROUP, "--policy", pol, "--default", "deny", "--manager", "none", check=0)
    return {"d": d, "sbin": sbin, "prog": prog, "probe": probe_bin, "cg": cg}


def acts(env):
    return [f"open:{env['d']}/ok:r", f"open:{env['d']}/secret:r"]


def under_policy(env):
    return {a: r for a, r in zip(acts(env), ("OK", "EPERM"), strict=True)}


def forked(env):
    """A forked child joins the cgroup and execs the program (systemd's way):
    its answers, or {"exec": errno name} when the exec itself was refused."""
    try:
        proc = env["cg"].run([env["prog"], *acts(env)])
    except PermissionError as e:
        return {"exec": errno.errorcode[e.errno]}
    assert proc.returncode == 0, proc.stderr
    return probe_results(proc)


def shell_launch(env, prog=None):
    """sh moves itself into the cgroup and execs the program (systemd's
    ExecStart through a shell, every init script)."""
    script = f"echo $$ > {env['cg'].path}/cgroup.procs; exec {prog or env['prog']} " + " ".join(acts(env))
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60)


def test_a_shell_launcher_execs_the_program_into_its_policy(env):
    proc = shell_launch(env)
    assert proc.returncode == 0, proc.stderr
    assert probe_results(proc) == under_policy(env)


def test_cgexec_execs_the_program_into_its_policy(env):
    root = os.path.dirname(env["cg"].path)
    with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
        f.write("+pids")  # cgexec (libcgroup) names a cgroup by a controller
    proc = subprocess.run(
        ["cgexec", "-g", f"pids:{CGROUP}", env["prog"], *acts(env)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert probe_results(proc) == under_policy(env)


def test_the_launcher_may_not_exec_what_has_no_policy(env):
    """Entering is for programs with a policy: anything else is decided by
    the default policy (deny), for the launcher as for its program."""
    proc = shell_launch(env, prog="/bin/cat")
    assert proc.returncode != 0
    assert "Operation not permitted" in proc.stderr or "Permission denied" in proc.stderr, proc.stderr


def upgrade(env, owner: int = 0) -> tuple[int, int]:
    """dpkg's way: the new file beside the old one, renamed over it."""
    new = env["prog"] + ".dpkg-new"
    shutil.copy(env["probe"], new)
    os.chown(new, owner, owner)
    before = os.stat(env["prog"]).st_ino
    os.rename(new, env["prog"])
    after = os.stat(env["prog"]).st_ino
    assert after != before
    return before, after


def test_the_policy_follows_the_program_through_an_upgrade(env):
    assert forked(env) == under_policy(env)
    found = counters().get("programs found by path", 0)
    _, ino = upgrade(env)
    # started by a forked launcher and by a shell launcher: both under the policy
    assert forked(env) == under_policy(env)
    assert probe_results(shell_launch(env)) == under_policy(env)
    assert counters().get("programs found by path", 0) == found + 1  # once: then it is known
    status = cli("status", check=0).stdout
    assert f"{env['prog']} is inode {ino} (in force)" in status, status


def test_status_tells_an_upgrade_not_yet_executed(env):
    _, ino = upgrade(env)
    status = cli("status", check=0).stdout
    assert f"{env['prog']} is now inode {ino}, a new file (an upgrade)" in status, status
    assert forked(env) == under_policy(env)


def test_a_file_others_could_write_does_not_follow_the_path(env):
    """Only a root-owned file, writable by nobody else, becomes the program:
    a file a confined (or any other) user could have put there does not. It
    runs under the default policy, which may exec nothing."""
    upgrade(env, owner=1000)
    try:
        assert forked(env) == {"exec": "EPERM"}
        os.chown(env["prog"], 0, 0)
        os.chmod(env["prog"], 0o777)
        assert forked(env) == {"exec": "EPERM"}
    finally:
        upgrade(env)
    assert forked(env) == under_policy(env)


def test_the_policy_follows_the_path_with_the_controller_reloading(env):
    """A reload after the upgrade resolves the new file at attach: same answers."""
    upgrade(env)
    cli("reload", "--cgroup", CGROUP, check=0)
    assert forked(env) == under_policy(env)
    assert probe_results(shell_launch(env)) == under_policy(env)
