"""check and explain: what a policy says, without touching the kernel."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..compile import pipeline
from ..errors import EXIT_OK, EXIT_POLICY, UnsupportedKernel, UsageError
from ..kernel import hooks, lsm
from ..model import reference, syscalls
from ..observe.escape import escape


class CheckCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "check",
            help="validate policies and show what the kernel will enforce",
            description="Parse, check and compile policies. Prints a summary per policy: rules, "
            "how many the kernel enforces and, for the others, why not. Exit 1 with "
            "file:line:col messages when a policy is rejected (an empty file, one "
            "without a 'Policy:' header or a policy without rules is rejected too); "
            "warns of rules that can never match or are never reached, and of policies for "
            "programs that do not exist here. --strict: those rule warnings reject the file too.",
            epilog="examples:\n  bpfsystrace check policies/usr_sbin_named\n"
            "  bpfsystrace check /etc/systrace/            every file of a directory\n"
            "  bpfsystrace check --stats policies/         automaton sizes, compile time\n"
            "  bpfsystrace check --strict policies/        a rule that can never match is an error\n"
            "  bpfsystrace check --hooks                   every LSM hook of this kernel: decided,\n"
            "                                              open, harmless or not attachable, and why\n"
            "  bpfsystrace check --hooks --json            the same as one JSON object",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("paths", nargs="*", metavar="FILE|DIR")
        p.add_argument("--stats", action="store_true", help="show automaton sizes and compile time")
        p.add_argument(
            "--strict",
            action="store_true",
            help="exit 1 on a rule that can never match or is never reached, as on an error",
        )
        p.add_argument(
            "--hooks",
            action="store_true",
            help="print the class of every LSM hook of the running kernel (docs/security.md, "
            "'Every LSM hook'); exit 1 if one is not in bpfsystrace's table",
        )
        p.add_argument(
            "--btf",
            metavar="FILE",
            help="with --hooks: read the hooks from this BTF or vmlinux file, not the running kernel's",
        )
        p.add_argument("--json", action="store_true", help="with --hooks: print the table as one JSON object")
        p.set_defaults(handler=cmd_check)


def cmd_check(args) -> int:
    if not args.hooks and (args.json or args.btf):
        raise UsageError("check: --json and --btf go with --hooks")
    if not args.paths and not args.hooks:
        raise UsageError("check: give policy files or directories (FILE|DIR ...), or --hooks")
    status = check_policies(args) if args.paths else EXIT_OK
    return max(status, check_hooks(args)) if args.hooks else status


def check_hooks(args) -> int:
    """The class of every LSM hook of this kernel (kernel/hooks.py): one line
    each; a hook the table does not know is UNCLASSIFIED and fails (exit 1)."""
    try:
        names = hooks.kernel_hooks(args.btf)
    except OSError as e:
        if args.btf:
            raise UsageError(f"check --hooks --btf {args.btf}: {e}") from None
        raise UnsupportedKernel(f"{e}: this kernel has no BTF, so it has no BPF-LSM hooks") from None
    missing = hooks.unclassified(names)
    counts = hooks.counts(names)
    source = args.btf or f"Linux {os.uname().release}"
    if args.json:
        rows = [
            {"hook": n, "class": h.cls, "call": h.call, "what": h.what}
            if (h := hooks.classify(n))
            else {"hook": n, "class": "UNCLASSIFIED", "call": "", "what": UNCLASSIFIED_WHY}
            for n in sorted(names)
        ]
        print(json.dumps({"kernel": source, "hooks": rows, "counts": counts, "unclassified": missing}))
    else:
        for n in sorted(names):
            h = hooks.classify(n)
            cls, text = (h.cls, h.text()) if h else ("UNCLASSIFIED", UNCLASSIFIED_WHY)
            print(f"{n:<28} {cls:<14} {text}")
        summary = ", ".join(f"{counts[c]} {c}" for c in hooks.CLASSES)
        print(f"{len(names)} LSM hooks in {source}: {summary}, {len(missing)} UNCLASSIFIED")
    if missing:
        print(
            f"error: {len(missing)} LSM hook(s) of {source} are in no class of bpfsystrace's table "
            f"(controller/kernel/hook_table.py): {', '.join(missing)}",
            file=sys.stderr,
        )
        return EXIT_POLICY  # 1, as a rejected policy: the table must be completed first
    return EXIT_OK


UNCLASSIFIED_WHY = "not in bpfsystrace's table: a hook nobody has judged is a door (docs/security.md)"


def check_policies(args) -> int:
    policies, warnings = pipeline.load_policies(args.paths)
    recs = pipeline.compile_all(policies, "deny")
    for w in warnings:
        print(w.render(), file=sys.stderr)
    for pol in policies:
        if not os.path.exists(pol.binary):
            print(
                f"{pol.coord}: warning: {pol.binary} does not exist on this host; this policy "
                f"applies to nothing until it does (attach says so too)",
                file=sys.stderr,
            )
    for idx, pol in enumerate(policies):
        enforced = [r for r in pol.rules if r.enforced]
        print(
            f"{pol.coord.file}: policy {pol.binary} ({pol.emulation}): {len(pol.rules)} rules, "
            f"{len(enforced)} enforced, {len(pol.rules) - len(enforced)} not enforceable"
            + (" [detached: not confined]" if pol.detached else "")
        )
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
            for (pidx, op), ds in sorted(recs.parts.items()):
                if pidx == idx:
                    from ..model.syscalls import BY_OP

                    nstates = sum(len(d.states) for d in ds)
                    ntrans = sum(len(s.trans) for d in ds for s in d.states)
                    split = f" in {len(ds)} automata" if len(ds) > 1 else ""
                    print(f"  {BY_OP[op].name:<8} {nstates:>6} states {ntrans:>7} transitions{split}")
    for op, hook in sorted(lsm.missing_hooks().items()):
        rules = sum(
            1 for p in policies for r in p.rules if r.enforced and syscalls.OPERATIONS[op].op in r.ops
        )
        print(f"warning: {lsm.not_enforced(op, hook)}; {rules} {op} rule(s) here", file=sys.stderr)
    if args.stats:
        print(
            f"compiled in {recs.seconds * 1000:.1f} ms: {recs.nstates} states, "
            f"{recs.ntrans} transitions in {recs.tables.ncells} cells, {len(recs.rules)} rules"
        )
        print(f"kernel memory: {recs.kernel_bytes()} bytes")
    if args.strict and warnings:
        print(f"{len(warnings)} warning(s) and --strict: rejected", file=sys.stderr)
        return EXIT_POLICY
    return EXIT_OK


class ExplainCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "explain",
            help="which rule decides an operation, and why",
            description="Evaluate one operation against a policy with the reference evaluator. "
            "A path is resolved as the kernel renders it (symbolic links followed, "
            "e.g. /lib -> /usr/lib on merged-/usr hosts) and explain says so.",
            epilog="examples:\n"
            "  bpfsystrace explain policies/usr_sbin_named fsread /etc/group\n"
            "  bpfsystrace explain policies/usr_sbin_named bind 'inet-[127.0.0.1]:53'\n"
            "  bpfsystrace explain policies/ execve /usr/bin/id --binary /usr/sbin/named",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "policy",
            metavar="POLICY",
            help="policy file (its first policy is used unless --binary picks another)",
        )
        p.add_argument(
            "operation",
            metavar="OPERATION",
            help="one of: "
            + ", ".join(syscalls.OPERATIONS)
            + " (or a systrace name that one decides, e.g. lstat, unlinkat)",
        )
        p.add_argument(
            "argument",
            metavar="ARG",
            help="the object: an absolute path, inet-[addr]:port, a unix socket "
            "path, a uid or gid, a signal name, a capability (CAP_NET_ADMIN), "
            "an option (PR_SET_MM) as in the policy language; \"\" for calls "
            "without one (reboot)",
        )
        p.add_argument("--binary", help="which policy of the file (by its Policy: path)")
        p.set_defaults(handler=cmd_explain)


def cmd_explain(args) -> int:
    from . import explain_args

    op_name, note = explain_args.operation(args.operation)
    value, seen = explain_args.object_for(op_name, args.argument)
    policies, _ = pipeline.load_policies([args.policy])
    pol = policies[0]
    if args.binary:
        pol = next((p for p in policies if p.binary == args.binary), None)
        if pol is None:
            raise UsageError(f"{args.policy} has no policy for {args.binary}")
    for extra in (note, seen):
        if extra:
            print(f"note: {escape(extra)}")
    for line in reference.explain(pol, op_name, value):
        print(escape(line))
    return EXIT_OK


class FmtCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "fmt",
            help="print policies in canonical form",
            description="Print the policy with whitespace, quoting and parentheses normalised, so "
            "generated and hand-written policies diff cleanly. Rule order never "
            "changes (order is meaning); comments (own-line and trailing) are kept.",
            epilog="examples:\n  bpfsystrace fmt policies/usr_sbin_named          print the canonical form\n"
            "  bpfsystrace fmt -w policies/usr_sbin_named       rewrite it in place\n"
            "  bpfsystrace fmt policies/x | diff policies/x -   what fmt would change",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("path", metavar="FILE")
        p.add_argument(
            "-w",
            "--write",
            action="store_true",
            help="rewrite FILE in place (atomically) instead of printing",
        )
        p.set_defaults(handler=cmd_fmt)


def cmd_fmt(args) -> int:
    import os

    from ..policy import parse_file, printer
    from ..state.atomic import write_atomic

    if os.path.isdir(args.path):
        raise UsageError(
            f"fmt {args.path}: is a directory; fmt takes one policy file "
            f"(for f in {args.path.rstrip('/')}/*; do bpfsystrace fmt -w \"$f\"; done)"
        )
    if not os.path.isfile(args.path):
        raise UsageError(f"fmt: no such policy file: {args.path}")
    pf = parse_file(args.path)
    with open(args.path, encoding="utf-8") as f:
        text = printer.format_text(f.read(), pf)
    if not args.write:
        sys.stdout.write(text)
        return EXIT_OK
    write_atomic(args.path, text)
    return EXIT_OK
