"""check and explain: what a policy says, without touching the kernel."""
from __future__ import annotations

import sys

from .. import explain, pipeline
from ..errors import EXIT_OK, UsageError


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
              f"{len(enforced)} enforced" + (" [detached: not confined]" if pol.detached else ""))
        for r in pol.rules:
            if not r.enforced:
                print(f"  {r.coord}: not enforceable: {r.why_not}")
            elif r.approx:
                print(f"  {r.coord}: enforced approximately: {r.approx}")
        if args.stats:
            for (pidx, op), d in sorted(recs.dfas.items()):
                if pidx == idx:
                    from ..model.syscalls import BY_OP
                    ntrans = sum(len(s.trans) for s in d.states)
                    print(f"  {BY_OP[op].name:<8} {len(d.states):>6} states {ntrans:>7} transitions")
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
    try:
        op = explain.op_by_name(args.operation)
    except ValueError as e:
        raise UsageError(str(e)) from None
    d = explain.decide(pol, op, args.argument)
    print(f"{pol.binary} {args.operation} {args.argument}: {d.describe()}")
    return EXIT_OK
