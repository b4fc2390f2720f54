"""The front half of the pipeline, in order: files -> AST -> model -> records.

Every stage is a pure function; this module only runs them in order and
gathers diagnostics so that one command reports every problem at once.
"""

from __future__ import annotations

import os

from ..errors import Coord, Diagnostic, PolicyError, UsageError
from ..model import check as check_mod
from ..policy import parse_file
from . import records as records_mod


def policy_files(paths) -> list[str]:
    """Expand files and directories (systrace's one-file-per-binary layout)."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            names = sorted(
                n
                for n in os.listdir(p)
                if not n.startswith(".") and not n.endswith("~") and os.path.isfile(os.path.join(p, n))
            )
            if not names:
                raise UsageError(f"policy directory {p} holds no policy files")
            out.extend(os.path.join(p, n) for n in names)
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise UsageError(f"no such policy file or directory: {p}")
    return out


def snapshot(sources: list[str], default: str) -> list[list[str]]:
    """[path, text] of every policy file the sources and a --default FILE name."""
    paths = policy_files(sources) if sources else []
    if default not in ("deny", "permit"):
        paths.append(default)
    out = []
    for path in paths:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            out.append([path, f.read()])
    return out


def parse_all(paths):
    """Parse every file, collecting the syntax errors of all of them, and the
    checker's errors on the rules that did parse (a syntax error on one line
    must not hide an unknown name or errno on another)."""
    files, diags, partial = [], [], []
    for path in policy_files(paths):
        try:
            files.append(parse_file(path))
        except PolicyError as e:
            diags.extend(e.diagnostics)
            if e.partial is not None:
                partial.append(e.partial)
        except (OSError, UnicodeDecodeError) as e:
            diags.append(Diagnostic(Coord(path, 1, 1), f"cannot read policy file: {e}"))
    if diags:
        raise PolicyError(diags + _rule_errors(partial))
    return files


def _rule_errors(partial) -> list:
    """The checker's errors on the rules of partly parsed files (not the policy-level
    ones, such as "no rules", which a rule lost to a syntax error would cause)."""
    lines = {(r.coord.file, r.coord.line) for pf in partial for p in pf.policies for r in p.rules}
    try:
        check_mod.check(partial)
    except PolicyError as e:
        return [d for d in e.diagnostics if (d.coord.file, d.coord.line) in lines]
    return []


def load_policies(paths, env=None):
    """Parse and check: (policies, warnings)."""
    return check_mod.check(parse_all(paths), env)


def check_default(spec: str) -> None:
    """--default must be deny, permit or an existing policy file: say which values are valid."""
    if spec in (records_mod.DEFAULT_DENY, records_mod.DEFAULT_PERMIT) or os.path.isfile(spec):
        return
    what = "a directory" if os.path.isdir(spec) else "not a policy file"
    raise UsageError(
        f"--default {spec}: {what}; the default is 'deny' (every operation of a "
        f"program without a policy is denied and logged), 'permit' (they are "
        f"permitted) or the path of a file holding one policy"
    )


def load_default(spec: str, env=None):
    """--default deny | permit | FILE -> what compile_policies takes."""
    check_default(spec)
    if spec in (records_mod.DEFAULT_DENY, records_mod.DEFAULT_PERMIT):
        return spec
    policies, _ = load_policies([spec], env)
    if len(policies) != 1:
        raise UsageError(
            f"--default {spec}: the file must hold exactly one policy (it holds {len(policies)})"
        )
    return policies[0]


def compile_all(policies, default):
    return records_mod.compile_policies(policies, default)
