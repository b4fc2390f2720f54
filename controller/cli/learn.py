"""learn, suggest: write policies from what processes did (systrace -A, aa-logprof)."""

from __future__ import annotations

import argparse
import calendar
import re
import shlex
import signal
import sys
import tempfile
import time

from .. import abi, attachments, learn
from ..errors import EXIT_OK, PolicyError, TargetError, UsageError, require_root
from ..kernel import loader, maps, system
from ..learn import denials
from ..observe import journal
from ..observe.escape import escape


def _say(msg: str) -> None:
    print(f"bpfsystrace: {msg}", file=sys.stderr, flush=True)


def _writer_options(p) -> None:
    p.add_argument(
        "--collapse",
        type=int,
        default=0,
        metavar="N",
        help="more than N objects of one operation in one directory become one "
        "rule 'match \"DIR/*\"' (default 0: never)",
    )
    p.add_argument(
        "--no-ephemeral",
        dest="ephemeral",
        action="store_false",
        help="keep binds to port 0 as observed instead of 'match \"inet-*:0\"'",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--merge",
        action="store_true",
        help="add what is new to the policy files already in DIR (hand-written "
        "rules stay as they are, in their order; new rules follow them)",
    )
    g.add_argument("--force", action="store_true", help="replace existing files in DIR")


class LearnCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "learn",
            help="watch a cgroup and write a policy per executable (systrace -A)",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Attach to the cgroup in learn mode: every file open, bind, connect and exec of
its processes (and of its descendant cgroups) is permitted, and each distinct
(executable, operation, object) is reported once by the kernel (repeats are
only counted, so a busy daemon does not flood the event buffer). When the
duration is over (or on Ctrl-C / SIGTERM) the cgroup is detached and one
systrace policy per executable is written to DIR, named as systrace names them
(/usr/sbin/named -> DIR/usr_sbin_named). Review them, then
'bpfsystrace attach --mode audit' and finally enforce (docs/learning.md).

The cgroup must not be attached. Events are read through the event journal
(see 'bpfsystrace log'), so the daemon and 'bpfsystrace log' may run at the
same time: nothing is missed.""",
            epilog="""\
