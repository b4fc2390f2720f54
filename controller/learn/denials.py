"""suggest's input: audit denials from JSON event logs or the journal, per policy."""

from __future__ import annotations

import calendar
import json
import time

from ..errors import UsageError
from ..observe import journal


def records(sources: list[str] | None):
    """(time, cgroup, policy name, op, obj, action, truncated) of every event.

    From the JSON event logs `sources`, or (None) from the event journal."""
    if sources:
        for path in sources:
            try:
                f = open(path)
            except OSError as e:
                raise UsageError(f"--from {path}: {e.strerror}") from None
            with f:
                for line in f:
                    try:
                        d = json.loads(line)
                        t = calendar.timegm(time.strptime(d["time"], "%Y-%m-%dT%H:%M:%SZ"))
                        yield (
                            t,
                            d.get("cgroup"),
                            d.get("policy_name"),
                            d["op"],
                            d["obj"],
                            d["action"],
                            d.get("truncated", False),
                        )
                    except (ValueError, KeyError, TypeError):
                        continue
        return
    journal.drain()  # events still in the kernel's buffer, if no daemon
    reader = journal.Reader()
    try:
        for d in reader.read():
            yield (
                journal.wall(d),
                d.get("cgroup"),
                d.get("policy_name"),
                d["op"],
                d["obj"],
                d["action"],
                d.get("truncated", False),
            )
    finally:
        reader.close()


def by_policy(recs, since: float, cgpath: str | None, actions: set[str]):
    """({policy name: {(op, obj)}}, denials under the default policy, events matched)."""
    observed: dict[str, set] = {}
    skipped, n = [], 0
    for t, cg, name, op, obj, action, trunc in recs:
        if action not in actions or t < since or (cgpath and cg != cgpath) or trunc:
            continue
        n += 1
        if not name or name.startswith("default (") or name.startswith("generation "):
            skipped.append(f"{op} {obj}")
            continue
        observed.setdefault(name, set()).add((op, obj))
    return observed, skipped, n
