"""The common rule line without the grammar: one regular expression.

Nearly every line of a large policy is one comparison and an action:

    native-fsread: filename eq "/srv/www/a.html" then permit

fast_rule() recognises exactly that shape (optionally an argument index,
`deny[errno]`, `permit[inherit|detach]`, `log`) and builds the same AST the
PLY grammar would, with the same coordinates; anything else (and anything
the grammar would reject or treat specially) returns None and goes to the
grammar. tests/policy/test_fastline.py checks the two agree.
"""

from __future__ import annotations

import re

from ..errors import Coord
from . import ast
from .lexer import KEYWORDS

_WS = r"[ \t\r]"
_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LINE = re.compile(
    rf"{_WS}*(?P<em>{_ID})-(?P<name>{_ID}){_WS}*:{_WS}*(?P<arg>{_ID})"
    rf"(?:{_WS}*\[{_WS}*(?P<idx>\d+){_WS}*\]{_WS}*|{_WS}+)"
    rf"(?P<op>eq|neq|sub|nsub|match|inpath|re){_WS}*"
    r'"(?P<str>(?:\\.|[^"\\])*)"'
    rf"{_WS}*(?:then{_WS}+|->{_WS}*)(?P<act>permit|deny)(?![A-Za-z0-9_])"
    rf"(?:{_WS}*\[{_WS}*(?P<mod>{_ID}){_WS}*\])?"
    rf"(?:{_WS}+(?P<log>log))?{_WS}*$"
)
_UNESCAPE = re.compile(r"\\(.)")


def fast_rule(line: str, raw: str, filename: str, lineno: int):
    """("rule", Rule, Coord) for a plain one-comparison rule line, else None."""
    m = _LINE.match(line)
    if m is None:
        return None
    em, name, arg, mod = m.group("em"), m.group("name"), m.group("arg"), m.group("mod")
    if em in KEYWORDS or name in KEYWORDS or arg in KEYWORDS or (mod is not None and mod in KEYWORDS):
        return None
    act = m.group("act")
    errno_ = modifier = None
    if mod is not None:
        if act == "deny":
            if not mod.islower():
                return None  # the grammar reports it
            errno_ = mod
        elif mod in ("inherit", "detach"):
            modifier = mod
        else:
            return None

    def at(group: str) -> Coord:
        return Coord(filename, lineno, m.start(group) + 1)

    idx = m.group("idx")
    value = _UNESCAPE.sub(r"\1", m.group("str"))
    symbol = ast.Symbol(arg, int(idx) if idx is not None else 0, m.group("op"), value, at("arg"))
    action = ast.Action(act, errno_, modifier, at("act"))
    coord = at("em")
    rule = ast.Rule(em, name, symbol, action, m.group("log") is not None, None, None, None, coord, raw)
    return ("rule", rule, coord)
