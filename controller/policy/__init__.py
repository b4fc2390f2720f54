"""Parsing systrace policy text: parse(text, filename) and parse_file(path)."""

from __future__ import annotations

from ..errors import Coord, Diagnostic, PolicyError
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
    """Parse a policy file; a file that is not UTF-8 text is one error, not one per line."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        if b"\0" in data:
            raise UnicodeDecodeError("utf-8", data, data.index(b"\0"), data.index(b"\0") + 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise PolicyError(
            [
                Diagnostic(
                    Coord(path, line, 1),
                    f"not a text policy file (it holds binary data: byte {e.start} is not UTF-8 text)",
                    hints=("give the policy file (systrace's text format), not the program or an archive",),
                )
            ]
        ) from None
    return parse(text, path)
