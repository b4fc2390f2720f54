"""The daemon and its service manager: sd_notify, and the pid file that says one runs."""

from __future__ import annotations

import fcntl
import logging
import os
import socket

from .. import attachments
from ..errors import UsageError

log = logging.getLogger(__name__)

PID_FILE = "daemon.pid"


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) about our state; nothing when not run by systemd."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(path)
            s.send(state.encode())
    except OSError as e:
        log.debug("sd_notify(%s): %s", state, e)


class PidFile:
    """RUN_DIR/daemon.pid, locked while the daemon runs: one daemon at a time."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def claim(self) -> None:
        os.makedirs(attachments.RUN_DIR, mode=0o755, exist_ok=True)
        path = os.path.join(attachments.RUN_DIR, PID_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode().strip() or "?"
            os.close(fd)
            raise UsageError(
                f"another bpfsystrace daemon (pid {other}) is running; "
                f"'bpfsystrace reload' or SIGHUP makes it reload"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """No stale pid file: it is unlinked while we still hold its lock."""
        if self.fd is None:
            return
        try:
            os.unlink(os.path.join(attachments.RUN_DIR, PID_FILE))
            os.rmdir(attachments.RUN_DIR)  # only when empty
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def running_pid() -> int | None:
    """The pid of the running daemon, if any."""
    path = os.path.join(attachments.RUN_DIR, PID_FILE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # nobody holds it
        except BlockingIOError:
            pass
        txt = os.read(fd, 32).decode().strip()
        return int(txt) if txt.isdigit() else None
    finally:
        os.close(fd)
