r"""One escaping for every sink: no object string can start a line of its own.

A file name, a socket path, a process name (comm) or a policy value may hold any byte but
NUL: a newline in a name would otherwise forge a line in `bpfsystrace log`, syslog, the
text log file, `explain` output or a learned policy's comments. `escape()` writes every
control character (C0, DEL, C1) and the Unicode line and paragraph separators as a C-style
escape, and a backslash as two, so the text stays on one line and the original can be read
back from it unambiguously:

    /tmp/a<newline>b  ->  /tmp/a\nb      <ESC>[31m  ->  \x1b[31m      a\b  ->  a\\b

JSON output needs nothing more: json.dumps escapes control characters itself.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _one(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}"


_TABLE = {n: _one(chr(n)) for n in [*range(0x20), 0x5C, *range(0x7F, 0xA0), 0x2028, 0x2029]}


def escape(text: str) -> str:
    """`text` with control characters and backslashes escaped (see the module's docstring)."""
    return text.translate(_TABLE)
