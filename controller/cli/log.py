"""log: print decision events from the event journal, in systrace's format or as JSON."""

from __future__ import annotations

import argparse
import json
import time

from ..errors import EXIT_OK
from ..kernel import system
from ..observe import journal


class LogCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "log",
            help="print denials (and `log` rule matches) recorded by the kernel",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description=f"""\
Print each decision event as systrace would log it: every denial and every
permitted match of a rule marked `log`. Events are read from the event
journal ({journal.DIR}/{journal.NAME}, rotated at {journal.MAX_BYTES >> 20} MiB,
{journal.KEEP} files), so every reader sees every event: reading takes none
away. The daemon moves events from the kernel's buffer into the journal; when
it does not run, `log` itself does first. Each event names the policy and rule
of the generation that decided it, also after a reload.""",
            epilog="""\
examples:
  bpfsystrace log                                 every event in the journal
  bpfsystrace log --follow --cgroup named.slice   new events of one attachment
  bpfsystrace log --since 10m --policy /usr/sbin/named
  bpfsystrace log --json -n 1                     the last event (its "seq" field)
  bpfsystrace log --json --after 1234             events after seq 1234""",
        )
        p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
        p.add_argument(
            "--json", action="store_true", help="one JSON object per line (fields: docs/operations.md)"
        )
        p.add_argument(
            "--since",
            metavar="TIME",
            help="only events since TIME: 2026-11-29T04:00:00 (UTC), or 30s, 10m, 2h, 1d ago",
        )
        p.add_argument("--cgroup", metavar="CGROUP", help="only events of this attachment")
        p.add_argument(
            "--policy",
            metavar="PROGRAM",
            help="only events decided by this program's policy (its Policy: path, or 'default')",
        )
        p.add_argument(
            "--after", type=int, default=0, metavar="SEQ", help="only events after sequence number SEQ"
        )
        p.add_argument("-n", "--lines", type=int, metavar="N", help="only the last N events")
        p.set_defaults(handler=cmd_log)


def _filter(args):
    from .learn import parse_since

    since = parse_since(args.since)
    cg = system.resolve_cgroup(args.cgroup) if args.cgroup else None

    def keep(d: dict) -> bool:
        if since and journal.wall(d) < since:
            return False
        if cg and d.get("cgroup") != cg:
            return False
        if args.policy:
            name = d.get("policy", "")
            if not (name == args.policy or (args.policy == "default" and name.startswith("default ("))):
                return False
        return True

    return keep


def cmd_log(args) -> int:
    keep = _filter(args)
    journal.drain()
    reader = journal.Reader(after=args.after)

    def show(d: dict) -> None:
        print(json.dumps(d) if args.json else d.get("line", ""), flush=True)

    try:
        batch = [d for d in reader.read() if keep(d)]
        for d in batch[max(0, len(batch) - args.lines) :] if args.lines is not None else batch:
            show(d)
        while args.follow:
            journal.drain(200)  # waits for events when this process is the consumer
            time.sleep(0.05)
            for d in reader.read():
                if keep(d):
                    show(d)
    finally:
        reader.close()
    return EXIT_OK
