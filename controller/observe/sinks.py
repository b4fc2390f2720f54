"""Where decision events go: syslog (systrace's lines) and an optional log file.

Both take events.systrace_line(), which escapes control characters in names
(escape.py), so no event can forge a line of its own.

Syslog: facility AUTHPRIV, priority WARNING, tag `bpfsystrace[PID]`, sent as
datagrams to the local syslog socket (/dev/log unless told otherwise), the
same way syslog(3) does. A syslog daemon that is down or slow never blocks
decisions and never stops the controller: the message is counted as dropped,
the failure logged once, and sending resumes when the socket works again.

Log file: one line per event, systrace's text or a JSON object
(`--log-format json`), appended to a file or written to stdout (`-`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from typing import TextIO

from .. import abi
from . import events

log = logging.getLogger(__name__)

LOG_AUTHPRIV = 10 << 3
LOG_WARNING = 4
LOG_CRIT = 2
DEFAULT_SYSLOG_SOCKET = "/dev/log"


def event_dict(ev: events.Event, meta) -> dict:
    """The JSON form of an event (docs/operations.md lists every field).

    `policy` and `rule` are names (the policy's program, the rule's file:line:col
    or what decided); the kernel's indexes are kept as `policy_id` and `rule_id`."""
    out = {f: getattr(ev, f) for f in ev.__slots__}
    out["policy_id"], out["rule_id"] = out.pop("policy"), out.pop("rule")
    out["action"] = ev.action  # deny, permit, audit_deny, learn
    out["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(events.wall_time(ev.ts_ns)))
    out["line"] = events.systrace_line(ev, meta)
    out["policy"] = f"generation {ev.gen} policy {ev.policy}"
    out["rule"] = "unknown (the generation's meaning is no longer recorded)"
    if ev.rule == abi.BST_RULE_NONE:
        out["rule"] = "none (not decidable in the kernel: denied)"
    if meta is not None and meta.gen == ev.gen:
        out["cgroup"] = meta.cgroup
        out["policy"] = out["policy_name"] = meta.policy_name(ev.policy)
        if ev.rule < len(meta.rules):
            r = meta.rules[ev.rule]
            out["rule"] = r["where"] or r["text"]
            out["rule_text"] = r["text"]
            if r["where"]:
                out["rule_where"] = r["where"]
    return out


class Syslog:
    """systrace lines to the syslog socket; never raises, counts what it could not send."""

    def __init__(self, path: str = DEFAULT_SYSLOG_SOCKET, ident: str = "bpfsystrace"):
        self.path = path
        self.tag = f"{ident}[{os.getpid()}]"
        self.sock: socket.socket | None = None
        self.sent = 0
        self.dropped = 0
        self._failing = False

    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        s.settimeout(1.0)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            raise
        return s

    def send(self, text: str, priority: int = LOG_AUTHPRIV | LOG_WARNING) -> bool:
        stamp = time.strftime("%b %e %H:%M:%S")
        data = f"<{priority}>{stamp} {self.tag}: {text}".encode(errors="replace")
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self.sock = self._connect()
                self.sock.send(data)
                self.sent += 1
                if self._failing:
                    log.warning("syslog socket %s works again", self.path)
                    self._failing = False
                return True
            except OSError as e:
                if self.sock is not None:
                    self.sock.close()
                    self.sock = None
                if attempt == 2:
                    self.dropped += 1
                    if not self._failing:
                        log.error(
                            "cannot send to syslog at %s (%s): events are dropped from "
                            "syslog (and counted) until it works again",
                            self.path,
                            e.strerror or e,
                        )
                        self._failing = True
        return False

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class LogFile:
    """Events as text or JSON lines, to a file (appended, reopened after rotation) or stdout."""

    def __init__(self, path: str, fmt: str = "text"):
        if fmt not in ("text", "json"):
            raise ValueError(fmt)
        self.path, self.fmt = path, fmt
        self.f: TextIO | None = None
        self._ino: int | None = None
        self.written = 0
        self.dropped = 0

    def _open(self):
        if self.path == "-":
            return sys.stdout
        f = open(self.path, "a", buffering=1)
        self._ino = os.fstat(f.fileno()).st_ino
        return f

    def _rotated(self) -> bool:
        if self.path == "-" or self._ino is None:
            return False
        try:
            return os.stat(self.path).st_ino != self._ino
        except FileNotFoundError:
            return True

    def write(self, ev: events.Event, meta) -> None:
        line = json.dumps(event_dict(ev, meta)) if self.fmt == "json" else events.systrace_line(ev, meta)
        try:
            if self.f is None or self._rotated():
                if self.f not in (None, sys.stdout):
                    self.f.close()
                self.f = self._open()
            self.f.write(line + "\n")
            self.f.flush()
            self.written += 1
        except OSError as e:
            self.dropped += 1
            log.error("cannot write event to %s: %s", self.path, e)
            self.f = None

    def close(self) -> None:
        if self.f not in (None, sys.stdout):
            self.f.close()
        self.f = None
