"""The path_* hooks: unlink, mkdir, rmdir, mknod/mkfifo, open(O_CREAT), truncate,
symlink, chmod, chown, chroot, rename and link, decided by the policy's rules
for those names and the fswrite alias, with the rule's errno, nothing changed
on disk when denied, and systrace-format log lines.

One attach and one probe run carry most cases (the guest is slow); the
actions run in order, so later ones see what earlier ones did.
"""

import os

import pytest

from tests.conftest import cli
from tests.kernel.conftest import assert_reference_agrees, new_log, probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-fsread: filename match "{d}/*" then permit
	native-fswrite: filename match "{d}/w/*" then permit
	native-fswrite: filename match "{d}/enoent/*" then deny[enoent]
	native-unlink: filename eq "{d}/ro/unlinkable" then permit
	native-mkdir: filename eq "{d}/ro/newdir" then permit
	native-symlink: filename match "{d}/w/*" then permit
	native-chmod: filename match "{d}/w/*" then permit
	native-chown: filename eq "{d}/w/owned" then permit
	native-chroot: filename eq "{d}/w" then permit
	native-rename: filename match "{d}/w/*" and filename[1] match "{d}/w/*" then permit
	native-rename: filename match "{d}/w/*" and filename[1] match "{d}/ro/*" then deny[eacces]
	native-link: filename match "{d}/w/*" and filename[1] match "{d}/w/*" then permit
	native-rename: filename eq "{d}/ro/swap" and filename[1] match "{d}/w/*" then permit
