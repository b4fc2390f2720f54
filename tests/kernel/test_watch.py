"""bpfsystrace watch driven through tmux (80x24) in a real kernel: a denial appears, `a` +
Enter writes the rule and reloads, the next attempt is permitted; `d` writes a deny."""

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, cli
from tests.kernel.conftest import probe_results

CG = "bst-watch.slice"
POLICY = """\
Policy: {probe}, Emulation: native
	# hand-written, kept as it is
	native-fsread: filename eq "{d}/allowed" then permit
"""
TMUX = shutil.which("tmux")


def screen() -> str:
    """The 80x24 screen, and after it the same text with wrapped lines joined."""
    s = subprocess.run([TMUX, "capture-pane", "-p", "-t", "w"], capture_output=True, text=True).stdout
    return s + "\n" + " ".join(line.strip() for line in s.splitlines())


def wait_screen(text: str, timeout=60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = screen()
        if text in s:
            return s
        time.sleep(0.3)
    raise AssertionError(f"{text!r} not on the screen:\n{screen()}")


def keys(*k):
    subprocess.run([TMUX, "send-keys", "-t", "w", *k], check=True)


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    if TMUX is None:
        pytest.fail("tmux is not installed (scripts/setup installs it)")
    d = os.path.join(workdir, "watch")
    os.makedirs(d, exist_ok=True)
    for name in ("allowed", "other", "third"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    policy = os.path.join(d, "bst_probe")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d))
    cg = make_cgroup_module(CG)
    cli("attach", "--cgroup", CG, "--policy", policy, check=0)
    subprocess.run(
        [
            TMUX,
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            "80",
            "-y",
            "24",
            f"cd {ROOT} && {sys.executable} -m bpfsystrace watch --cgroup {CG}; sleep 600",
        ],
        check=True,
        env={**os.environ, "TERM": "xterm"},
    )
    wait_screen("bpfsystrace watch")
    yield {"d": d, "policy": policy, "cg": cg, "probe": probe_bin}
    subprocess.run([TMUX, "kill-server"])


def test_a_and_enter_permit_the_next_attempt(env):
    d, cg, probe = env["d"], env["cg"], env["probe"]
    assert probe_results(cg.run([probe, f"open:{d}/other:r"]))[f"open:{d}/other:r"] == "EPERM"
    s = wait_screen(f"deny EPERM fsread {d}/other")
    assert "would permit:" in s and f'filename eq "{d}/other" then permit' in s
    keys("a")
    wait_screen("Enter adds to")
    keys("Enter")
    s = wait_screen("generation")
    assert f"wrote {env['policy']}" in s
    text = open(env["policy"]).read()
    assert text.startswith(POLICY.format(probe=probe, d=d))  # hand-written text kept
    assert f'\tnative-fsread: filename eq "{d}/other" then permit\n' in text
    assert probe_results(cg.run([probe, f"open:{d}/other:r"]))[f"open:{d}/other:r"] == "OK"
    # the counts line: the denial (in the generation the reload replaced) and the permit
    deadline = time.monotonic() + 30
    while not re.search(r"\b[1-9]\d* allowed +[1-9]\d* denied  " + re.escape(probe), screen()):
        assert time.monotonic() < deadline, screen()
        time.sleep(0.3)


def test_d_writes_a_deny_rule_with_the_chosen_errno(env):
    d, cg, probe = env["d"], env["cg"], env["probe"]
    assert probe_results(cg.run([probe, f"open:{d}/third:r"]))[f"open:{d}/third:r"] == "EPERM"
    wait_screen(f"fsread {d}/third")
    keys("d")
    wait_screen("deny with errno")
    keys("eacces", "Enter")
    wait_screen("then deny[eacces]")
    keys("Enter")
    wait_screen("generation")
    assert f'filename eq "{d}/third" then deny[eacces]' in open(env["policy"]).read()
    assert probe_results(cg.run([probe, f"open:{d}/third:r"]))[f"open:{d}/third:r"] == "EACCES"
    keys("q")
    deadline = time.monotonic() + 30
    while "bpfsystrace watch" in screen() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert "bpfsystrace watch" not in screen()


def test_without_a_terminal_one_line_per_denial(env):
    d, cg, probe = env["d"], env["cg"], env["probe"]
    with open(os.path.join(d, "stream-x"), "w") as f:
        f.write("x")
    out = open(os.path.join(d, "stream.txt"), "w+")
    # stderr to a file too: a pipe nobody reads fills up and blocks watch's writes
    err = open(os.path.join(d, "stream.err"), "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bpfsystrace", "watch", "--cgroup", CG],
        cwd=ROOT,
        stdout=out,
        stderr=err,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180  # watch's start under TCG on a loaded host
        while True:
            cg.run([probe, f"open:{d}/stream-x:r"])
            text = open(out.name).read()
            if "would permit" in text or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(2)
        if "stream-x" not in text:
            raise AssertionError(
                f"no denial line in 180 s; watch wrote:\n{text}\nstderr:\n{open(err.name).read()}"
            )
        assert f"deny EPERM fsread {d}/stream-x  [{probe}]" in text, text
        assert f'    would permit: native-fsread: filename eq "{d}/stream-x" then permit' in text
        assert "\x1b[" not in text  # no terminal control sequences
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"watch did not end on SIGTERM; stderr:\n{open(err.name).read()}") from None
