"""PolicyLexer: tokens of one systrace policy line.

The language is line oriented, so the lexer works on one line at a time
(comments already stripped by the parser). Errors are reported through
`error_func(msg, column, length)`, never raised here.
"""

from __future__ import annotations

import ply.lex

KEYWORDS = {
    "ask": "ASK",
    "deny": "DENY",
    "permit": "PERMIT",
    "and": "AND",
    "or": "OR",
    "not": "NOT",
    "then": "THEN",
    "eq": "EQKW",
    "neq": "NEQ",
    "sub": "SUB",
    "nsub": "NSUB",
    "match": "MATCH",
    "inpath": "INPATH",
    "re": "RE",
    "log": "LOG",
    "true": "TRUE",
    "if": "IF",
    "user": "USER",
    "group": "GROUP",
    "as": "AS",
    "Policy": "POLICY",
    "Emulation": "EMULATION",
    "detached": "DETACHED",
}
STRING_OPS = ("eq", "neq", "sub", "nsub", "match", "inpath", "re")


class PolicyLexer:
    tokens = (
        "IDENT",
        "NUMBER",
        "STRING",
        "PATH",
        "COLON",
        "COMMA",
        "LBRACKET",
        "RBRACKET",
        "LPAREN",
        "RPAREN",
        "ARROW",
        "MINUS",
        "EQ",
        "NE",
        "LT",
        "GT",
        "BAD_STRING",
    ) + tuple(sorted(set(KEYWORDS.values())))

    t_ignore = " \t\r"
    t_COLON = r":"
    t_COMMA = r","
    t_LBRACKET = r"\["
    t_RBRACKET = r"\]"
    t_LPAREN = r"\("
    t_RPAREN = r"\)"
    t_NE = r"!="
    t_EQ = r"="
    t_LT = r"<"
    t_GT = r">"

    def __init__(self, error_func):
        self.error_func = error_func
        self.lexer = ply.lex.lex(module=self, optimize=False, debug=False)

    def t_STRING(self, t):
        r'"(\\.|[^"\\])*"'
        body, out, i = t.value[1:-1], [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
            else:
                out.append(body[i])
                i += 1
        t.value = "".join(out)
        return t

    def t_BAD_STRING(self, t):
        r'"(\\.|[^"\\])*\\?$'
        self.error_func("missing closing quote", t.lexpos + 1, len(t.value))
        return None

    def t_PATH(self, t):
        r'/[^\s,"()\[\]]*'
        return t

    def t_IDENT(self, t):
        r"[A-Za-z_][A-Za-z0-9_]*"
        t.type = KEYWORDS.get(t.value, "IDENT")
        return t

    def t_NUMBER(self, t):
        r"\d+"
        return t

    def t_ARROW(self, t):
        r"->"
        return t

    def t_MINUS(self, t):
        r"-"
        return t

    def t_error(self, t):
        self.error_func(f"unexpected character {t.value[0]!r}", t.lexpos + 1, 1)
        t.lexer.skip(1)

    def tokenize(self, line: str):
        self.lexer.input(line)
        self.lexer.lineno = 1
        return iter(self.lexer.token, None)
