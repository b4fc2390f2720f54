"""The one way bpfsystrace replaces a file: write a temporary file beside it, rename it over.

A reader (another command, the daemon, a person's editor) sees the old file or
the new one, never half of either: rename(2) within one directory is atomic.
The temporary file is a new one (O_EXCL, a random name: nothing planted in a
directory others can write is followed) and its name starts with a dot, so a
policy directory being listed (pipeline.policy_files) never shows it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomic(path: str, text: str, *, encoding: str | None = None, errors: str | None = None) -> None:
    """Replace (or create) `path` with `text`.

    A replaced file keeps its permission bits; a new one gets those open(2)
    would give it (0666 less the umask)."""
    d, base = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{base}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors=errors) as f:
            f.write(text)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022
