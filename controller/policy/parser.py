"""PolicyParser: systrace policy text -> ast.PolicyFile.

Grammar (one production per p_* docstring, precedence not > and > or) after
OpenBSD systrace(1) and ../shared/reference/systrace-language.md. The
language is one statement per line, so each line is parsed on its own: a
mistake on one line never hides mistakes on later lines, and every error of a
file is reported at once as a Diagnostic with file:line:col.
"""

from __future__ import annotations

import ply.yacc

from ..errors import Coord, Diagnostic, PolicyError
from . import ast
from .fastline import fast_rule
from .lexer import STRING_OPS, PolicyLexer

# Error messages (tests/policy/test_errors.py checks each).
ERR_UNTERMINATED = "missing closing quote"
ERR_BEFORE_HEADER = "rule before any 'Policy:' header"
ERR_EMULATION = "emulation '{got}' does not match the policy's '{want}'"
ERR_NO_PREFIX = "missing emulation prefix: write '{emu}-{name}'"
ERR_NO_COLON = "missing ':' after the rule name"
ERR_UNKNOWN_OP = "unknown operator '{op}'; expected one of " + ", ".join(STRING_OPS)
ERR_NO_THEN = "missing 'then' (or '->') before the action"
ERR_NO_ACTION = "missing action: expected permit, deny or ask"
ERR_UNKNOWN_ACTION = "unknown action '{act}': expected permit, deny or ask"
ERR_UNCLOSED_BRACKET = "missing ']'"
ERR_BAD_ERRNO = "errno names are lowercase identifiers, e.g. deny[enoent]"
ERR_BAD_INDEX = "the argument index must be a number, e.g. filename[1]"
ERR_TRAILING = "unexpected '{tok}' after the action"
ERR_EMPTY_EXPR = "missing condition before '{tok}'"
ERR_UNBALANCED_OPEN = "missing ')'"
ERR_UNBALANCED_CLOSE = "unbalanced ')'"
ERR_OPERAND = "'{op}' needs an operand on its {side}"
ERR_UNQUOTED = "the value must be a quoted string"
ERR_HEADER = "a policy header reads 'Policy: /path/to/binary, Emulation: native'"
ERR_LOG_PLACE = "'log' goes after the action, e.g. 'then deny log'"
ERR_AS = "'as' needs a user, a user:group or :group"
ERR_IF = "a predicate reads ', if user = NAME' or ', if group != NAME' (operators = != < >)"
ERR_UNEXPECTED = "unexpected '{tok}'"
ERR_MODIFIER = "permit takes [inherit] or [detach]"


class _LineError(Exception):
    def __init__(self, msg, column, length=1, hints=()):
        super().__init__(msg)
        self.msg, self.column, self.length, self.hints = msg, column, length, tuple(hints)


def strip_comment(line: str) -> str:
    """Drop a `#` comment that is outside double quotes."""
    hash_at = line.find("#")
    if hash_at < 0:
        return line  # most lines: no comment at all
    if '"' not in line[:hash_at]:
        return line[:hash_at]
    quoted = escaped = False
    for i, c in enumerate(line):
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == "#" and not quoted:
            return line[:i]
    return line


