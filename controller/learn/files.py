"""Observations -> policy files: one per executable in a directory, or merged.

`write_policies` turns what was observed into one systrace policy file per
executable in a directory (systrace's naming), or merges into the files that
already hold those executables' policies. Nothing is written unless every
file checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..compile import pipeline
from ..errors import PolicyError, UsageError
from ..model import check as check_mod
from ..model.types import Policy
from ..policy import parse_file
from ..state.atomic import write_atomic
from .generalise import generalise
from .text import merge_text, policy_filename, policy_text


@dataclass
class Written:
    path: str
    binary: str
    added: int
    merged: bool
    denied_by_hand: list


def existing_policies(outdir: str) -> dict[str, tuple[str, Policy]]:
    """binary -> (file, checked Policy) for the policy files already in outdir."""
    out: dict[str, tuple[str, Policy]] = {}
    if not os.path.isdir(outdir):
        return out
    for path in pipeline.policy_files([outdir]) if os.listdir(outdir) else []:
        policies, _ = check_mod.check([parse_file(path)])
        for pol in policies:
            out[os.path.realpath(pol.binary)] = (path, pol)
    return out


def write_policies(
    outdir: str,
    observed: dict[str, set],
    merge: bool,
    force: bool,
    collapse: int,
    ephemeral: bool,
    comment: list[str],
) -> list[Written]:
    """One file per binary in outdir; with merge, append to the file holding its policy."""
    os.makedirs(outdir, exist_ok=True)
    have = existing_policies(outdir) if merge else {}
    plans = []
    for binary in sorted(observed):
        seen = observed[binary]
        if os.path.realpath(binary) in have:
            path, pol = have[os.path.realpath(binary)]
            with open(path) as f:
                text = f.read()
            res = merge_text(text, pol, seen, collapse, ephemeral, comment[0].lstrip("# "))
            plans.append((path, res.text, Written(path, binary, len(res.added), True, res.denied_by_hand)))
            continue
        path = os.path.join(outdir, policy_filename(binary))
        if os.path.exists(path) and not force:
            raise UsageError(f"{path} exists: use --merge to add to it or --force to replace it")
        rules = generalise(seen, collapse, ephemeral)
        plans.append(
            (path, policy_text(binary, rules, comment), Written(path, binary, len(rules), False, []))
        )
    # nothing is written unless every file checks
    for path, text, _ in plans:
        _check_text(path, text)
    for path, text, _ in plans:
        write_atomic(path, text)
    return [w for _, _, w in plans]


def _check_text(path: str, text: str) -> None:
    from ..policy import parse

    try:
        check_mod.check([parse(text, path)])
    except PolicyError as e:  # a bug in the writer: say which file
        raise PolicyError(e.diagnostics) from None