examples:
  bpfsystrace learn --cgroup named.slice --duration 600 -o policies/
  bpfsystrace learn --cgroup web.slice --collapse 8 -o policies/ --merge""",
        )
        p.add_argument(
            "--cgroup",
            required=True,
            metavar="CGROUP",
            help="the cgroup to learn on (as for attach: relative to the cgroup2 "
            "mount, or absolute); it must not be attached",
        )
        p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the policy files")
        p.add_argument(
            "--duration",
            type=float,
            metavar="S",
            help="learn for S seconds (default: until Ctrl-C or SIGTERM)",
        )
        p.add_argument(
            "--manager",
            default="auto",
            metavar="auto|none|PATH",
            help="as for attach: the service manager's children are not watched",
        )
        p.add_argument(
            "--progress",
            type=float,
            default=2.0,
            metavar="S",
            help="seconds between progress lines (default 2; 0: none)",
        )
        _writer_options(p)
        p.set_defaults(handler=cmd_learn)


def cmd_learn(args) -> int:
    require_root("learn")
    cgpath = system.resolve_cgroup(args.cgroup)
    cgid = system.cgroup_id(cgpath)
    targets, _ = attachments.status()
    if any(t.cgroup_id == cgid for t in targets):
        raise TargetError(f"{cgpath} is attached: detach it before learning on it")
    if args.merge:
        learn.existing_policies(args.output)  # unreadable policies fail now, not after
    started = time.time()
    meta = attachments.attach(args.cgroup, [], "permit", args.manager, mode="learn")
    _say(
        f"learning on {meta.cgroup} (generation {meta.gen}); "
        + (f"for {args.duration:g} s" if args.duration else "Ctrl-C to stop")
    )
    obs = learn.Observer()

    def on_event(d: dict) -> None:
        ev = journal.to_event(d)
        if ev.target_id == meta.cgroup_id and ev.gen == meta.gen and ev.learn:
            obs.add(ev)

    stop = False

    def on_signal(_sig, _frame):
        nonlocal stop
        stop = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    k = None
    reader = journal.Reader(after=journal.last_seq())  # events read through the journal
    try:
        k = loader.open_kernel()
        base = maps.counters(k)[abi.BST_CNT_LEARN_SEEN]
        last = time.monotonic()
        while not stop and (not args.duration or time.time() - started < args.duration):
            journal.drain(200)
            time.sleep(0.05)
            for d in reader.read():
                on_event(d)
            if args.progress and time.monotonic() - last >= args.progress:
                last = time.monotonic()
                repeats = maps.counters(k)[abi.BST_CNT_LEARN_SEEN] - base
                _progress(obs, repeats, args)
        repeats = maps.counters(k)[abi.BST_CNT_LEARN_SEEN] - base
        journal.drain_around(lambda: attachments.detach(args.cgroup))  # loses nothing
        for d in reader.read():
            on_event(d)
    finally:
        # never leave a permit-everything attachment behind
        if any(
            t.cgroup_id == meta.cgroup_id and t.meta and t.meta.mode == "learn"
            for t in attachments.status()[0]
        ):
            attachments.detach(args.cgroup)
        reader.close()
        if k is not None:
            k.close()
        for s, h in old.items():
            signal.signal(s, h)
    seconds = time.time() - started
    _say(f"stopped after {seconds:.0f} s: {obs.events + repeats} events seen, {obs.events} distinct")
    command = "bpfsystrace " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "bpfsystrace learn"
    comment = learn.header(command, meta.cgroup, started, seconds, obs.events)
    _write(args, obs, comment)
    return EXIT_OK


def _progress(obs, repeats: int, args) -> None:
    rules = obs.rule_count(args.collapse, args.ephemeral)
    _say(
        f"learning: {obs.events + repeats} events seen ({obs.events} distinct), "
        f"{len(obs.by_exe)} executables, {rules} rules so far"
    )


def _write(args, obs, comment) -> None:
    observed, unnamed = obs.policies()
    for u in unnamed:
        _say(
            f"note: no policy written for an executable whose path could not be found "
            f"(it exec'd or exited before it was read, e.g. a launcher's child before its "
            f"exec): {escape(u)}"
        )
    for t in obs.truncated[:10]:
        _say(f"warning: object longer than {abi.BST_EVENT_STR - 1} bytes not learned: {escape(t)}")
    if not observed:
        _say("nothing observed: no policy written")
        return
    try:
        written = learn.write_policies(
            args.output, observed, args.merge, args.force, args.collapse, args.ephemeral, comment
        )
    except (UsageError, PolicyError, OSError) as e:
        # what was learned is not lost: write it where nothing can conflict
        spare = tempfile.mkdtemp(prefix="bpfsystrace-learned-")
        learn.write_policies(spare, observed, False, True, args.collapse, args.ephemeral, comment)
        _say(f"cannot write to {args.output}; the learned policies are in {spare}")
        raise e
    for w in written:
        how = "merged into" if w.merged else "wrote"
        _say(f"{how} {w.path}: {w.binary}, {w.added} new rule{'s' * (w.added != 1)}")
        for op, obj, where in w.denied_by_hand:
            _say(f"  kept denied by the rule at {where}: {op} {obj}")


class SuggestCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "suggest",
            help="turn audit-mode denials into the rules that would permit them",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Read audit denials ('attach --mode audit': what the policy would have denied)
and write the permit rules that would allow them, per policy, as learn does.
Events come from JSON event logs (--from: the daemon's '--log-file F
--log-format json', or 'bpfsystrace log --json > F'); without --from, from
the event journal ('bpfsystrace log' reads it too; nothing is consumed).
Without -o the rules are printed; with -o DIR --merge they are appended to the
policy files in DIR (hand-written rules stay first, and what a written rule
denies is reported, never overridden).""",
            epilog="""\
examples:
  bpfsystrace suggest --from /var/log/bpfsystrace/events.json --since 2h
  bpfsystrace suggest --from events.json --cgroup named.slice -o /etc/systrace --merge""",
        )
        p.add_argument(
            "--from",
            dest="sources",
            action="append",
            metavar="FILE",
            help="JSON event log (repeatable); default: the event journal",
        )
        p.add_argument(
            "--since",
            metavar="TIME",
            help="only events since TIME: 2026-11-29T04:00:00 (UTC), or 30s, 10m, 2h, 1d ago",
        )
        p.add_argument("--cgroup", metavar="CGROUP", help="only events of this attachment")
        p.add_argument(
            "--denied", action="store_true", help="also use enforced denials, not only audit-mode ones"
        )
        p.add_argument("-o", "--output", metavar="DIR", help="write policy files to DIR")
        _writer_options(p)
        p.set_defaults(handler=cmd_suggest)


def parse_since(text: str | None, now: float | None = None) -> float:
    if not text:
        return 0.0
    now = time.time() if now is None else now
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if m:
        return now - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    for fmt in (
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ):
        try:
            return float(calendar.timegm(time.strptime(text.strip(), fmt)))
        except ValueError:
            continue
    raise UsageError(f"--since {text}: use 2026-11-29T04:00:00 (UTC) or 30s, 10m, 2h, 1d")


def cmd_suggest(args) -> int:
    since = parse_since(args.since)
    cgpath = system.resolve_cgroup(args.cgroup) if args.cgroup else None
    actions = {"audit_deny"} | ({"deny"} if args.denied else set())
    observed, skipped, n = denials.by_policy(denials.records(args.sources), since, cgpath, actions)
    if skipped:
        _say(
            f"{len(skipped)} denials under the default policy (processes without a policy "
            f"of their own) have no policy to go to: " + "; ".join(sorted(set(skipped))[:10])
        )
    if not observed:
        _say(f"no audit denials to turn into rules ({n} events matched)")
        return EXIT_OK
    comment = learn.header(
        "bpfsystrace " + shlex.join(sys.argv[1:]), cgpath or "(any)", time.time(), 0, n, what="suggested"
    )
    comment[0] = comment[0].replace(" (0 s)", "")
    if args.output:
        for w in learn.write_policies(
            args.output, observed, args.merge, args.force, args.collapse, args.ephemeral, comment
        ):
            how = "merged into" if w.merged else "wrote"
            _say(f"{how} {w.path}: {w.binary}, {w.added} new rule{'s' * (w.added != 1)}")
            for op, obj, where in w.denied_by_hand:
                _say(f"  kept denied by the rule at {where}: {op} {obj}")
        return EXIT_OK
    for binary in sorted(observed):
        rules = learn.generalise(observed[binary], args.collapse, args.ephemeral)
        sys.stdout.write(learn.policy_text(binary, rules, comment))
    return EXIT_OK
