"""check and explain: what a policy says, without touching the kernel."""
from __future__ import annotations

import sys

from .. import explain, pipeline
from ..observe.escape import escape
from ..model import syscalls
from ..errors import EXIT_OK, UsageError
from ..kernel import probe


class Check:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "check", help="validate policies and show what the kernel will enforce",
            description="Parse, check and compile policies. Prints a summary per policy: rules, "
                        "how many the kernel enforces and, for the others, why not. Exit 1 with "
                        "file:line:col messages when a policy is rejected.")
        p.add_argument("paths", nargs="+", metavar="FILE|DIR")
        p.add_argument("--stats", action="store_true", help="show automaton sizes and compile time")
        p.set_defaults(run=run_check)


def run_check(args) -> int:
    policies, warnings = pipeline.load_policies(args.paths)
    recs = pipeline.compile_all(policies, "deny")
    for w in warnings:
        print(w.render(), file=sys.stderr)
    for idx, pol in enumerate(policies):
        enforced = [r for r in pol.rules if r.enforced]
        print(f"{pol.coord.file}: policy {pol.binary} ({pol.emulation}): {len(pol.rules)} rules, "
              f"{len(enforced)} enforced, {len(pol.rules) - len(enforced)} not enforceable"
              + (" [detached: not confined]" if pol.detached else ""))
        by_reason: dict[str, list[str]] = {}
        for r in pol.rules:
            if not r.enforced:
                by_reason.setdefault(r.why_not, []).append(f"{r.syscall}:{r.coord.line}")
        for reason, where in by_reason.items():
            print(f"  not enforceable: {reason}:")
            print(f"      {' '.join(where)}")
        for r in enforced:
            if r.approx:
                print(f"  {r.coord}: enforced approximately: {r.approx}")
        if args.stats:
            for (pidx, op), d in sorted(recs.dfas.items()):
                if pidx == idx:
                    from ..model.syscalls import BY_OP
                    ntrans = sum(len(s.trans) for s in d.states)
                    print(f"  {BY_OP[op].name:<8} {len(d.states):>6} states {ntrans:>7} transitions")
    for op, hook in sorted(probe.missing_hooks().items()):
        rules = sum(1 for p in policies for r in p.rules if r.enforced and
                    syscalls.OPERATIONS[op].op in r.ops)
        print(f"warning: the running kernel has no {hook} hook (Linux < 6.0): {op} is not "
              f"enforced on this host ({rules} {op} rule(s) here; without a hook every "
              f"{op} call is permitted)", file=sys.stderr)
    if args.stats:
        print(f"compiled in {recs.seconds * 1000:.1f} ms: {len(recs.states)} states, "
              f"{len(recs.trans)} transitions, {len(recs.rules)} rules")
    return EXIT_OK


class Explain:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "explain", help="which rule decides an operation, and why",
            description="Evaluate one operation against a policy with the reference evaluator, "
                        "e.g.: bpfsystrace explain policies/usr_sbin_named fsread /etc/group")
        p.add_argument("policy", metavar="POLICY", help="policy file (its first policy is used "
                       "unless --binary picks another)")
        p.add_argument("operation", metavar="OPERATION", help="fsread, fswrite, bind, connect, execve")
        p.add_argument("argument", metavar="ARG", help="the path or inet-[addr]:port string")
        p.add_argument("--binary", help="which policy of the file (by its Policy: path)")
        p.set_defaults(run=run_explain)


def run_explain(args) -> int:
    policies, _ = pipeline.load_policies([args.policy])
    pol = policies[0]
    if args.binary:
        pol = next((p for p in policies if p.binary == args.binary), None)
        if pol is None:
            raise UsageError(f"{args.policy} has no policy for {args.binary}")
    for line in explain.explain(pol, args.operation, args.argument):
        print(escape(line))
    return EXIT_OK


class Fmt:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "fmt", help="print policies in canonical form",
            description="Print the policy with whitespace, quoting and parentheses normalised, so "
                        "generated and hand-written policies diff cleanly. Rule order never "
                        "changes (order is meaning); comments are not kept.")
        p.add_argument("path", metavar="FILE")
        p.add_argument("-w", "--write", action="store_true",
                       help="rewrite FILE in place (atomically) instead of printing")
        p.set_defaults(run=run_fmt)


def run_fmt(args) -> int:
    import os
    import tempfile

    from ..policy import parse_file, printer
    text = printer.format_policy_file(parse_file(args.path))
    if not args.write:
        sys.stdout.write(text)
        return EXIT_OK
    d = os.path.dirname(os.path.abspath(args.path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".fmt-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, os.stat(args.path).st_mode & 0o7777)
    os.replace(tmp, args.path)
    return EXIT_OK
