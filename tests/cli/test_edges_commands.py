"""Issue 17 and 14: commands as a new administrator (and a non-root user) runs them."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from bpfsystrace import attachments
from bpfsystrace.cli import build_parser
from bpfsystrace.kernel import system
from tests.conftest import ROOT

NAMED = os.path.join(ROOT, "policies", "usr_sbin_named")


def record(run_dir, cgroup="/sys/fs/cgroup/bst-gone.slice", cgid=4242, gen=3):
    """What attach writes in RUN_DIR for an attachment."""
    meta = attachments.Attachment(
        cgroup,
        cgid,
        gen,
        "deny",
        [{"binary": "/usr/sbin/named", "file": NAMED, "line": 1, "identity": None}],
        [],
        None,
        0.0,
        [NAMED],
        "deny",
        "none",
    )
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, f"{cgid}.json"), "w") as f:
        json.dump(meta.__dict__, f)


def as_nobody(*args, env=None):
    return subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "bpfsystrace",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("attach", "--cgroup", "x.slice", "--policy", NAMED),
        ("detach", "--all"),
        ("reload", "--all"),
        ("learn", "--cgroup", "x.slice", "-o", "/tmp/x"),
        ("daemon",),
    ],
)
def test_changing_commands_need_root(args, tmp_path):
    run = tmp_path / "run"
    proc = as_nobody(*args, env={"BPFSYSTRACE_RUN_DIR": str(run)})
    assert proc.returncode == 2, proc.stderr
    assert f"bpfsystrace: error: {args[0]} needs root" in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not run.exists()


def test_status_without_root_shows_what_is_recorded():
    top = tempfile.mkdtemp(prefix="bst-edges-")  # pytest's tmp_path is not readable by nobody
    os.chmod(top, 0o755)
    run = os.path.join(top, "run")
    record(run)
    try:
        proc = as_nobody("status", env={"BPFSYSTRACE_RUN_DIR": str(run)})
    finally:
        shutil.rmtree(top)
    assert proc.returncode == 0, proc.stderr
    assert (
        "/sys/fs/cgroup/bst-gone.slice (id 4242), generation 3: /usr/sbin/named, default (deny)"
    ) in proc.stdout
    assert "need root: sudo bpfsystrace status" in proc.stdout
    assert "nothing attached" not in proc.stdout


def test_recorded_attachments_without_kernel_state_are_loud(run_cli, tmp_path):
    """Issue 14: the pins are gone (none on this host) but RUN_DIR records an attachment."""
    run = tmp_path / "run"
    record(run)
    before = sorted(os.listdir(run))
    proc = run_cli("status", env={"BPFSYSTRACE_RUN_DIR": str(run)})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert (
        "/sys/fs/cgroup/bst-gone.slice (id 4242), generation 3: NOT ENFORCED: recorded in "
        f"{run} but its kernel state is gone (the pinned programs under "
        "/sys/fs/bpf/bpfsystrace are gone)"
    ) in proc.stdout
    assert "error: 1 attachment(s) recorded but not enforced" in proc.stdout
    proc = run_cli("doctor", "--no-load", env={"BPFSYSTRACE_RUN_DIR": str(run)})
    assert "FAIL  attachments          1 recorded in" in proc.stdout
    assert "NOT ENFORCED: /sys/fs/cgroup/bst-gone.slice" in proc.stdout
    assert proc.returncode in (3, 4)  # 3 where the host cannot enforce at all
    assert sorted(os.listdir(run)) == before  # status and doctor changed nothing


def test_nothing_attached_is_one_behaviour(run_cli, tmp_path):
    env = {"BPFSYSTRACE_RUN_DIR": str(tmp_path / "run")}
    if os.path.exists("/sys/fs/bpf/bpfsystrace"):
        pytest.skip("something is attached on this host")
    proc = run_cli("status", env=env, check=0)
    assert proc.stdout == "nothing attached\n"
    proc = run_cli("detach", "--all", env=env, check=0)
    assert "nothing attached" in proc.stderr
    proc = run_cli("reload", "--all", env=env, check=0)
    assert "nothing attached" in proc.stdout
    proc = run_cli("detach", "--cgroup", "x.slice", env=env, check=2)
    assert f"{system.resolve_cgroup('x.slice')} is not attached (nothing is attached)" in proc.stderr
    assert not (tmp_path / "run").exists(), "a command left RUN_DIR behind"


def test_a_failed_attach_or_daemon_leaves_nothing_behind(run_cli, tmp_path):
    if os.path.exists("/sys/fs/bpf/bpfsystrace"):
        pytest.skip("this host can enforce")
    run = tmp_path / "run"
    cg = os.path.join(system.cgroup2_root(), "bst-edges.slice")
    os.makedirs(cg, exist_ok=True)
    try:
        proc = run_cli(
            "attach", "--cgroup", "bst-edges.slice", "--policy", NAMED, env={"BPFSYSTRACE_RUN_DIR": str(run)}
        )
    finally:
        os.rmdir(cg)
    if proc.returncode == 0:
        pytest.skip("this host can enforce")
    assert proc.returncode == 3, proc.stderr
    assert not run.exists(), os.listdir(run)
    proc = run_cli("daemon", "--no-syslog", env={"BPFSYSTRACE_RUN_DIR": str(run)})
    assert proc.returncode == 3, proc.stderr
    assert not run.exists(), os.listdir(run)


def test_global_options_after_the_subcommand(run_cli):
    a = run_cli("check", "--debug", NAMED, check=0)
    b = run_cli("--debug", "check", NAMED, check=0)
    c = run_cli("check", "-v", NAMED, check=0)
    assert a.stdout == b.stdout == c.stdout


def test_every_subcommand_has_examples():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert "examples:" in p.format_help(), f"bpfsystrace {name} --help has no examples"
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"bpfsystrace {name} {action.option_strings[0]} has no help"


def test_explain_help_lists_every_operation(run_cli):
    from bpfsystrace.model import syscalls

    out = " ".join(run_cli("explain", "--help", check=0).stdout.split())
    for op in syscalls.OPERATIONS:
        assert op in out


def test_hybrid_layout_and_absolute_paths(monkeypatch, tmp_path):
    mounts = [
        system.Mount(1, 0, 20, "/sys/fs/cgroup", "tmpfs"),
        system.Mount(2, 0, 21, "/sys/fs/cgroup/unified", "cgroup2"),
    ]
    monkeypatch.setattr(system, "mounts", lambda: mounts)
    with pytest.raises(system.TargetError) as e:
        system.resolve_cgroup("/sys/fs/cgroup/demo.slice")
    msg = str(e.value)
    assert (
        "/sys/fs/cgroup/demo.slice is not in the cgroup v2 hierarchy, which is mounted at "
        "/sys/fs/cgroup/unified on this host (a hybrid layout" in msg
    )
    assert "unified/sys" not in msg
    assert system.resolve_cgroup("demo.slice") == "/sys/fs/cgroup/unified/demo.slice"
    with pytest.raises(system.TargetError) as e:
        system.cgroup_id("/sys/fs/cgroup/unified/no-such-bst.slice")
    assert "this host has a hybrid cgroup layout: cgroup v2 is mounted at /sys/fs/cgroup/unified" in str(
        e.value
    )
    assert "mkdir /sys/fs/cgroup/unified/no-such-bst.slice" in str(e.value)
