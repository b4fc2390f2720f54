"""Shared test helpers: running the CLI as a user would."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_TESTS = os.path.join(ROOT, "tests", "kernel") + os.sep


def pytest_collection_modifyitems(config, items):
    """The two tiers as markers: `-m host` (anywhere, seconds), `-m kernel` (BPF-LSM: the VM)."""
    for item in items:
        tier = "kernel" if str(item.path).startswith(KERNEL_TESTS) else "host"
        item.add_marker(getattr(pytest.mark, tier))


def cli(*args, check=None, env=None):
    """Run `bpfsystrace ARGS` in a subprocess; returns CompletedProcess (text)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bpfsystrace", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    if check is not None:
        assert proc.returncode == check, (
            f"bpfsystrace {' '.join(map(str, args))} exited {proc.returncode}, "
            f"expected {check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def run_cli():
    return cli
