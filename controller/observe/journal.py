"""The event journal: kernel events moved once out of the ring buffer, read by anyone.

Reading a BPF ring buffer consumes it: two readers would each see part of
the events. So exactly one process consumes it at a time, the holder of the
journal directory's lock (flock of the directory): the daemon while it runs
(it keeps the lock), otherwise each `bpfsystrace log`, `suggest` or `learn`
for the moment it drains the buffer. The consumer appends every event as a
JSON line, with names resolved by the generation that decided it (a
replaced generation's meaning is kept in RUN_DIR/gens), and a sequence
number `seq`. Readers only read the files, so every reader sees every event.

Bounded and rotated: events.jsonl grows to MAX_BYTES, then becomes
events.jsonl.1 (.1 becomes .2, ...); KEEP files in all.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time

from ..errors import KernelError, NeedsRoot
from ..kernel import loader
from ..state import store
from . import events, sinks

DIR = os.environ.get("BPFSYSTRACE_JOURNAL_DIR", "/var/log/bpfsystrace")
NAME = "events.jsonl"
MAX_BYTES = int(os.environ.get("BPFSYSTRACE_JOURNAL_MAX_BYTES", 16 << 20))
KEEP = 4  # events.jsonl and events.jsonl.1 .. .3: at most 64 MiB


def path(i: int = 0) -> str:
    return os.path.join(DIR, NAME if i == 0 else f"{NAME}.{i}")


def last_seq() -> int:
    """The sequence number of the newest event in the journal (0: none)."""
    for i in range(KEEP):
        try:
            with open(path(i), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 65536))
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in reversed(lines):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                return int(json.loads(line)["seq"])
    return 0


class Writer:
    """The one consumer: holds the lock while it exists (close() releases it)."""

    def __init__(self, fd: int):
        self.lockfd = fd
        self.seq = last_seq()
        self.metas: dict[int, tuple[int | None, store.Attachment | None]] = {}
        self.file = open(path(), "a", encoding="utf-8")
        os.chmod(path(), 0o640)

    @classmethod
    def acquire(cls) -> Writer | None:
        """The consumer's role, or None when another process has it."""
        try:
            os.makedirs(DIR, mode=0o750, exist_ok=True)
            fd = os.open(DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except PermissionError:
            raise NeedsRoot("reading the kernel's events") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(fd)

    def meta(self, gen: int):
        """The meaning of generation `gen` (re-read when its file changes: numbers are reused)."""
        try:
            stamp = os.stat(os.path.join(store.RUN_DIR, "gens", f"{gen}.json")).st_mtime_ns
        except OSError:
            stamp = None
        cached = self.metas.get(gen)
        if cached is None or cached[0] != stamp:
            self.metas[gen] = cached = (stamp, store.generation(gen) if stamp else None)
        return cached[1]

    def write(self, ev: events.Event) -> dict:
        self.seq += 1
        d = sinks.event_dict(ev, self.meta(ev.gen))
        d["seq"] = self.seq
        self.file.write(json.dumps(d, separators=(",", ":")) + "\n")
        if self.file.tell() >= MAX_BYTES:
            self._rotate()
        return d

    def flush(self) -> None:
        self.file.flush()

    def _rotate(self) -> None:
        self.file.close()
        for i in range(KEEP - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(path(i - 1), path(i))
        self.file = open(path(), "a", encoding="utf-8")
        os.chmod(path(), 0o640)

    def close(self) -> None:
        self.file.close()
        os.close(self.lockfd)


def drain_around(action) -> None:
    """Run action() (a detach that may unload everything) with the ring buffer held open,
    and move what it held into the journal afterwards: nothing reported before is lost.
    When another process consumes, it holds the buffer open itself; give it a moment."""
    w = Writer.acquire() if loader.is_loaded() else None
    if w is None:
        action()
        time.sleep(0.5)
        return
    try:
        with loader.event_ring(lambda data: w.write(events.decode(data))) as rb:
            action()
            rb.drain()
    finally:
        w.close()


def drain(timeout_ms: int = 0) -> bool:
    """Move the events waiting in the kernel into the journal, unless another process
    consumes them (then they reach the journal through it). False: nothing is loaded."""
    if not loader.is_loaded():
        return False
    w = Writer.acquire()
    if w is None:
        return True
    try:
        with contextlib.ExitStack() as stack:
            try:
                rb = stack.enter_context(loader.event_ring(lambda data: w.write(events.decode(data))))
            except KernelError:  # unloaded meanwhile
                return False
            rb.poll(timeout_ms)  # waits for the first record at most timeout_ms
            rb.drain()
        w.flush()
        return True
    finally:
        w.close()


class Reader:
    """Every event of the journal in order (the rotated files first), then new ones."""

    def __init__(self, after: int = 0):
        self.after = after  # the last seq seen
        self.f = None
        self.ino = None

    def read(self):
        """Events not yet seen: the older files on the first call, then the current one."""
        if self.f is None:
            for i in range(KEEP - 1, 0, -1):
                yield from self._file(path(i))
        try:
            st = os.stat(path())
        except FileNotFoundError:
            return
        except PermissionError:
            raise NeedsRoot("reading the event journal") from None
        if self.f is None or st.st_ino != self.ino:
            if self.f is not None:  # rotated: the rest of the old file is .1 now
                yield from self._lines(self.f)
                self.f.close()
            try:
                self.f = open(path(), encoding="utf-8", errors="replace")
            except PermissionError:
                raise NeedsRoot("reading the event journal") from None
            self.ino = st.st_ino
        yield from self._lines(self.f)

    def _file(self, p: str):
        try:
            with open(p, encoding="utf-8", errors="replace") as f:
                yield from self._lines(f)
        except FileNotFoundError:
            return
        except PermissionError:
            raise NeedsRoot("reading the event journal") from None

    def _lines(self, f):
        while True:
            pos = f.tell()
            line = f.readline()
            if not line.endswith("\n"):  # half-written: read again next time
                f.seek(pos)
                return
            try:
                d = json.loads(line)
                seq = int(d["seq"])
            except (ValueError, KeyError, TypeError):
                continue
            if seq > self.after:
                self.after = seq
                yield d

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


def to_event(d: dict) -> events.Event:
    """A journal record back as the Event it was (learn uses the kernel's fields)."""
    fields = {f: d[f] for f in events.Event.__slots__ if f in d}
    fields["policy"] = d.get("policy_id", 0)
    fields["rule"] = d.get("rule_id", 0)
    return events.Event(**fields)


def wall(d: dict) -> float:
    import calendar

    try:
        return float(calendar.timegm(time.strptime(d["time"], "%Y-%m-%dT%H:%M:%SZ")))
    except (KeyError, ValueError, TypeError):
        return 0.0
