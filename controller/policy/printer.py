"""AST -> canonical systrace text (`bpfsystrace fmt`).

One `Policy:` line per policy, rules indented by one tab in their original
order (order is meaning), `then` instead of `->`, strings double-quoted with
`\\` and `"` escaped, parentheses only where precedence (not > and > or)
needs them. format_text keeps comments (bpfsystrace fmt uses it);
parse(format(parse(x))) equals parse(x).
"""

from __future__ import annotations

from . import ast

_PREC = {ast.OrNode: 1, ast.AndNode: 2, ast.NotNode: 3}


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_expr(e, parent: int = 0) -> str:
    if isinstance(e, ast.TrueExpr):
        return "true"
    if isinstance(e, ast.Symbol):
        idx = f"[{e.index}]" if e.index else ""
        return f"{e.arg}{idx} {e.op} {quote(e.value)}"
    prec = _PREC[type(e)]
    if isinstance(e, ast.NotNode):
        text = "not " + format_expr(e.expr, prec)
    else:
        word = "or" if isinstance(e, ast.OrNode) else "and"
        # left-associative: a right operand of the same precedence needs parens
        text = f"{format_expr(e.left, prec)} {word} {format_expr(e.right, prec + 1)}"
    return f"({text})" if prec < parent else text


def format_action(a: ast.Action) -> str:
    if a.errno:
        return f"deny[{a.errno}]"
    if a.modifier:
        return f"permit[{a.modifier}]"
    return a.kind


def format_rule(r: ast.Rule) -> str:
    text = f"{r.emulation}-{r.syscall}: "
    if r.expr is not None:
        text += format_expr(r.expr) + " then "
    text += format_action(r.action)
    if r.log:
        text += " log"
    if r.as_user or r.as_group:
        text += " as " + (r.as_user or "") + (f":{r.as_group}" if r.as_group else "")
    if r.predicate:
        p = r.predicate
        text += f", if {p.kind} {p.op} {p.value if p.value.isidentifier() or p.value.isdigit() else quote(p.value)}"
    return text


def format_policy_file(pf: ast.PolicyFile) -> str:
    out = []
    for pol in pf.policies:
        path = pol.binary if all(c not in pol.binary for c in ' ,"()[]') else quote(pol.binary)
        out.append(f"Policy: {path}, Emulation: {pol.emulation}")
        if pol.detached:
            out.append("\tdetached")
        out.extend("\t" + format_rule(r) for r in pol.rules)
    return "\n".join(out) + "\n"


def format_text(text: str, pf: ast.PolicyFile) -> str:
    """`text` (which parsed to `pf`) in canonical form, keeping every comment.

    Statements are replaced by their canonical form, found by line number;
    own-line comments stay where they were (indented like the rules when
    inside a policy), trailing comments stay after their statement, runs of
    blank lines shrink to one."""
    from .parser import strip_comment

    canon: dict[int, str] = {}
    for pol in pf.policies:
        path = pol.binary if all(c not in pol.binary for c in ' ,"()[]') else quote(pol.binary)
        canon[pol.coord.line] = f"Policy: {path}, Emulation: {pol.emulation}"
        for r in pol.rules:
            canon[r.coord.line] = "\t" + format_rule(r)
    out: list[str] = []
    inside = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        code = strip_comment(raw)
        comment = raw[len(code) :].strip()
        if not code.strip():
            if comment:
                out.append(("\t" if inside else "") + comment)
            elif out and out[-1] != "":
                out.append("")
            continue
        stmt = canon.get(lineno)
        if stmt is None:  # `detached`: the only statement without a coord
            stmt = "\t" + code.strip()
        inside = inside or stmt.startswith("Policy:")
        out.append(stmt + (" " + comment if comment else ""))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
