"""One writer of the kernel maps and RUN_DIR at a time (attach, reload, detach, daemon)."""

from __future__ import annotations

import contextlib
import fcntl
import os

from . import store


@contextlib.contextmanager
def locked():
    """Hold the lock for the duration of the with-block.

    The lock is RUN_DIR itself (flock of the directory), so no lock file is left
    behind; an empty RUN_DIR is removed on release (a failed first attach leaves
    nothing). A directory removed while we waited for it is opened again."""
    while True:
        os.makedirs(store.RUN_DIR, mode=0o755, exist_ok=True)
        fd = os.open(store.RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_ino == os.stat(store.RUN_DIR).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        try:
            if not os.listdir(store.RUN_DIR):
                os.rmdir(store.RUN_DIR)
        except OSError:
            pass
        os.close(fd)
