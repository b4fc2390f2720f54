"""watch: decisions live, and the rule for a denial written on the spot (systrace -a's
real-time interface; aa-logprof's review)."""

from __future__ import annotations

import argparse
import curses
import errno as _errno
import sys
import textwrap
import time

from ..errors import EXIT_OK
from ..kernel import system
from ..learn import watch
from ..observe import source

HELP = "up/down select  a rule  Enter write  d deny  i ignore  q quit"


class WatchCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "watch",
            help="live view of decisions; permit or deny a denial on the spot",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Show, as they happen, the allowed/denied counts of every attachment and
policy and the newest denials (newest selected; arrow keys move), each with
the rule that would permit it. On the selected denial:
  a      show the rule that would be added (as 'suggest --merge' writes it:
         after the policy's last rule, hand-written text kept)
  Enter  write it into the policy file and reload atomically (a policy that
         is rejected leaves the old one in force and the file as it was)
  d      the same with a deny rule: asks for the errno (eperm, eacces, ...)
  i      ignore this denial from now on
  q      quit
The kernel cannot wait for a person: the denied call has failed already; the
next one is decided by the new rule. Without a terminal on standard output,
one line per denial is printed instead (with the suggested rule).

Events are read from the event journal, like 'bpfsystrace log': the daemon, or
without it watch itself, moves them there from the kernel, so watch takes
nothing away from the daemon's syslog or another reader.""",
            epilog="""\
examples:
  bpfsystrace watch
  bpfsystrace watch --cgroup named.slice
  bpfsystrace watch --cgroup named.slice | tee denials.txt   # plain lines""",
        )
        p.add_argument("--cgroup", metavar="CGROUP", help="only this attachment")
        p.set_defaults(handler=cmd_watch)


def cmd_watch(args) -> int:
    model = watch.Model(system.resolve_cgroup(args.cgroup) if args.cgroup else None)
    src = source.JournalSource()
    try:
        if not sys.stdout.isatty():
            return _stream(model, src)
        return curses.wrapper(lambda scr: _Screen(scr, model, src).loop())
    finally:
        src.close()


def _stream(model, src) -> int:
    while True:
        for ev in src.poll(200):
            d = model.add(ev)
            if d is not None:
                e = watch.propose(d)
                rule = "; ".join(e.lines) if e.lines else e.why_none
                print(f"{time.strftime('%H:%M:%S')} {_line(d)}\n    would permit: {rule}", flush=True)


def _line(d) -> str:
    verdict = "audit deny" if d.audit else f"deny {_errno.errorcode.get(d.errno, d.errno)}"
    obj = d.obj.replace("\0", ", ")
    times = f" (x{d.count})" if d.count > 1 else ""
    return f"{verdict} {d.op} {obj}{times}  [{d.policy}]"


