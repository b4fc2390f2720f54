"""Kernel tests: they need a kernel that runs BPF-LSM programs.

They run inside the micro-VM (`tests/vm/run-in-vm`, which `make test` uses);
on a host that cannot enforce they stop with the probe's reason instead of
skipping, so a CI run can never pass without them.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from bpfsystrace.kernel import loader, probe, system

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_sessionstart(session):
    bad = [c for c in probe.checks(try_load=True) if not c.ok]
    if bad:
        pytest.exit(
            "kernel tests need a host that can load BPF-LSM programs: "
            + "; ".join(f"{c.name}: {c.detail}" for c in bad)
            + "\nrun them in the micro-VM: tests/vm/run-in-vm .venv/bin/python -m pytest "
            "tests/kernel (make test does)",
            returncode=3,
        )


@pytest.fixture(scope="session")
def workdir():
    d = tempfile.mkdtemp(prefix="bst-kt-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def build_static(workdir, name: str) -> str:
    """tests/kernel/NAME.c, statically linked: no loader or library opens to allow."""
    out = os.path.join(workdir, name)
    subprocess.run(["gcc", "-static", "-O2", "-o", out, os.path.join(HERE, name + ".c")], check=True)
    return out


@pytest.fixture(scope="session")
def probe_bin(workdir):
    """bst_probe: one system call per argument, prints what the kernel answered."""
    return build_static(workdir, "bst_probe")


@pytest.fixture(scope="session")
def churn_bin(workdir):
    """bst_churn: bst_probe's actions in a loop until SIGTERM, then counts per answer."""
    return build_static(workdir, "bst_churn")


def churn_results(out: str) -> dict[str, dict[str, int]]:
    """bst_churn's output -> {action: {answer: count}}."""
    res: dict[str, dict[str, int]] = {}
    for line in out.splitlines():
        if line == "ready":
            continue
        action, answer, count = line.rsplit(" ", 2)
        res.setdefault(action, {})[answer] = int(count)
    return res


class Cgroup:
    def __init__(self, name: str):
        self.path = os.path.join(system.cgroup2_root(), name)
        os.makedirs(self.path, exist_ok=True)

    def child(self, name: str) -> "Cgroup":
        return Cgroup(os.path.relpath(os.path.join(self.path, name), system.cgroup2_root()))

    def join(self):
        """preexec_fn: move the forked child into this cgroup before it execs."""
        path = os.path.join(self.path, "cgroup.procs")

        def _join():
            with open(path, "w") as f:
                f.write(str(os.getpid()))

        return _join

    def run(self, argv, **kw):
        return subprocess.run(argv, preexec_fn=self.join(), capture_output=True, text=True, timeout=60, **kw)

    def remove(self):
        for root, _dirs, _ in os.walk(self.path, topdown=False):
            try:
                with open(os.path.join(root, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            for _ in range(50):
                try:
                    os.rmdir(root)
                    break
                except OSError:
                    time.sleep(0.05)


@pytest.fixture(scope="module")
def make_cgroup_module():
    """Create cgroups for a test module; at its end detach everything and remove them."""
    from tests.conftest import cli

    made = []

    def make(name):
        cg = Cgroup(name)
        made.append(cg)
        return cg

    yield make
    if loader.is_loaded():
        cli("detach", "--all")
    for cg in reversed(made):
        cg.remove()


class ConfinedService:
    """A shipped service (named, nginx) confined by its shipped policy: its own
    cgroup, attached; started as a service manager starts it (fork, join the
    cgroup, exec), output to a log file in workdir; the files it writes for the
    test are removed, the cgroup detached, at close()."""

    def __init__(self, binary: str, policy: str, cgroup: str, workdir: str, make_cgroup):
        from tests.conftest import cli

        self.binary, self.workdir, self.cgroup = binary, workdir, cgroup
        self.made: list[str] = []
        self.cg = make_cgroup(cgroup)
        attach = cli("attach", "--cgroup", cgroup, "--policy", policy, check=0)
        assert "enforcing on" in attach.stderr, attach.stderr

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        self.made.append(path)

    def symlink(self, target: str, path: str) -> None:
        os.symlink(target, path)
        self.made.append(path)

    def start(self, argv: list[str], name: str):
        """(Popen, its log file opened w+) of argv started inside the cgroup."""
        out = open(os.path.join(self.workdir, f"{name}.log"), "w+")
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=self.cg.join()
        )
        return proc, out

    def counts(self) -> tuple[int, int]:
        """(allowed, denied) of the binary's policy in `status`."""
        from tests.conftest import cli

        out = cli("status", check=0).stdout
        m = re.search(rf"^  {re.escape(self.binary)} \(.*\): (\d+) allowed, (\d+) denied$", out, re.M)
        assert m, out
        return int(m.group(1)), int(m.group(2))

    def close(self) -> None:
        from tests.conftest import cli

        cli("detach", "--cgroup", self.cgroup, check=0)
        for path in reversed(self.made):
            os.unlink(path)


def probe_results(proc) -> dict[str, str]:
    """Parse bst_probe's lines into {action: "OK" | "EPERM" | ...}."""
    out = {}
    for line in proc.stdout.splitlines():
        action, _, result = line.rpartition(" ")
        out[action] = result
    return out


@pytest.fixture(autouse=True, scope="session")
def _clean_pins():
    """Start and end without pinned state."""
    if loader.is_loaded() or os.path.exists(loader.PIN_ROOT):
        loader.unload()
    yield
    if os.path.exists(loader.PIN_ROOT):
        loader.unload()


def listener(family, addr):
    """A TCP listener outside every target cgroup; returns (socket, port)."""
    import socket

    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0))
    s.listen(64)
    return s, s.getsockname()[1]


def assert_reference_agrees(policy_path: str, cases) -> None:
    """The kernel's answers equal the reference evaluator's (reference.decide).

    cases: (action, operation name or None to skip, object string, answer seen)."""
    import errno

    from bpfsystrace.compile import pipeline
    from bpfsystrace.model import reference

    (policy,), _ = pipeline.load_policies([policy_path])
    for action, op, obj, result in cases:
        if op is None:
            continue
        dec = reference.decide(policy, reference.op_by_name(op), obj)
        ref = "OK" if dec.permitted else errno.errorcode[dec.errno]
        assert ref == result, (action, dec.describe())


_log_cursor = [0]


def new_log(json_out: bool = False) -> str:
    """`bpfsystrace log` lines of the events since the previous new_log() call.

    `log` no longer consumes the kernel's buffer (every reader sees the whole
    journal), so a test that wants only what its own actions caused keeps a
    cursor: the `seq` of the last journal event it has seen."""
    import json

    from tests.conftest import cli

    out = cli("log", "--json", "--after", str(_log_cursor[0]), check=0).stdout
    evs = [json.loads(line) for line in out.splitlines() if line.strip()]
    if evs:
        _log_cursor[0] = evs[-1]["seq"]
    return "".join((json.dumps(e) if json_out else e["line"]) + "\n" for e in evs)


def counters():
    """status's kernel counters line -> {name: count}."""
    from tests.conftest import cli

    line = next(
        (ln for ln in cli("status", check=0).stdout.splitlines() if ln.startswith("kernel counters: ")),
        "kernel counters: ",
    )
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"([a-z ]+?) (\d+)(?:, |$)", line[len("kernel counters: ") :])
    }
