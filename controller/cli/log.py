"""log: print the kernel's decision events in systrace's format."""
from __future__ import annotations

import json
import time

from .. import attachments
from ..errors import EXIT_OK
from ..kernel import libbpf, loader
from ..observe import events, sinks


class Log:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "log", help="print denials (and `log` rule matches) recorded by the kernel",
            description="Drain the kernel's event ring buffer and print each event as systrace "
                        "would log it: every denial and every permitted match of a rule marked "
                        "`log`. Events wait in the pinned buffer (1 MiB) until read; when it is "
                        "full, newer events are counted as lost (see status), decisions are not "
                        "affected.")
        p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
        p.add_argument("--json", action="store_true", help="one JSON object per line")
        p.set_defaults(run=run)


def run(args) -> int:
    k = loader.open_kernel()
    metas: dict[int, object] = {}

    def show(data: bytes) -> None:
        ev = events.decode(data)
        if ev.target_id not in metas or getattr(metas[ev.target_id], "gen", None) != ev.gen:
            metas[ev.target_id] = attachments.load_attachment(ev.target_id)
        if args.json:
            print(json.dumps(sinks.event_dict(ev, metas[ev.target_id])), flush=True)
        else:
            print(events.systrace_line(ev, metas[ev.target_id]), flush=True)

    rb = libbpf.RingBuffer(k.events_fd, show)
    try:
        while True:
            n = rb.poll(200)
            if not args.follow and n == 0:
                break
            if args.follow and n == 0:
                time.sleep(0.05)
    finally:
        rb.close()
        k.close()
    return EXIT_OK
