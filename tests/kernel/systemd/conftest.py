"""Tests under a real systemd (PID 1): run by `tests/vm/run-in-vm --systemd` (scripts/test),
in one boot of their own. They install the Debian package into the guest's throwaway overlay,
so they refuse to run anywhere else."""

import os

import pytest


def pytest_sessionstart(session):
    with open("/proc/1/comm") as f:
        pid1 = f.read().strip()
    if pid1 != "systemd" or os.environ.get("BPFSYSTRACE_IN_VM") != "1":
        pytest.exit(
            "tests/kernel/systemd need systemd as PID 1 in the throwaway test VM "
            f"(PID 1 here: {pid1}): tests/vm/run-in-vm --systemd -- .venv/bin/python "
            "-m pytest tests/kernel/systemd (scripts/test does)",
            returncode=3,
        )
