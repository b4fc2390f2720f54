"""Run one command confined in a transient cgroup, then leave nothing behind.

The child is forked first and waits on a pipe; the cgroup is made and
attached, the child is moved into it, and only then is it told to exec the
command. So the command's first instruction already runs confined, and the
exec itself is decided as the first exec of a process that entered the
cgroup from outside (docs/enforcement.md, exec semantics).

The cgroup is a systemd scope (run-bpfsystrace-PID.scope, through busctl)
when systemd is PID 1, otherwise bpfsystrace-run-PID under the cgroup2 root.
Cleanup, whatever ends the run: kill what is left in the cgroup, detach,
remove the cgroup (systemd removes an empty scope by itself).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import time

from .. import attachments
from ..errors import TargetError, UsageError
from ..kernel import system

log = logging.getLogger(__name__)

FORWARD = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCONT,
)


def resolve_command(cmd: str) -> str:
    """CMD as execv will run it: an absolute path (no PATH search inside the cgroup)."""
    path = cmd if "/" in cmd else shutil.which(cmd)
    if not path or not os.path.isfile(path):
        raise UsageError(f"{cmd}: command not found")
    if not os.access(path, os.X_OK):
        raise UsageError(f"{cmd}: not executable")
    return os.path.abspath(path)


def systemd_is_pid1() -> bool:
    try:
        return os.path.basename(os.readlink("/proc/1/exe")).startswith("systemd")
    except OSError:
        return False


class Confined:
    """A forked child waiting to exec argv inside a fresh cgroup."""

    def __init__(self, path: str, argv: list[str]):
        self.path, self.argv = path, argv
        self.cgroup: str | None = None
        self.ours = False  # we made the directory (not systemd): we remove it
        self.attached = False
        r, w = os.pipe()
        self.go: int | None = None
        self.pid = os.fork()
        self.alive = True  # not reaped yet (after that the pid may be reused: never signal it)
        if self.pid == 0:  # the child: wait for the go-ahead, then exec
            os.close(w)
            try:
                for s in FORWARD:
                    signal.signal(s, signal.SIG_DFL)
                if os.read(r, 1) == b"x":
                    os.close(r)
                    os.execv(path, argv)
            except BaseException:
                pass
            os._exit(127)
        os.close(r)
        self.go = w

    def enter_cgroup(self) -> str:
        """Move the waiting child into a new cgroup; returns its path."""
        if systemd_is_pid1() and shutil.which("busctl"):
            try:
                self.cgroup = self._scope()
                return self.cgroup
            except (OSError, subprocess.SubprocessError, TargetError) as e:
                log.info("no systemd scope (%s); using a cgroup of bpfsystrace's own", e)
        root = system.cgroup2_root()
        path = os.path.join(root, f"bpfsystrace-run-{os.getpid()}")
        os.mkdir(path, 0o755)
        self.cgroup, self.ours = path, True
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(self.pid))
        return path

    def _scope(self) -> str:
        unit = f"run-bpfsystrace-{os.getpid()}.scope"
        subprocess.run(
            [
                "busctl",
                "call",
                "--quiet",
                "org.freedesktop.systemd1",
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager",
                "StartTransientUnit",
                "ssa(sv)a(sa(sv))",
                unit,
                "fail",
                "2",
                "PIDs",
                "au",
                "1",
                str(self.pid),
                "Description",
                "s",
                "bpfsystrace run " + " ".join(self.argv)[:200],
                "0",
            ],
            check=True,
            capture_output=True,
            timeout=10,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(f"/proc/{self.pid}/cgroup") as f:
                rel = f.read().strip().split("::", 1)[-1]
            if rel.endswith("/" + unit):
                return system.resolve_cgroup(rel)
            time.sleep(0.02)
        raise TargetError(f"systemd did not move the command into {unit}")

    def start(self) -> None:
        """The go-ahead: the child execs the command (call once attached)."""
        if self.go is not None:
            os.write(self.go, b"x")
            os.close(self.go)
            self.go = None

    def forward(self, signum: int) -> None:
        if not self.alive:
            return
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def wait(self, poll=None) -> int:
        """Wait for the command; its exit status, or 128+N when killed by signal N.

        poll(): called between checks (learn mode reads events there)."""
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG if poll else 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                self.alive = False
                return 127
            if pid:
                break
            poll()
        self.alive = False
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)

    def cleanup(self) -> None:
        """Kill what is left, detach, remove the cgroup. Safe to call more than once."""
        if self.go is not None:
            os.close(self.go)  # the child never got the go-ahead: it exits 127
            self.go = None
        if self.alive:
            self.forward(signal.SIGKILL)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.alive = False
        if self.cgroup and not _empty(self.cgroup):
            # fail closed: what is left stays confined; the user detaches once it is gone
            raise TargetError(
                f"processes are left in {self.cgroup} and stay confined; kill "
                f"them, then 'bpfsystrace detach --cgroup {self.cgroup}'"
            )
        if self.attached:
            attachments.detach(self.cgroup)
            self.attached = False
        if self.cgroup and self.ours:
            for _ in range(100):
                try:
                    os.rmdir(self.cgroup)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                log.warning("could not remove %s", self.cgroup)
        self.cgroup = None


def _empty(cgroup: str) -> bool:
    """Kill every process left in the cgroup (the command's children) and wait for them."""
    kill = os.path.join(cgroup, "cgroup.kill")
    for _ in range(250):
        try:
            with open(os.path.join(cgroup, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError as e:
            # gone, or removed while open (ENODEV: systemd reaped the empty scope)
            if e.errno in (errno.ENOENT, errno.ENODEV):
                return True
            raise
        if not pids:
            return True
        try:
            with open(kill, "w") as f:
                f.write("1")
        except OSError:  # before Linux 5.14: one by one
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.02)
    return False
