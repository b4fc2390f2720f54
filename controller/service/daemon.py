"""The controller service (the daemon): keeps attachments in force and reports what they decide.

Enforcement never depends on this process: the programs, maps and links are
pinned in bpffs. The daemon adds what the kernel cannot do alone:

* attachments from its configuration are made (or adopted, when the pinned
  state already enforces the same policy files: no gap, nothing duplicated);
* every attachment recorded in /run/bpfsystrace is *followed*: when its cgroup
  is removed and created again (systemd does this on every service restart)
  the new cgroup gets the same policy generation within one tick (0.2 s);
* policies are reloaded atomically on SIGHUP and when a policy file changes
  (checked every second, as systrace rereads changed policies; reloaded once the
  files stayed unchanged for one check); a policy that
  does not compile leaves the old one in force, and says why;
* the kernel's event ring buffer is drained to syslog and the log file;
  lost events are counted by the kernel and reported here;
* Prometheus metrics are served from the kernel's counters.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from .. import attachments
from ..kernel import loader
from ..observe import metrics, sinks
from .config import Options
from .events import EventPump
from .notify import PidFile, sd_notify
from .reconciler import Reconciler

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0  # policy file changes, lost events, pending cgroups


class Daemon:
    def __init__(self, opts: Options):
        self.opts = opts
        self.sinks: list[tuple[str, Any]] = []  # ("syslog", sinks.Syslog) / ("file", sinks.LogFile)
        self.syslog: sinks.Syslog | None = None
        if opts.syslog:
            self.syslog = sinks.Syslog(opts.syslog_socket)
            self.sinks.append(("syslog", self.syslog))
        if opts.log_file:
            self.sinks.append(("file", sinks.LogFile(opts.log_file, opts.log_format)))
        self.reconciler = Reconciler(opts.specs, self._alert)
        self.pump = EventPump(self.sinks, self.syslog)
        self.pidfile = PidFile()
        self.stop = False
        self.hup = False
        self.server: Any = None  # metrics.serve's server while the exporter runs

    def run(self) -> int:
        self.pidfile.claim()
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            loader.open_kernel(load=True).close()  # a host that cannot enforce: say so, exit 3
            self.reconciler.start()
            if self.opts.metrics_address:
                self.server = metrics.serve(self.opts.metrics_address, metrics.KernelCollector(self.sinks))
                log.info("serving metrics on http://%s/metrics", self.opts.metrics_address)
            self.pump.open_ring()
            log.info(
                "running: %d attachment(s) followed, %d waiting for their cgroup",
                len(attachments.all_attachments()),
                len(self.reconciler.pending),
            )
            sd_notify("READY=1")
            next_check = 0.0
            while not self.stop:
                self.pump.drain()  # waits up to TICK_S for events
                if self.hup:
                    self.hup = False
                    self.reconciler.reload_all(forced=True)
                self.reconciler.follow()
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + CHECK_EVERY_S
                    self._periodic()
            self.pump.drain(final=True)
            sd_notify("STOPPING=1")
            log.info("stopping; the attachments stay in force (pinned in %s)", loader.PIN_ROOT)
            return 0
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            self._close()

    def _on_signal(self, signum, _frame):
        if signum == signal.SIGHUP:
            self.hup = True
        else:
            self.stop = True

    def _alert(self, text: str) -> None:
        if self.syslog is not None:
            self.syslog.send(text, priority=sinks.LOG_AUTHPRIV | sinks.LOG_CRIT)

    def _periodic(self) -> None:
        self.reconciler.check()
        self.pump.check_lost()
        self.pump.check_ring()

    def _close(self) -> None:
        try:
            if self.server is not None:
                self.server.shutdown()
            self.pump.close()
            for _, s in self.sinks:
                s.close()
        finally:
            self.pidfile.release()
