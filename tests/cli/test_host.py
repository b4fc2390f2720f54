"""What an administrator sees on this host (whose kernel may refuse BPF-LSM)."""

import os

import pytest

from bpfsystrace.kernel import probe, system
from tests.conftest import ROOT

NAMED = os.path.join(ROOT, "tests", "fixtures", "policies", "openbsd_usr_sbin_named")


def host_can_enforce():
    return all(c.ok for c in probe.checks(try_load=True))


@pytest.fixture
def cgroup():
    path = os.path.join(system.cgroup2_root(), "bst-hosttest.slice")
    os.makedirs(path, exist_ok=True)
    yield "bst-hosttest.slice"
    os.rmdir(path)


def test_doctor_says_whether_this_host_can_enforce(run_cli):
    proc = run_cli("doctor")
    assert "Traceback" not in proc.stderr
    if host_can_enforce():
        assert proc.returncode == 0
        assert "this host can enforce" in proc.stdout
    else:
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert "FAIL  load LSM programs" in proc.stdout
        assert "tests/vm/run-in-vm" in proc.stdout


def test_attach_on_a_host_that_refuses_lsm_programs_says_why(run_cli, cgroup):
    if host_can_enforce():
        run_cli("attach", "--cgroup", cgroup, "--policy", NAMED, check=0)
        run_cli("detach", "--cgroup", cgroup, check=0)
        return
    proc = run_cli("attach", "--cgroup", cgroup, "--policy", NAMED)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "this host cannot enforce policies" in proc.stderr
    assert "refused to load the BPF-LSM programs" in proc.stderr
    assert "hint: run the kernel tests and the demo in the test VM" in proc.stderr
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace"), "a failed attach left pins behind"


def test_attach_to_a_missing_cgroup(run_cli):
    proc = run_cli("attach", "--cgroup", "no-such.slice", "--policy", NAMED)
    assert proc.returncode == 2
    assert "cgroup" in proc.stderr and "no-such.slice" in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_attach_to_the_root_cgroup_is_refused(run_cli):
    proc = run_cli("attach", "--cgroup", "/", "--policy", NAMED)
    assert proc.returncode == 2
    assert "cgroup2 root" in proc.stderr


def test_broken_policy_is_rejected_before_anything_is_loaded(run_cli, tmp_path, cgroup):
    bad = tmp_path / "bad"
    bad.write_text(
        'Policy: /bin/true, Emulation: native\n\tnative-fsread: filename eq "/x" then deny[enoexist]\n'
    )
    proc = run_cli("attach", "--cgroup", cgroup, "--policy", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:2:" in proc.stderr and "unknown errno name 'enoexist'" in proc.stderr
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace")


def test_status_and_detach_with_nothing_attached(run_cli):
    assert "nothing attached" in run_cli("status", check=0).stdout
    proc = run_cli("detach", "--cgroup", "x.slice")
    assert proc.returncode == 2 and "nothing is attached" in proc.stderr


def test_help_teaches(run_cli):
    out = run_cli("--help", check=0).stdout
    assert "bpfsystrace attach --cgroup named.slice" in out and "exit codes" in out
    out = run_cli("attach", "--help", check=0).stdout
    assert "Which policy applies" in out and "--default" in out
