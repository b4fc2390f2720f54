"""Learn mode: events -> observations per executable.

`Observer` collects (operation, object) pairs per executable from learn
events (each one reported once by the kernel, see bst_learn) and from audit
denials. Events name the task's executable by identity (kernel dev, inode);
the path is found from the execve events that started it, or from
/proc/PID/exe while the process still runs, both compared by identity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..kernel import system
from .generalise import generalise


@dataclass
class Observer:
    by_exe: dict[tuple[int, int], set] = field(default_factory=dict)  # identity -> {(op, obj)}
    interp: dict[tuple[int, int], set] = field(default_factory=dict)  # identity -> {(op, obj)}
    names: dict[tuple[int, int], str] = field(default_factory=dict)  # identity -> path
    comms: dict[tuple[int, int], str] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    events: int = 0
    _ident_cache: dict[str, tuple[int, int] | None] = field(default_factory=dict)

    def identity(self, path: str):
        if path not in self._ident_cache:
            try:
                self._ident_cache[path] = system.file_identity(path)
            except OSError:
                self._ident_cache[path] = None
        return self._ident_cache[path]

    def add(self, ev) -> None:
        """One learn event (or audit denial)."""
        self.events += 1
        if ev.truncated:
            self.truncated.append(f"{ev.op} {ev.obj}...")
            return
        ident = (ev.exe_dev, ev.exe_ino)
        target = self.interp if ev.interp else self.by_exe
        target.setdefault(ident, set()).add((ev.op, ev.obj))
        self.comms.setdefault(ident, ev.comm)
        if ev.op == "execve":
            self._name(self.identity(ev.obj), os.path.realpath(ev.obj))
        if ident not in self.names and not ev.interp:
            try:
                exe = os.readlink(f"/proc/{ev.pid}/exe")
            except OSError:
                exe = None
            if exe and self.identity(exe) == ident:
                self._name(ident, exe)

    def _name(self, ident, path) -> None:
        if ident is not None and ident not in self.names:
            self.names[ident] = path

    def policies(self) -> tuple[dict[str, set], list[str]]:
        """{binary path: observations} for every executable that ran, and the unnamed ones."""
        out: dict[str, set] = {}
        unnamed: list[str] = []
        for ident, seen in self.by_exe.items():
            name = self.names.get(ident)
            if name is None:
                unnamed.append(
                    f"{self.comms.get(ident, '?')} (device {ident[0]}, inode "
                    f"{ident[1]}): {len(seen)} operations"
                )
                continue
            out.setdefault(name, set()).update(seen | self.interp.get(ident, set()))
        return out, unnamed

    def rule_count(self, collapse: int, ephemeral: bool) -> int:
        return sum(len(generalise(s, collapse, ephemeral)) for s in self.by_exe.values())
