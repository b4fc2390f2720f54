"""diff: what a policy change changes, decided from the automata (not the text)."""

from __future__ import annotations

import argparse
import sys

from ..compile import diff as diff_mod
from ..compile import pipeline
from ..errors import EXIT_OK, EXIT_USAGE, BpfsystraceError, PolicyError, UsageError
from ..model import check as check_mod
from ..policy import parse

EXIT_DIFFERENT = 1


class DiffCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "diff",
            help="show what two policy versions decide differently (not their text)",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Compile both sides as 'attach' would and compare their automata: for every
executable and operation whose decisions change, print a shortest example
object (a path, an address) for each kind of change - permitted -> denied,
denied -> permitted, errno changed, log flag changed, exec binding changed -
and the rule of each side that decides it. Reordered or reformatted rules and
comments change nothing, and are reported as no difference. An executable
whose policy exists on one side only is compared with the default policy
(--default) on the other. '(default)' is the default policy itself.

Exit status as diff(1): 0 the two sides decide everything the same, 1 they
differ, 2 trouble (a policy that does not compile, a missing file).""",
            epilog="""\
examples:
  bpfsystrace diff /etc/systrace/usr_sbin_named usr_sbin_named.new
  bpfsystrace diff policies.old/ policies/            # directories: every policy
  bpfsystrace diff --default permit old/ new/ && echo "same decisions"
  bpfsystrace reload --cgroup named.slice --dry-run   # what a reload would change""",
        )
        p.add_argument("old", metavar="OLD", help="policy file or directory")
        p.add_argument("new", metavar="NEW", help="policy file or directory")
        p.add_argument(
            "--default",
            default="deny",
            metavar="deny|permit|FILE",
            help="policy of processes without one, on both sides (default: deny)",
        )
        p.add_argument(
            "--examples",
            type=int,
            default=3,
            metavar="N",
            help="examples per kind of change (one per pair of deciding rules; default 3)",
        )
        p.set_defaults(handler=cmd_diff)


def cmd_diff(args) -> int:
    try:
        default = pipeline.load_default(args.default)
        old = side_from_paths([args.old], default, args.default, "OLD")
        new = side_from_paths([args.new], default, args.default, "NEW")
    except PolicyError as e:
        print(e.render(), file=sys.stderr)
        return EXIT_USAGE
    except BpfsystraceError as e:
        print(f"bpfsystrace: error: {e.render()}", file=sys.stderr)
        return EXIT_USAGE
    return report(old, new, args.examples, sys.stdout)


def side_from_paths(paths, default, default_spec: str, label: str) -> diff_mod.Side:
    policies, _ = pipeline.load_policies(paths)
    return diff_mod.Side.build(policies, default, label, default_spec)


def side_from_texts(texts, default, default_spec: str, label: str) -> diff_mod.Side:
    """A side from saved (path, text) pairs: what an attachment was compiled from."""
    files, diags = [], []
    for path, text in texts:
        try:
            files.append(parse(text, path))
        except PolicyError as e:
            diags.extend(e.diagnostics)
    if diags:
        raise PolicyError(diags)
    policies, _ = check_mod.check(files)
    return diff_mod.Side.build(policies, default, label, default_spec)


def report(old: diff_mod.Side, new: diff_mod.Side, per_kind: int, out, indent: str = "") -> int:
    """Print the differences; EXIT_OK when none, EXIT_DIFFERENT otherwise."""
    for binary in sorted(set(old.policies) - set(new.policies)):
        out.write(
            f"{indent}{binary}: policy only in {old.label} (in {new.label} its processes "
            f"get the default, {new.default})\n"
        )
    for binary in sorted(set(new.policies) - set(old.policies)):
        out.write(
            f"{indent}{binary}: policy only in {new.label} (in {old.label} its processes "
            f"get the default, {old.default})\n"
        )
    diffs = diff_mod.diff(old, new, max(per_kind, 1))
    for d in diffs:
        out.write(f"{indent}{d.binary}: {d.op}\n")
        for c in d.changes:
            out.write(f"{indent}  {c.kind}: {diff_mod.show(c.example)}\n")
            out.write(f"{indent}      {old.label.lower()}: {c.old.describe()}\n")
            out.write(f"{indent}      {new.label.lower()}: {c.new.describe()}\n")
        for kind, n in d.more.items():
            out.write(
                f"{indent}  ({n} more {kind} example{'s' * (n != 1)}, decided by other "
                f"rules: --examples N shows more)\n"
            )
        if not d.complete:
            out.write(
                f"{indent}  (search stopped after {diff_mod.MAX_PAIRS} state pairs: "
                f"there may be more changes)\n"
            )
    if not diffs:
        out.write(f"{indent}no difference in decisions\n")
        return EXIT_OK
    n = len(diffs)
    out.write(f"{indent}{n} executable/operation pair{'s' * (n != 1)} decide differently\n")
    return EXIT_DIFFERENT


def dry_run(metas) -> int:
    """reload --dry-run: what each attachment's files on disk would change."""
    status = EXIT_OK
    for meta in metas:
        print(f"{meta.cgroup} (generation {meta.gen}): a reload would swap in")
        try:
            if not meta.texts:
                raise UsageError(
                    f"{meta.cgroup} was attached by a bpfsystrace that did not keep "
                    f"its policy text; reload it once, then --dry-run works"
                )
            has_file = meta.default_spec not in ("deny", "permit")
            texts = meta.texts[:-1] if has_file else meta.texts
            old_default = _policy_from_text(meta.texts[-1]) if has_file else meta.default_spec
            old = side_from_texts(texts, old_default, meta.default_spec, "IN FORCE")
            new = side_from_paths(
                meta.sources, pipeline.load_default(meta.default_spec), meta.default_spec, "ON DISK"
            )
        except PolicyError as e:
            print(e.render(), file=sys.stderr)
            print(f"bpfsystrace: {meta.cgroup}: a reload would be refused", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except BpfsystraceError as e:
            print(f"bpfsystrace: error: {meta.cgroup}: {e.render()}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        if report(old, new, 3, sys.stdout, "  ") != EXIT_OK and status == EXIT_OK:
            status = EXIT_DIFFERENT
    return status


def _policy_from_text(pair):
    policies, _ = check_mod.check([parse(pair[1], pair[0])])
    if len(policies) != 1:
        raise UsageError(f"--default {pair[0]}: the file must hold exactly one policy")
    return policies[0]