"""


def cases(d):
    """(action, operation, object string, expected result), in run order."""
    return [
        (f"creat:{d}/w/new", "fswrite", f"{d}/w/new", "OK"),
        (f"creat:{d}/ro/new", "fswrite", f"{d}/ro/new", "EPERM"),
        (f"creat:{d}/enoent/new", "fswrite", f"{d}/enoent/new", "ENOENT"),
        (f"unlink:{d}/w/f1", "unlink", f"{d}/w/f1", "OK"),
        (f"unlink:{d}/ro/f", "unlink", f"{d}/ro/f", "EPERM"),
        (f"unlink:{d}/ro/unlinkable", "unlink", f"{d}/ro/unlinkable", "OK"),
        (f"mkdir:{d}/w/nd", "mkdir", f"{d}/w/nd", "OK"),
        (f"mkdir:{d}/ro/nd", "mkdir", f"{d}/ro/nd", "EPERM"),
        (f"mkdir:{d}/ro/newdir", "mkdir", f"{d}/ro/newdir", "OK"),
        (f"rmdir:{d}/w/sub", "rmdir", f"{d}/w/sub", "OK"),
        (f"rmdir:{d}/ro/sub", "rmdir", f"{d}/ro/sub", "EPERM"),
        (f"mkfifo:{d}/w/fifo", "mknod", f"{d}/w/fifo", "OK"),
        (f"mkfifo:{d}/ro/fifo", "mknod", f"{d}/ro/fifo", "EPERM"),
        (f"truncate:{d}/w/trunc", "truncate", f"{d}/w/trunc", "OK"),
        (f"truncate:{d}/ro/trunc", "truncate", f"{d}/ro/trunc", "EPERM"),
        (f"chmod:{d}/w/f2", "chmod", f"{d}/w/f2", "OK"),
        (f"chmod:{d}/ro/f", "chmod", f"{d}/ro/f", "EPERM"),
        (f"chown:{d}/w/owned", "chown", f"{d}/w/owned", "OK"),
        (f"chown:{d}/w/f2", "chown", f"{d}/w/f2", "EPERM"),
        (f"symlink:target:{d}/w/sl", "symlink", f"{d}/w/sl", "OK"),
        (f"symlink:target:{d}/ro/sl", "symlink", f"{d}/ro/sl", "EPERM"),
        (f"rename:{d}/w/f2:{d}/w/f3", "rename", f"{d}/w/f2\0{d}/w/f3", "OK"),
        (f"rename:{d}/w/f3:{d}/ro/f3", "rename", f"{d}/w/f3\0{d}/ro/f3", "EACCES"),
        # a file the policy does not let it write, moved into a directory it may write
        (f"rename:{d}/ro/f:{d}/w/stolen", "rename", f"{d}/ro/f\0{d}/w/stolen", "EPERM"),
        (f"link:{d}/w/f3:{d}/w/f4", "link", f"{d}/w/f3\0{d}/w/f4", "OK"),
        (f"link:{d}/ro/f:{d}/w/hard", "link", f"{d}/ro/f\0{d}/w/hard", "EPERM"),
        (f"exchange:{d}/w/f3:{d}/w/new", "rename", f"{d}/w/f3\0{d}/w/new", "OK"),
        (f"exchange:{d}/ro/trunc:{d}/w/f4", "rename", f"{d}/ro/trunc\0{d}/w/f4", "EPERM"),
        # RENAME_EXCHANGE moves both ways: ro/swap -> w/f4 is permitted, the
        # other direction, w/f4 -> ro/swap, is denied
        (f"exchange:{d}/ro/swap:{d}/w/f4", "rename", f"{d}/w/f4\0{d}/ro/swap", "EACCES"),
    ]


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "paths")
    for sub in ("w/sub", "ro/sub", "enoent"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for name in ("w/f1", "w/f2", "w/owned", "w/trunc", "ro/f", "ro/unlinkable", "ro/trunc", "ro/swap"):
        with open(os.path.join(d, name), "w") as f:
            f.write("data\n")
    policy = os.path.join(workdir, "paths.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d))
    cg = make_cgroup_module("bst-paths.slice")
    cli("attach", "--cgroup", "bst-paths.slice", "--policy", policy, check=0)
    new_log()
    proc = cg.run([probe_bin, *(c[0] for c in cases(d))])
    assert proc.returncode == 0, proc.stderr
    yield {
        "d": d,
        "cg": cg,
        "probe": probe_bin,
        "policy": policy,
        "got": probe_results(proc),
        "log": new_log().splitlines(),
    }
    cli("detach", "--cgroup", "bst-paths.slice", check=0)


def test_each_path_operation_gets_the_policy_errno(env):
    want = {a: r for a, _, _, r in cases(env["d"])}
    assert env["got"] == want


def test_denied_operations_change_nothing_on_disk(env):
    d = env["d"]
    for gone in (
        "ro/new",
        "enoent/new",
        "ro/nd",
        "ro/fifo",
        "ro/sl",
        "ro/f3",
        "w/stolen",
        "w/hard",
        "w/f1",
        "ro/unlinkable",
        "w/sub",
    ):
        assert not os.path.lexists(os.path.join(d, gone)), gone
    for kept in ("ro/f", "ro/sub", "ro/newdir", "w/nd", "w/fifo", "w/sl", "w/f4"):
        assert os.path.lexists(os.path.join(d, kept)), kept
    for name in ("ro/trunc", "ro/swap"):
        with open(os.path.join(d, name)) as f:
            assert f.read() == "data\n", name
    assert os.path.getsize(os.path.join(d, "w/trunc")) == 0
    assert os.stat(os.path.join(d, "ro/f")).st_mode & 0o777 != 0o640
    assert os.stat(os.path.join(d, "w/f4")).st_mode & 0o777 == 0o640  # f2, renamed, linked


def test_kernel_agrees_with_the_reference_evaluator(env):
    assert_reference_agrees(env["policy"], cases(env["d"]))


def test_denials_are_logged_with_both_filenames(env):
    d, log = env["d"], env["log"]
    assert any(
        f"syscall: native-rename, filename: {d}/w/f3, filename[1]: {d}/ro/f3, "
        f"errno: EACCES, rule: {env['policy']}:12:2" in ln
        for ln in log
    ), log
    assert any(
        f"syscall: native-unlink, filename: {d}/ro/f, errno: EPERM, rule: no rule matched" in ln for ln in log
    ), log
    assert any(f"syscall: native-fswrite, filename: {d}/enoent/new, errno: ENOENT" in ln for ln in log), log
    assert not any("/w/new" in ln for ln in log)  # permitted, not logged


def test_chroot_and_paths_inside_it(env):
    """chroot is decided on the directory; inside, paths are relative to the
    new root (as bpf_d_path and systrace see them), so {d}/w/x is now /x."""
    d, probe = env["d"], env["probe"]
    got = probe_results(
        env["cg"].run([probe, f"chroot:{d}/ro", f"chroot:{d}/w", "creat:/x", f"creat:{d}/w/y"])
    )
    assert got == {
        f"chroot:{d}/ro": "EPERM",
        f"chroot:{d}/w": "OK",
        "creat:/x": "EPERM",
        f"creat:{d}/w/y": "ENOENT",
    }
    assert not os.path.exists(os.path.join(d, "w/x"))


def test_unconfined_process_is_untouched(env, workdir):
    import subprocess

    d = env["d"]
    proc = subprocess.run(
        [
            env["probe"],
            f"creat:{d}/ro/free",
            f"unlink:{d}/ro/free",
            f"mkdir:{d}/ro/freed",
            f"rmdir:{d}/ro/freed",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert set(probe_results(proc).values()) == {"OK"}
