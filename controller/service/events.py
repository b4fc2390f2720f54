"""The kernel's events, drained to the journal, syslog and the log file.

The pinned ring buffer has one consumer, the journal's writer (a `bpfsystrace
log` may hold that role for a moment); each event is written to the journal
with the meaning of the generation that decided it, then sent to syslog and
the log file. Events the kernel dropped (ring buffer full) are counted there
and reported here once, also across restarts (RUN_DIR/lost-reported).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from .. import abi, attachments
from ..errors import BpfsystraceError
from ..kernel import libbpf, loader, maps
from ..observe import events, journal, sinks
from ..state.atomic import write_atomic

log = logging.getLogger(__name__)

TICK_S = 0.2  # the longest a poll waits (cgroup follow and signal latency)
LOST_FILE = "lost-reported"  # lost-event count already reported (survives restarts)


class EventPump:
    def __init__(self, outputs: list[tuple[str, Any]], syslog: sinks.Syslog | None):
        """outputs: ("syslog", sinks.Syslog) / ("file", sinks.LogFile) pairs."""
        self.outputs = outputs
        self.syslog = syslog
        self.journal: journal.Writer | None = None  # the ring buffer's one consumer
        self.journal_err = ""
        self.lost_seen: int | None = None
        self.rb: libbpf.RingBuffer | None = None
        self.rb_ino: int | None = None
        self.kernel: loader.Kernel | None = None

    def close(self) -> None:
        if self.rb is not None:
            self.rb.close()
        if self.kernel is not None:
            self.kernel.close()
        if self.journal is not None:
            self.journal.close()

    def open_ring(self) -> None:
        """(Re)open the pinned ring buffer: after `detach --all` and a new attach it is a new one."""
        path = os.path.join(loader.MAP_DIR, "events")
        try:
            ino = os.stat(path).st_ino
        except FileNotFoundError:
            ino = None
        if ino == self.rb_ino and (self.rb is not None or ino is None):
            return
        if self.rb is not None:
            self.drain(final=True)
            self.rb.close()
            if self.kernel is not None:
                self.kernel.close()
            self.rb = self.kernel = None
        self.rb_ino = ino
        self.lost_seen = None
        if ino is None or not loader.is_loaded():
            return
        self.kernel = kernel = loader.open_kernel()
        self.rb = libbpf.RingBuffer(kernel.events_fd, self._on_event)
        self.check_lost()

    def check_ring(self) -> None:
        try:
            self.open_ring()
        except BpfsystraceError as e:
            log.error("cannot open the event ring buffer: %s", e.render())

    def _consumer(self) -> bool:
        """Hold the journal's consumer role (a `bpfsystrace log` may have it for a moment)."""
        if self.journal is None:
            try:
                self.journal = journal.Writer.acquire()
                self.journal_err = ""
            except (BpfsystraceError, OSError) as e:
                msg = e.render() if hasattr(e, "render") else str(e)
                if msg != self.journal_err:
                    self.journal_err = msg
                    log.error("cannot open the event journal in %s: %s", journal.DIR, msg)
        return self.journal is not None

    def drain(self, final: bool = False) -> None:
        if self.rb is None or not self._consumer() or self.journal is None:
            time.sleep(TICK_S)
            return
        self.rb.poll(0 if final else int(TICK_S * 1000))
        self.journal.flush()

    def _on_event(self, data: bytes) -> None:
        ev = events.decode(data)
        j = self.journal
        if j is None:  # cannot happen: _drain polls only while it holds the journal
            return
        d = j.write(ev)
        meta = j.meta(ev.gen)  # the generation that decided, even if replaced
        line = d["line"]
        if self.syslog is not None:
            self.syslog.send(line)
        for name, sink in self.outputs:
            if name == "file":
                sink.write(ev, meta)

    def check_lost(self) -> None:
        """Report events the kernel dropped since the last report (also before we started)."""
        if self.kernel is None:
            return
        try:
            lost = maps.counters(self.kernel)[abi.BST_CNT_LOST_EVENTS]
        except BpfsystraceError:
            return
        path = os.path.join(attachments.RUN_DIR, LOST_FILE)
        if self.lost_seen is None:
            try:
                with open(path) as f:
                    ino, seen = (int(x) for x in f.read().split())
                self.lost_seen = seen if ino == self.rb_ino and seen <= lost else 0
            except (OSError, ValueError):
                self.lost_seen = 0
        if lost > self.lost_seen:
            msg = (
                f"{lost - self.lost_seen} events lost: the kernel ring buffer was full "
                f"({lost} since the programs were loaded); decisions were not affected, "
                f"counts in 'bpfsystrace status' and the metrics stay exact"
            )
            log.warning("%s", msg)
            if self.syslog is not None:
                self.syslog.send(msg)
            self.lost_seen = lost
            try:
                write_atomic(path, f"{self.rb_ino} {lost}\n")
            except OSError as e:  # reported again after a restart: said, not fatal
                log.error("cannot record the lost-event count in %s: %s", path, e.strerror)