class PolicyParser:
    tokens = PolicyLexer.tokens
    precedence = (("left", "OR"), ("left", "AND"), ("right", "NOT"))

    def __init__(self):
        self.lexer = PolicyLexer(self._lex_error)
        self.parser = ply.yacc.yacc(
            module=self, start="line", write_tables=False, debug=False, errorlog=ply.yacc.NullLogger()
        )
        self._line = ""
        self._filename = ""
        self._lineno = 0
        self._history: list = []

    # ---------------------------------------------------------------- API --
    def parse(self, text: str, filename: str = "<string>") -> ast.PolicyFile:
        diags: list[Diagnostic] = []
        policies: list[dict] = []
        self._filename = filename
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = strip_comment(raw)
            if not line.strip():
                continue
            self._line, self._lineno = raw, lineno
            try:
                stmt = fast_rule(line, raw, filename, lineno) or self._parse_line(line)
                self._place(stmt, policies, raw)
            except _LineError as e:
                diags.append(
                    Diagnostic(
                        Coord(filename, lineno, e.column), e.msg, "error", raw, max(e.length, 1), e.hints
                    )
                )
        parsed = ast.PolicyFile(
            tuple(
                ast.Policy(p["binary"], p["emulation"], tuple(p["rules"]), p["detached"], p["coord"])
                for p in policies
            ),
            Coord(filename, 1, 1),
        )
        if diags:
            err = PolicyError(diags)
            err.partial = parsed  # the lines that did parse: the checker still reads them
            raise err
        return parsed

    # ------------------------------------------------------------ PRIVATE --
    def _coord(self, pos: int) -> Coord:
        return Coord(self._filename, self._lineno, pos + 1)

    def _lex_error(self, msg, column, length):
        raise _LineError(msg, column, length)

    def _parse_line(self, line: str):
        self._history = []
        toks = list(self.lexer.tokenize(line))
        it = iter(toks)

        def token():
            tok = next(it, None)
            if tok is not None:
                self._history.append(tok)
            return tok

        return self.parser.parse(line, tokenfunc=token)

    def _place(self, stmt, policies, raw):
        kind = stmt[0]
        if kind == "header":
            _, binary, emulation, coord = stmt
            policies.append(
                {"binary": binary, "emulation": emulation, "rules": [], "detached": False, "coord": coord}
            )
            return
        if not policies:
            raise _LineError(
                ERR_BEFORE_HEADER,
                stmt[-1].column if kind == "rule" else 1,
                hints=("start the policy with 'Policy: /path/to/binary, Emulation: native'",),
            )
        current = policies[-1]
        if kind == "detached":
            current["detached"] = True
            return
        rule: ast.Rule = stmt[1]
        if rule.emulation != current["emulation"]:
            raise _LineError(
                ERR_EMULATION.format(got=rule.emulation, want=current["emulation"]),
                rule.coord.column,
                len(rule.emulation),
            )
        current["rules"].append(
            ast.Rule(
                rule.emulation,
                rule.syscall,
                rule.expr,
                rule.action,
                rule.log,
                rule.as_user,
                rule.as_group,
                rule.predicate,
                rule.coord,
                raw,
            )
        )

    def _pos(self, p, i):
        return self._coord(p.lexpos(i))

    ##
    ## Grammar productions
    ##
    def p_line_header(self, p):
        """line : POLICY COLON path COMMA EMULATION COLON IDENT"""
        p[0] = ("header", p[3], p[7], self._pos(p, 1))

    def p_line_detached(self, p):
        """line : DETACHED"""
        p[0] = ("detached", self._pos(p, 1))

    def p_line_rule(self, p):
        """line : IDENT MINUS name COLON body"""
        expr, action, log, as_user, as_group, pred = p[5]
        p[0] = (
            "rule",
            ast.Rule(p[1], p[3], expr, action, log, as_user, as_group, pred, self._pos(p, 1), self._line),
            self._pos(p, 1),
        )

    def p_path(self, p):
        """path : PATH
        | STRING"""
        p[0] = p[1]

    def p_name(self, p):
        """name : IDENT
        | NUMBER
        | LOG
        | RE
        | SUB
        | USER
        | GROUP
        | MATCH"""
        p[0] = p[1]

    def p_body_action(self, p):
        """body : tail"""
        p[0] = (None,) + p[1]

    def p_body_expr(self, p):
        """body : expr then tail"""
        p[0] = (p[1],) + p[3]

    def p_then(self, p):
        """then : THEN
        | ARROW"""

    def p_tail(self, p):
        """tail : action log_opt as_opt pred_opt"""
        p[0] = (p[1], p[2]) + p[3] + (p[4],)

    def p_action_plain(self, p):
        """action : PERMIT
        | DENY
        | ASK"""
        p[0] = ast.Action(p[1], None, None, self._pos(p, 1))

    def p_action_deny_errno(self, p):
        """action : DENY LBRACKET IDENT RBRACKET"""
        if not p[3].islower():
            raise _LineError(ERR_BAD_ERRNO, p.lexpos(3) + 1, len(p[3]), (f"write deny[{p[3].lower()}]",))
        p[0] = ast.Action("deny", p[3], None, self._pos(p, 1))

    def p_action_permit_modifier(self, p):
        """action : PERMIT LBRACKET IDENT RBRACKET"""
        if p[3] not in ("inherit", "detach"):
            raise _LineError(ERR_MODIFIER, p.lexpos(3) + 1, len(p[3]))
        p[0] = ast.Action("permit", None, p[3], self._pos(p, 1))

    def p_log_opt(self, p):
        """log_opt : LOG
        | empty"""
        p[0] = p[1] == "log"

    def p_as_user(self, p):
        """as_opt : AS IDENT"""
        p[0] = (p[2], None)

    def p_as_user_group(self, p):
        """as_opt : AS IDENT COLON IDENT"""
        p[0] = (p[2], p[4])

    def p_as_group(self, p):
        """as_opt : AS COLON IDENT"""
        p[0] = (None, p[3])

    def p_as_none(self, p):
        """as_opt : empty"""
        p[0] = (None, None)

    def p_pred(self, p):
        """pred_opt : COMMA IF who cmp value"""
        p[0] = ast.Predicate(p[3], p[4], p[5], self._pos(p, 2))

    def p_pred_none(self, p):
        """pred_opt : empty"""
        p[0] = None

    def p_who(self, p):
        """who : USER
        | GROUP"""
        p[0] = p[1]

    def p_cmp(self, p):
        """cmp : EQ
        | NE
        | LT
        | GT"""
        p[0] = p[1]

    def p_value(self, p):
        """value : IDENT
        | NUMBER
        | STRING"""
        p[0] = p[1]

    def p_expr_or(self, p):
        """expr : expr OR expr"""
        p[0] = ast.OrNode(p[1], p[3], self._pos(p, 2))

    def p_expr_and(self, p):
        """expr : expr AND expr"""
        p[0] = ast.AndNode(p[1], p[3], self._pos(p, 2))

    def p_expr_not(self, p):
        """expr : NOT expr"""
        p[0] = ast.NotNode(p[2], self._pos(p, 1))

    def p_expr_paren(self, p):
        """expr : LPAREN expr RPAREN"""
        p[0] = p[2]

    def p_expr_true(self, p):
        """expr : TRUE"""
        p[0] = ast.TrueExpr(self._pos(p, 1))

    def p_expr_symbol(self, p):
        """expr : IDENT index_opt strop STRING"""
        p[0] = ast.Symbol(p[1], p[2], p[3], p[4], self._pos(p, 1))

    def p_index(self, p):
        """index_opt : LBRACKET NUMBER RBRACKET"""
        p[0] = int(p[2])

    def p_index_none(self, p):
        """index_opt : empty"""
        p[0] = 0

    def p_strop(self, p):
        """strop : EQKW
        | NEQ
        | SUB
        | NSUB
        | MATCH
        | INPATH
        | RE"""
        p[0] = p[1]

    def p_empty(self, p):
        """empty :"""
        p[0] = None

    def p_error(self, tok):
        raise _diagnose(tok, self._history, self._line)


