"""Shared test helpers: running the CLI as a user would."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, check=None, env=None):
    """Run `bpfsystrace ARGS` in a subprocess; returns CompletedProcess (text)."""
    proc = subprocess.run([sys.executable, "-m", "bpfsystrace", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)
    if check is not None:
        assert proc.returncode == check, (
            f"bpfsystrace {' '.join(map(str, args))} exited {proc.returncode}, "
            f"expected {check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture
def run_cli():
    return cli
