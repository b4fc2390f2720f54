"""run: one command confined from its first instruction (systrace -a, firejail)."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time

from .. import abi, attachments, learn
from ..attachments import runner
from ..compile import pipeline
from ..errors import UsageError
from ..kernel import loader, system
from ..model import reference
from ..observe import events
from . import learn as learn_cli


def _say(msg: str) -> None:
    print(f"bpfsystrace: {msg}", file=sys.stderr, flush=True)


class RunCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "run",
            help="run one command confined by its policy, in a cgroup of its own",
            usage="bpfsystrace run [-h] [--policy FILE|DIR] [--default deny|permit|FILE]\n"
            "                       [--mode enforce|audit|learn] [-o DIR] [--collapse N]\n"
            "                       [--no-ephemeral] [--merge | --force] -- CMD [ARGS...]",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Run CMD confined from its first instruction: a fresh cgroup is made (a systemd
scope when systemd is PID 1, otherwise bpfsystrace-run-PID under the cgroup2
root), the policies are attached to it, and only then does CMD exec inside it.
Standard input, output and error are CMD's; signals sent to bpfsystrace go to
CMD (Ctrl-C reaches CMD directly). bpfsystrace exits with CMD's status (128+N
when CMD was killed by signal N). When CMD exits, or bpfsystrace gets SIGINT or
SIGTERM, whatever CMD left running in the cgroup is killed, the attachment is
removed and so is the cgroup.

CMD runs under the policy whose 'Policy:' header names its executable; without
one it runs under --default, whose execve rules must permit CMD itself (with
--default deny nothing would run: bpfsystrace says so before starting).
--mode learn permits everything and writes a policy per executable CMD ran to
-o DIR when it exits (systrace -A); review it, then run with --policy DIR.""",
            epilog="""\
examples:
  bpfsystrace run --policy policies/usr_sbin_named -- /usr/sbin/named -g -u bind
  bpfsystrace run --policy /etc/systrace/ --mode audit -- ./build.sh   # report, do not deny
  bpfsystrace run --mode learn -o policies/ -- curl -s https://example.org/
  bpfsystrace run --policy policies/ --default permit -- make test""",
        )
        p.add_argument(
            "--policy",
            action="append",
            default=[],
            metavar="FILE|DIR",
            help="policy file or directory (repeatable)",
        )
        p.add_argument(
            "--default",
            default="deny",
            metavar="deny|permit|FILE",
            help="policy of processes whose executable has none (default: deny)",
        )
        p.add_argument(
            "--mode",
            choices=attachments.MODES,
            default="enforce",
            help="enforce (default), audit (report denials, permit them) or learn "
            "(permit everything, write policies to -o DIR when CMD exits)",
        )
        p.add_argument("-o", "--output", metavar="DIR", help="--mode learn: where policies go")
        learn_cli._writer_options(p)
        p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
        p.set_defaults(handler=cmd_run)


def cmd_run(args) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        raise UsageError("no command given: bpfsystrace run [OPTIONS] -- CMD [ARGS...]")
    if args.mode == "learn" and not args.output:
        raise UsageError("--mode learn needs -o DIR, where the learned policies are written")
    if args.mode == "learn" and args.merge:
        learn.existing_policies(args.output)
    path = runner.resolve_command(argv[0])
    if args.mode != "learn":
        check_covered(args, path)
    system.cgroup2_root()
    child = runner.Confined(path, argv)
    got: list[int] = []

    def on_signal(signum, _frame):
        got.append(signum)
        child.forward(signum)

    old = {s: signal.signal(s, on_signal) for s in runner.FORWARD}
    tty = _Foreground(child.pid)
    try:
        cg = child.enter_cgroup()
        if args.mode == "learn":
            return _learn(args, child, cg, argv, tty)
        meta = attachments.attach(cg, args.policy, args.default, "none", mode=args.mode)
        child.attached = True
        if args.verbose:
            _say(
                f"{'auditing' if args.mode == 'audit' else 'enforcing'} on {meta.cgroup} "
                f"(generation {meta.gen}); running {shlex.join(argv)}"
            )
        tty.give()
        child.start()
        return child.wait()
    finally:
        tty.take_back()
        child.cleanup()
        for s, h in old.items():
            signal.signal(s, h)


def check_covered(args, path: str) -> None:
    """Say before starting, not with a bare EPERM, when CMD's exec would be denied."""
    policies, _ = pipeline.load_policies(args.policy) if args.policy else ((), ())
    ident = system.file_identity(path)
    for pol in policies:
        try:
            if system.file_identity(pol.binary) == ident:
                return
        except OSError:
            continue
    default = pipeline.load_default(args.default)
    d = reference.decide(
        default if not isinstance(default, str) else None,
        abi.BST_OP_EXECVE,
        os.path.realpath(path),
        default if isinstance(default, str) else "deny",
    )
    if d.permitted:
        return
    which = f"the default policy ({args.default})"
    msg = (
        f"{path} has no policy"
        + (f" in {', '.join(args.policy)}" if args.policy else "")
        + f", so it runs under {which}, which denies its exec ({d.describe()})"
    )
    hint = (
        "give its policy with --policy (write one with 'bpfsystrace run --mode learn -o "
        "DIR -- CMD'), or a --default permit|FILE that permits executing it"
    )
    if args.mode == "audit":
        _say(f"warning: {msg}; audit mode permits it and reports it ({hint})")
        return
    raise UsageError(f"{msg}: nothing would run; {hint}")


class _Foreground:
    """With a terminal, CMD gets it as its own foreground process group (as a shell
    does): Ctrl-C and Ctrl-Z reach CMD once, and bpfsystrace forwards only what is
    sent to itself."""

    def __init__(self, pid: int):
        self.fd = None
        try:
            if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
                os.setpgid(pid, pid)
                self.fd, self.pid = 0, pid
        except OSError:
            self.fd = None

    def give(self) -> None:
        if self.fd is not None:
            os.tcsetpgrp(self.fd, self.pid)

    def take_back(self) -> None:
        if self.fd is not None:
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(self.fd, os.getpgrp())
            except OSError:
                pass
            signal.signal(signal.SIGTTOU, old)
            self.fd = None


def _learn(args, child, cg, argv, tty) -> int:
    started = time.time()
    meta = attachments.attach(cg, [], "permit", "none", mode="learn")
    child.attached = True
    obs = learn.Observer()

    def on_event(data: bytes) -> None:
        ev = events.decode(data)
        if ev.target_id == meta.cgroup_id and ev.gen == meta.gen and ev.learn:
            obs.add(ev)

    with loader.event_ring(on_event) as rb:
        tty.give()
        child.start()
        status = child.wait(poll=lambda: rb.poll(100))
        tty.take_back()
        child.cleanup()
        rb.drain()
    seconds = time.time() - started
    _say(
        f"{shlex.join(argv)} exited with status {status} after {seconds:.1f} s: {obs.events} distinct events"
    )
    comment = learn.header(
        "bpfsystrace " + shlex.join(sys.argv[1:]), meta.cgroup, started, seconds, obs.events
    )
    learn_cli._write(args, obs, comment)
    return status
