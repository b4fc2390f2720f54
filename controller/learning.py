"""Learn mode and suggestions: events -> observations per executable -> files.

`Observer` collects (operation, object) pairs per executable from learn
events (each one reported once by the kernel, see bst_learn) and from audit
denials. Events name the task's executable by identity (kernel dev, inode);
the path is found from the execve events that started it, or from
/proc/PID/exe while the process still runs, both compared by identity.

`write_policies` turns what was observed into one systrace policy file per
executable in a directory (systrace's naming), or merges into the files that
already hold those executables' policies.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from . import learn, pipeline
from .errors import PolicyError, UsageError
from .kernel import system
from .model import check as check_mod
from .policy import parse_file

log = logging.getLogger(__name__)


@dataclass
class Observer:
    by_exe: dict[tuple[int, int], set] = field(default_factory=dict)   # identity -> {(op, obj)}
    interp: dict[tuple[int, int], set] = field(default_factory=dict)   # identity -> {(op, obj)}
    names: dict[tuple[int, int], str] = field(default_factory=dict)    # identity -> path
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
        out, unnamed = {}, []
        for ident, seen in self.by_exe.items():
            name = self.names.get(ident)
            if name is None:
                unnamed.append(f"{self.comms.get(ident, '?')} (device {ident[0]}, inode "
                               f"{ident[1]}): {len(seen)} operations")
                continue
            out.setdefault(name, set()).update(seen | self.interp.get(ident, set()))
        return out, unnamed

    def rule_count(self, collapse: int, ephemeral: bool) -> int:
        return sum(len(learn.generalise(s, collapse, ephemeral))
                   for s in self.by_exe.values())


@dataclass
class Written:
    path: str
    binary: str
    added: int
    merged: bool
    denied_by_hand: list


def existing_policies(outdir: str) -> dict[str, tuple[str, object]]:
    """binary -> (file, checked Policy) for the policy files already in outdir."""
    out = {}
    if not os.path.isdir(outdir):
        return out
    for path in pipeline.policy_files([outdir]) if os.listdir(outdir) else []:
        policies, _ = check_mod.check([parse_file(path)])
        for pol in policies:
            out[os.path.realpath(pol.binary)] = (path, pol)
    return out


def write_policies(outdir: str, observed: dict[str, set], merge: bool, force: bool,
                   collapse: int, ephemeral: bool, comment: list[str]) -> list[Written]:
    """One file per binary in outdir; with merge, append to the file holding its policy."""
    os.makedirs(outdir, exist_ok=True)
    have = existing_policies(outdir) if merge else {}
    plans = []
    for binary in sorted(observed):
        seen = observed[binary]
        if os.path.realpath(binary) in have:
            path, pol = have[os.path.realpath(binary)]
            with open(path) as f:
                text = f.read()
            res = learn.merge_text(text, pol, seen, collapse, ephemeral, comment[0].lstrip("# "))
            plans.append((path, res.text, Written(path, binary, len(res.added), True,
                                                  res.denied_by_hand)))
            continue
        path = os.path.join(outdir, learn.policy_filename(binary))
        if os.path.exists(path) and not force:
            raise UsageError(f"{path} exists: use --merge to add to it or --force to replace it")
        rules = learn.generalise(seen, collapse, ephemeral)
        plans.append((path, learn.policy_text(binary, rules, comment),
                      Written(path, binary, len(rules), False, [])))
    # nothing is written unless every file checks
    for path, text, _ in plans:
        _check_text(path, text)
    for path, text, _ in plans:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return [w for _, _, w in plans]


def _check_text(path: str, text: str) -> None:
    from .policy import parse
    try:
        check_mod.check([parse(text, path)])
    except PolicyError as e:      # a bug in the writer: say which file
        raise PolicyError(e.diagnostics) from None
