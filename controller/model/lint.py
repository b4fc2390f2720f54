"""Rules that can never match: warnings with file:line (`check --strict`
makes them errors; `attach` and the daemon refuse on errors only).

  * a `filename` atom on a path the kernel never renders: `eq` or `inpath` of
    a relative path, `match` of a pattern that cannot begin with "/";
  * a `sockaddr` atom (`eq`, `inpath`) on no address the kernel renders:
    inet-[ADDR]:PORT, raw-[ADDR], a unix socket's path, @NAME, family(N), "";
  * a rule after an earlier one of the same name that holds for every object
    (no condition), or that has the very same condition: it is never reached.
"""

from __future__ import annotations

import re

from .types import Atom, Const, Expr, Rule, atoms

# what bind, connect, sendto, listen and accept render (objects.py, render.bpf.h),
# besides a unix socket's path and "" (explain_args checks a path against the file)
SOCKADDR = re.compile(r"^(inet-\[[0-9A-Fa-f:.]+\]:\d{1,5}|raw-\[[0-9A-Fa-f:.]+\]|@.*|family\(\d+\))$")
_PATH_START = ("/", "*", "?", "[", "\\/")


def never(atom: Atom) -> str | None:
    """Why `atom` holds for no object the kernel renders (None: it may hold)."""
    if atom.arg == "filename":
        if atom.op in ("eq", "inpath") and not atom.value.startswith("/"):
            return f'filename {atom.op} "{atom.value}" never holds: the kernel renders absolute paths'
        if atom.op == "match" and not atom.value.startswith(_PATH_START):
            return f'filename match "{atom.value}" never holds: every path the kernel renders begins with /'
    if atom.arg == "sockaddr" and atom.op in ("eq", "inpath") and not rendered_sockaddr(atom.value):
        return (
            f'sockaddr {atom.op} "{atom.value}" never holds: addresses render as inet-[ADDR]:PORT '
            f"(inet-[127.0.0.1]:53, inet-[::1]:53), raw-[ADDR], a unix socket path, @abstract or family(N)"
        )
    return None


def rendered_sockaddr(value: str) -> bool:
    """Whether a sockaddr could be one the kernel renders (a path: any)."""
    return value == "" or value.startswith("/") or SOCKADDR.match(value) is not None


def atoms_never_holding(expr: Expr) -> list[str]:
    return [why for a in atoms(expr) if (why := never(a)) is not None]


def unreachable(rules: list[Rule]) -> list[tuple[Rule, Rule]]:
    """(rule, the earlier rule that always decides first) for rules never reached:
    an earlier enforced rule of the same name without a condition, or with the
    same condition."""
    out = []
    seen: dict[tuple[str, str], Rule] = {}
    total: dict[str, Rule] = {}
    for r in rules:
        if r.why_not is not None:
            continue
        first = total.get(r.syscall) or seen.get((r.syscall, repr(r.expr)))
        if first is not None:
            out.append((r, first))
            continue
        if r.approx is not None or (isinstance(r.expr, Const) and not r.expr.value):
            continue  # approximated, or never holds: it decides nothing for sure
        seen.setdefault((r.syscall, repr(r.expr)), r)
        if isinstance(r.expr, Const) and r.expr.value:
            total.setdefault(r.syscall, r)
    return out
