"""bpfsystrace run in a real kernel: confined from the first instruction, the command's
errnos and exit status, signals passed through, nothing left behind."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bpfsystrace.kernel import loader, system
from tests.conftest import ROOT, cli
from tests.kernel.conftest import probe_results

BUSYBOX = shutil.which("busybox") or "/usr/bin/busybox"
POLICY = """\
Policy: {probe}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-fsread: filename eq "{d}/secret" then deny[eacces]
	native-kill: signame eq "SIGTERM" then permit
"""


@pytest.fixture(scope="module")
def env(workdir, probe_bin):
    d = os.path.join(workdir, "run")
    os.makedirs(d, exist_ok=True)
    for name in ("allowed", "secret", "other"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    policy = os.path.join(d, "bst_probe.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d))
    yield {"d": d, "policy": policy, "probe": probe_bin}
    if loader.is_loaded():
        cli("detach", "--all")


def left_behind():
    """What a run may leave: its cgroups, attachments."""
    cgs = glob.glob(os.path.join(system.cgroup2_root(), "bpfsystrace-run-*"))
    status = cli("status", check=0).stdout
    return cgs, ("nothing attached" not in status) and status


SPAWNED = []


def spawn(*args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bpfsystrace", "run", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    SPAWNED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test():
    """A failed test must not leave its run (and cgroup) to fail the next ones."""
    yield
    while SPAWNED:
        proc = SPAWNED.pop()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_cgroup_of(proc, timeout=120):
    """The cgroup `run` made for proc and the pids in it, once the command runs there."""
    path = os.path.join(system.cgroup2_root(), f"bpfsystrace-run-{proc.pid}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
            if pids and "nothing attached" not in cli("status", check=0).stdout:
                return path, pids
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no {path} with a process in it")


def test_permitted_denied_errnos_and_exit_status(env):
    d = env["d"]
    proc = cli(
        "run",
        "--policy",
        env["policy"],
        "--",
        env["probe"],
        f"open:{d}/allowed:r",
        f"open:{d}/secret:r",
        f"open:{d}/other:r",
        check=0,
    )
    assert proc.stdout.splitlines() == [
        f"open:{d}/allowed:r OK",
        f"open:{d}/secret:r EACCES",
        f"open:{d}/other:r EPERM",
    ]
    assert left_behind() == ([], False)
    # CMD's own status is bpfsystrace's (bst_probe exits 2 on an unknown action)
    cli("run", "--policy", env["policy"], "--", env["probe"], "bogus:x", check=2)
    # killed by a signal N: 128+N
    cli("run", "--policy", env["policy"], "--", env["probe"], "kill:self:15", check=143)
    assert left_behind() == ([], False)


def test_stdin_passes_through(env):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bpfsystrace",
            "run",
            "--policy",
            env["policy"],
            "--",
            env["probe"],
            "wait:-",
            f"open:{env['d']}/allowed:r",
        ],
        cwd=ROOT,
        input="go\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["wait:- OK", f"open:{env['d']}/allowed:r OK"]


def test_default_deny_without_a_policy_says_so_before_starting(env):
    proc = cli("run", "--", env["probe"], f"open:{env['d']}/allowed:r", check=2)
    assert (
        f"{env['probe']} has no policy, so it runs under the default policy (deny), "
        "which denies its exec" in proc.stderr
    )
    assert proc.stdout == ""
    assert left_behind() == ([], False)


def test_sigterm_to_bpfsystrace_reaches_the_command(env):
    proc = spawn("--policy", env["policy"], "--", env["probe"], "sleep:60")
    cg, pids = run_cgroup_of(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert not os.path.exists(cg)
    assert left_behind() == ([], False)


def test_command_killed_and_children_left_behind_are_cleaned_up(env):
    # the command puts a child in the background and is then killed: the child goes too
    proc = spawn(
        "--default",
        "permit",
        "--",
        BUSYBOX,
        "sh",
        "-c",
        f"{BUSYBOX} sleep 300 & echo $!; exec {BUSYBOX} sleep 200",
    )
    bg = int(proc.stdout.readline())
    cg, pids = run_cgroup_of(proc)
    assert bg in pids and proc.pid not in pids
    os.kill([p for p in pids if p != bg][0], signal.SIGKILL)
    assert proc.wait(timeout=60) == 128 + signal.SIGKILL
    assert not os.path.exists(f"/proc/{bg}") or open(f"/proc/{bg}/stat").read().split()[2] == "Z"
    assert not os.path.exists(cg)
    assert left_behind() == ([], False)


def test_sigint_while_running_leaves_nothing(env):
    proc = spawn(
        "--default", "permit", "--", BUSYBOX, "sh", "-c", f"{BUSYBOX} sleep 300 & exec {BUSYBOX} sleep 300"
    )
    cg, pids = run_cgroup_of(proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 128 + signal.SIGINT
    for p in pids:
        assert not os.path.exists(f"/proc/{p}") or open(f"/proc/{p}/stat").read().split()[2] == "Z"
    assert not os.path.exists(cg)
    assert left_behind() == ([], False)


def test_learn_writes_the_commands_policy(env, tmp_path):
    out = tmp_path / "learned"
    d = env["d"]
    proc = cli("run", "--mode", "learn", "-o", out, "--", env["probe"], f"open:{d}/other:r", check=0)
    assert f"open:{d}/other:r OK" in proc.stdout
    name = env["probe"].lstrip("/").replace("/", "_")
    text = (out / name).read_text()
    assert f'native-fsread: filename eq "{d}/other" then permit' in text
    cli("run", "--policy", out, "--", env["probe"], f"open:{d}/other:r", f"open:{d}/allowed:r", check=0)
    assert left_behind() == ([], False)


def test_reload_dry_run_prints_the_change_and_swaps_nothing(env, make_cgroup_module, tmp_path):
    d, probe = env["d"], env["probe"]
    policy = tmp_path / "bst_probe"
    policy.write_text(POLICY.format(probe=probe, d=d))
    cg = make_cgroup_module("bst-dryrun.slice")
    cli("attach", "--cgroup", "bst-dryrun.slice", "--policy", policy, check=0)
    same = cli("reload", "--cgroup", "bst-dryrun.slice", "--dry-run", check=0).stdout
    assert "no difference in decisions" in same
    policy.write_text(
        POLICY.format(probe=probe, d=d).replace(
            f'"{d}/secret" then deny[eacces]', f'"{d}/secret" then permit'
        )
    )
    out = cli("reload", "--cgroup", "bst-dryrun.slice", "--dry-run", check=1).stdout
    assert f'  {probe}: fsread\n    denied -> permitted: "{d}/secret"' in out
    assert f"in force: denied (EACCES) by {policy}:3:2:" in out
    assert f"on disk: permitted by {policy}:3:2:" in out
    # nothing was swapped: the old policy still decides
    res = probe_results(cg.run([probe, f"open:{d}/secret:r"]))
    assert res[f"open:{d}/secret:r"] == "EACCES"
    cli("detach", "--cgroup", "bst-dryrun.slice", check=0)


def test_on_a_terminal_the_command_gets_it_and_ctrl_c(env, tmp_path):
    """In a terminal (tmux): the command reads the terminal, Ctrl-C stops it (130), and the
    terminal is the shell's again afterwards."""
    tmux = shutil.which("tmux")
    status = tmp_path / "status"
    subprocess.run(
        [
            tmux,
            "new-session",
            "-d",
            "-s",
            "r",
            "-x",
            "80",
            "-y",
            "24",
            f"cd {ROOT}; {sys.executable} -m bpfsystrace run --policy {env['policy']} -- "
            f"{env['probe']} wait:- open:{env['d']}/allowed:r sleep:300; "
            f"echo $? > {status}; sleep 600",
        ],
        check=True,
        env={**os.environ, "TERM": "xterm"},
    )
    try:

        def pane():
            return subprocess.run(
                [tmux, "capture-pane", "-p", "-t", "r"], capture_output=True, text=True
            ).stdout

        def wait_for(text):
            deadline = time.monotonic() + 90
            while text not in pane():
                assert time.monotonic() < deadline, pane()
                time.sleep(0.3)

        deadline = time.monotonic() + 90
        while not glob.glob(os.path.join(system.cgroup2_root(), "bpfsystrace-run-*", "cgroup.procs")):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        time.sleep(1)
        subprocess.run([tmux, "send-keys", "-t", "r", "go", "Enter"], check=True)
        wait_for(f"open:{env['d']}/allowed:r OK")
        subprocess.run([tmux, "send-keys", "-t", "r", "C-c"], check=True)
        deadline = time.monotonic() + 60
        while not (status.exists() and status.read_text().strip()):
            assert time.monotonic() < deadline, pane()
            time.sleep(0.3)
        assert status.read_text().strip() == "130"
        assert left_behind() == ([], False)
    finally:
        subprocess.run([tmux, "kill-session", "-t", "r"])
