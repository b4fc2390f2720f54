"""Shared test helpers: running the CLI as a user would."""

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_TESTS = os.path.join(ROOT, "tests", "kernel") + os.sep


def pytest_collection_modifyitems(config, items):
    """The two tiers as markers: `-m host` (anywhere, seconds), `-m kernel` (BPF-LSM: the VM)."""
    for item in items:
        tier = "kernel" if str(item.path).startswith(KERNEL_TESTS) else "host"
        item.add_marker(getattr(pytest.mark, tier))


def cli(*args, check=None, env=None):
    """Run `bpfsystrace ARGS`; returns CompletedProcess (text).

    In a child forked from this process, whose interpreter has imported
    bpfsystrace already (under TCG a fresh one spends seconds importing it,
    on every call): the same main() with the same argv, cwd, streams and exit
    status as `python -m bpfsystrace`. With `env`, or BPFSYSTRACE_TEST_CLI=
    subprocess, a new interpreter runs it (modules read some variables when
    imported)."""
    argv = list(map(str, args))
    if env or os.environ.get("BPFSYSTRACE_TEST_CLI") == "subprocess":
        proc = subprocess.run(
            [sys.executable, "-m", "bpfsystrace", *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            timeout=300,
        )
    else:
        proc = _forked_cli(argv, timeout=300)
    if check is not None:
        assert proc.returncode == check, (
            f"bpfsystrace {' '.join(map(str, args))} exited {proc.returncode}, "
            f"expected {check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def _forked_cli(argv, timeout):
    from bpfsystrace import cli as cli_mod

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)  # pytest's capture objects are not fds 1, 2
                sys.stderr = open(2, "w", closefd=False)
                os.chdir(ROOT)
                sys.argv = ["bpfsystrace", *argv]
                logging.root.handlers.clear()  # pytest's: main() configures its own, on stderr
                signal.signal(signal.SIGINT, signal.default_int_handler)
                code = cli_mod.main(argv)
            except SystemExit as e:  # argparse: usage errors exit 2
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        expired = threading.Event()

        def expire():
            expired.set()
            os.kill(pid, signal.SIGKILL)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status = os.waitpid(pid, 0)
        finally:
            timer.cancel()
        if expired.is_set():
            raise subprocess.TimeoutExpired(["bpfsystrace", *argv], timeout)
        rc = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            ["bpfsystrace", *argv],
            rc,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


@pytest.fixture
def run_cli():
    return cli
