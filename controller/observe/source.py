"""Where decision events come from, behind one small interface.

A source has poll(timeout_ms) -> list[Event] and close(). KernelSource reads
the pinned ring buffer (and so consumes what it reads: one reader at a time);
a journal written by the daemon can feed the same consumers through another
class with these two methods.
"""
from __future__ import annotations

from ..kernel import libbpf, loader
from . import events


class KernelSource:
    def __init__(self):
        self._k = loader.open_kernel()
        self._got: list[events.Event] = []
        self._rb = libbpf.RingBuffer(self._k.events_fd,
                                     lambda data: self._got.append(events.decode(data)))

    def poll(self, timeout_ms: int) -> list[events.Event]:
        self._rb.poll(timeout_ms)
        got, self._got = self._got, []
        return got

    def close(self) -> None:
        self._rb.close()
        self._k.close()
