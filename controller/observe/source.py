"""Where decision events come from, behind one small interface.

A source has poll(timeout_ms) -> list[Event] and close(). JournalSource reads
the event journal (controller/journal.py), which every reader sees whole: the
daemon (or, without it, the reader itself) moves the kernel's events there.
KernelSource reads the pinned ring buffer itself, and so consumes what it
reads: one reader at a time.
"""

from __future__ import annotations

import time

from ..kernel import libbpf, loader
from . import events, journal


class JournalSource:
    """The events written to the journal from now on."""

    def __init__(self):
        self._journal = journal
        self._reader = journal.Reader(after=journal.last_seq())

    def poll(self, timeout_ms: int) -> list[events.Event]:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            self._journal.drain(0)  # a no-op while the daemon consumes
            got = [self._journal.to_event(d) for d in self._reader.read()]
            if got or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)

    def close(self) -> None:
        self._reader.close()


class KernelSource:
    def __init__(self):
        self._k = loader.open_kernel()
        self._got: list[events.Event] = []
        self._rb = libbpf.RingBuffer(self._k.events_fd, lambda data: self._got.append(events.decode(data)))

    def poll(self, timeout_ms: int) -> list[events.Event]:
        self._rb.poll(timeout_ms)
        got, self._got = self._got, []
        return got

    def close(self) -> None:
        self._rb.close()
        self._k.close()
