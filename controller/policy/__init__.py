"""Parsing systrace policy text: parse(text, filename) and parse_file(path)."""
from __future__ import annotations

from .ast import PolicyFile
from .parser import PolicyParser

_parser: PolicyParser | None = None


def parse(text: str, filename: str = "<string>") -> PolicyFile:
    """Parse policy text; raises PolicyError with every syntax error found."""
    global _parser
    if _parser is None:
        _parser = PolicyParser()
    return _parser.parse(text, filename)


def parse_file(path: str) -> PolicyFile:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return parse(f.read(), path)