# ------------------------------------------------------- error messages --

_ACTIONS = ("PERMIT", "DENY", "ASK")


def _diagnose(tok, history, line) -> _LineError:
    """Turn PLY's 'syntax error at tok' into the most useful message."""
    prev = [t for t in history if t is not tok]
    last = prev[-1] if prev else None
    lt = last.type if last else None
    col = tok.lexpos + 1 if tok is not None else len(line.rstrip()) + 1
    length = len(str(tok.value)) if tok is not None else 1
    ty = tok.type if tok is not None else None
    types = [t.type for t in prev]
    opens = types.count("LPAREN") - types.count("RPAREN")

    if types[:1] == ["POLICY"] or ty == "EMULATION":
        return _LineError(ERR_HEADER, col, length)
    if types[:1] == ["IDENT"] and ty == "COLON" and len(types) == 1:
        name = prev[0].value
        return _LineError(ERR_NO_PREFIX.format(emu="native", name=name), prev[0].lexpos + 1, len(name))
    if types[:2] == ["IDENT", "MINUS"] and len(types) == 3 and ty != "COLON":
        return _LineError(ERR_NO_COLON, col, length)
    if ty == "LOG":
        return _LineError(ERR_LOG_PLACE, col, length)
    if lt == "AS":
        return _LineError(ERR_AS, col, length)
    if (
        lt in ("IF", "USER", "GROUP")
        and "IF" in types
        or (lt == "COMMA" and "IF" not in types and ty != "IF" and any(t in _ACTIONS for t in types))
    ):
        return _LineError(ERR_IF, col, length)
    if lt in ("THEN", "ARROW"):
        if ty == "IDENT":
            hint = ("use permit",) if tok.value in ("allow", "accept", "pass") else ()
            return _LineError(ERR_UNKNOWN_ACTION.format(act=tok.value), col, length, hint)
        return _LineError(ERR_NO_ACTION, col, length)
    if lt == "LBRACKET":
        if any(t in _ACTIONS for t in types[-2:]):
            return _LineError(
                ERR_BAD_ERRNO if tok is not None else ERR_UNCLOSED_BRACKET,
                col,
                length,
                ("e.g. deny[enoent]",),
            )
        return _LineError(ERR_BAD_INDEX, col, length)
    if lt == "IDENT" and len(types) >= 1 and types[-2:-1] != ["MINUS"] and ty == "IDENT":
        return _LineError(ERR_UNKNOWN_OP.format(op=tok.value), col, length)
    if (
        lt == "IDENT"
        and types[:2] == ["IDENT", "MINUS"]
        and len(types) > 4
        and ty in ("IDENT", "STRING", "PATH")
    ):
        return _LineError(ERR_UNKNOWN_OP.format(op=tok.value), col, length)
    if lt in ("EQKW", "NEQ", "SUB", "NSUB", "MATCH", "INPATH", "RE") and ty != "STRING":
        return _LineError(
            ERR_UNQUOTED, col, length, ('put the value in double quotes, e.g. filename eq "/etc/passwd"',)
        )
    if lt in ("AND", "OR", "NOT") and last is not None:
        return _LineError(ERR_OPERAND.format(op=last.value, side="right"), last.lexpos + 1, len(last.value))
    if ty in ("AND", "OR") and lt in ("COLON", "LPAREN", "NOT"):
        return _LineError(ERR_OPERAND.format(op=tok.value, side="left"), col, length)
    if lt == "COLON" and ty in ("THEN", "ARROW"):
        return _LineError(ERR_EMPTY_EXPR.format(tok=tok.value), col, length)
    if ty == "RPAREN" and opens <= 0:
        return _LineError(ERR_UNBALANCED_CLOSE, col, length)
    if opens > 0 and (tok is None or ty in ("THEN", "ARROW")):
        return _LineError(ERR_UNBALANCED_OPEN, col, 1)
    if tok is None and lt in ("STRING", "TRUE", "RPAREN"):
        return _LineError(ERR_NO_THEN, col, 1)
    if ty in ("PERMIT", "DENY", "ASK") and lt in ("STRING", "TRUE", "RPAREN"):
        return _LineError(ERR_NO_THEN, col, length)
    if any(t in _ACTIONS for t in types) and "THEN" not in types[-1:]:
        if lt in ("DENY", "RBRACKET") and ty == "LBRACKET" or (lt == "IDENT" and ty is None):
            return _LineError(ERR_UNCLOSED_BRACKET, col, length)
        if tok is not None:
            return _LineError(ERR_TRAILING.format(tok=tok.value), col, length)
    if tok is None:
        return _LineError("unexpected end of line", col, 1)
    return _LineError(ERR_UNEXPECTED.format(tok=tok.value), col, length)