class _Screen:
    def __init__(self, scr, model, src):
        self.scr, self.model, self.src = scr, model, src
        self.sel = 0
        self.pending = None  # (Edit, denial) shown, written on Enter
        self.msg = ""
        self.counted = 0.0
        self._prop = None  # (denial key, Edit): what the selected one would add

    def loop(self) -> int:
        curses.curs_set(0)
        self.scr.timeout(200)
        while True:
            for ev in self.src.poll(0):
                if self.model.add(ev) is not None and self.sel:
                    self.sel += 1  # keep the same denial selected
            if time.monotonic() - self.counted > 1:
                self.model.refresh_counts()
                self.counted = time.monotonic()
            self.draw()
            key = self.scr.getch()
            if key in (ord("q"), ord("Q")):
                return EXIT_OK
            self.key(key)

    def selected(self):
        ds = self.model.denials
        if not ds:
            return None
        self.sel = max(0, min(self.sel, len(ds) - 1))
        return ds[self.sel]

    def key(self, key) -> None:
        d = self.selected()
        if key == curses.KEY_UP:
            self.sel, self.pending = max(0, self.sel - 1), None
        elif key == curses.KEY_DOWN:
            self.sel, self.pending = self.sel + 1, None
        elif d is None:
            return
        elif key == ord("a"):
            self.show(watch.propose(d), d)
        elif key == ord("d"):
            name = self.ask("deny with errno (eperm, eacces, enoent, ...): ") or "eperm"
            if not watch.valid_errno(name):
                self.msg = f"unknown errno {name!r}"
                return
            self.show(watch.propose(d, name.strip().lower()), d)
        elif key in (curses.KEY_ENTER, 10, 13) and self.pending:
            edit, pd = self.pending
            self.pending = None
            self.msg = watch.apply(edit, pd)
            self._prop = None
            if edit.lines and not self.msg.startswith("reload refused"):
                self.model.ignore(pd)
        elif key == ord("i"):
            self.model.ignore(d)
            self.pending, self.msg = None, f"ignoring {d.op} {d.obj} of {d.policy}"

    def proposal(self, d):
        if self._prop is None or self._prop[0] != d.key:
            self._prop = (d.key, watch.propose(d))
        return self._prop[1]

    def show(self, edit, d) -> None:
        if edit.why_none:
            self.pending, self.msg = None, edit.why_none
        else:
            self.pending = (edit, d)
            self.msg = f"Enter adds to {edit.path}: " + "; ".join(edit.lines)

    def ask(self, prompt: str) -> str:
        h, w = self.scr.getmaxyx()
        self.scr.move(h - 1, 0)
        self.scr.clrtoeol()
        self.put(h - 1, 0, prompt, curses.A_BOLD)
        curses.echo()
        curses.curs_set(1)
        self.scr.timeout(-1)
        try:
            return self.scr.getstr(h - 1, min(len(prompt), w - 2), 20).decode(errors="replace")
        finally:
            curses.noecho()
            curses.curs_set(0)
            self.scr.timeout(200)

    def put(self, y, x, text, attr=0) -> None:
        h, w = self.scr.getmaxyx()
        if 0 <= y < h and x < w:
            try:
                self.scr.addnstr(y, x, text, w - x - (1 if y == h - 1 else 0), attr)
            except curses.error:
                pass

    def draw(self) -> None:
        s = self.scr
        s.erase()
        h, w = s.getmaxyx()
        self.put(0, 0, "bpfsystrace watch  " + HELP, curses.A_REVERSE)
        y = 1
        for cg, pol, allowed, denied in self.model.counts[: max(1, h // 4)]:
            where = "" if self.model.cgroup else f"  [{cg.rsplit('/', 1)[-1]}]"
            self.put(y, 0, f"{allowed:>6} allowed {denied:>6} denied  {pol}{where}")
            y += 1
        self.put(y, 0, "newest denials", curses.A_BOLD)
        y += 1
        d = self.selected()
        bottom = []  # wrapped, so a long path and rule fit 80 columns
        if d is not None:
            edit = self.pending[0] if self.pending else self.proposal(d)
            what = "; ".join(edit.lines) if edit.lines else edit.why_none
            bottom += _wrap(f"{d.policy}: decided by {d.rule or 'no rule matched'}", w, 2)
            bottom += _wrap(f"{'will add' if self.pending else 'would permit'}: {what}", w, 4)
        bottom += _wrap(self.msg, w, 3)
        rows = max(1, h - y - len(bottom) - 1)
        ds = self.model.denials
        top = max(0, self.sel - rows + 1)
        for i, den in enumerate(ds[top : top + rows]):
            attr = curses.A_REVERSE if top + i == self.sel else 0
            self.put(y + i, 0, f"{time.strftime('%H:%M:%S', time.localtime(den.time))} {_line(den)}", attr)
        for i, text in enumerate(bottom):
            self.put(h - len(bottom) + i, 0, text)
        s.refresh()


def _wrap(text: str, width: int, most: int) -> list[str]:
    lines = textwrap.wrap(
        text, max(20, width - 1), break_long_words=True, break_on_hyphens=False, subsequent_indent="  "
    ) or [""]
    return lines[:most]
