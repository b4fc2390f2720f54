"""AST of systrace policy files: frozen dataclasses, each with a coord.

One file holds policies; a policy holds rules in file order; a rule is
`E-NAME: [EXPR then] ACTION [log] [as USER[:GROUP]] [, if user|group OP VALUE]`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import Coord


class Node:
    __slots__ = ()

    def children(self):
        out = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Node):
                out.append((f.name, v))
            elif isinstance(v, tuple):
                out.extend((f"{f.name}[{i}]", c) for i, c in enumerate(v) if isinstance(c, Node))
        return out


@dataclass(frozen=True, slots=True)
class TrueExpr(Node):
    coord: Coord


@dataclass(frozen=True, slots=True)
class Symbol(Node):
    arg: str
    index: int
    op: str  # eq neq sub nsub match inpath re
    value: str
    coord: Coord


@dataclass(frozen=True, slots=True)
class NotNode(Node):
    expr: Expr
    coord: Coord


@dataclass(frozen=True, slots=True)
class AndNode(Node):
    left: Expr
    right: Expr
    coord: Coord


@dataclass(frozen=True, slots=True)
class OrNode(Node):
    left: Expr
    right: Expr
    coord: Coord


Expr = TrueExpr | Symbol | NotNode | AndNode | OrNode


@dataclass(frozen=True, slots=True)
class Action(Node):
    kind: str  # permit deny ask
    errno: str | None  # deny[enoent]
    modifier: str | None  # permit[inherit] / permit[detach]
    coord: Coord


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    kind: str  # user group
    op: str  # = != < >
    value: str
    coord: Coord


@dataclass(frozen=True, slots=True)
class Rule(Node):
    emulation: str
    syscall: str
    expr: Expr | None
    action: Action
    log: bool
    as_user: str | None
    as_group: str | None
    predicate: Predicate | None
    coord: Coord
    source: str


@dataclass(frozen=True, slots=True)
class Policy(Node):
    binary: str
    emulation: str
    rules: tuple[Rule, ...]
    detached: bool
    coord: Coord


@dataclass(frozen=True, slots=True)
class PolicyFile(Node):
    policies: tuple[Policy, ...]
    coord: Coord


class NodeVisitor:
    """visit(node) calls visit_<Class>(node), else generic_visit."""

    def visit(self, node):
        return getattr(self, "visit_" + type(node).__name__, self.generic_visit)(node)

    def generic_visit(self, node):
        for _, child in node.children():
            self.visit(child)


def dump(node: Node, indent: str = "") -> str:
    """Readable tree (attributes inline, children indented), no coords."""
    attrs = []
    for f in fields(node):  # type: ignore[arg-type]
        v = getattr(node, f.name)
        if (
            f.name in ("coord", "source")
            or isinstance(v, Node)
            or (isinstance(v, tuple) and v and isinstance(v[0], Node))
        ):
            continue
        if v not in (None, False, ()):
            attrs.append(f"{f.name}={v!r}")
    lines = [f"{indent}{type(node).__name__}({', '.join(attrs)})"]
    for name, child in node.children():
        lines.append(f"{indent}  {name}:")
        lines.append(dump(child, indent + "    "))
    return "\n".join(lines)


def ast_equal(a, b) -> bool:
    """Structural equality ignoring coordinates and source text."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(ast_equal(x, y) for x, y in zip(a, b, strict=True))
    if not isinstance(a, Node):
        return a == b
    return all(
        ast_equal(getattr(a, f.name), getattr(b, f.name))
        for f in fields(a)  # type: ignore[arg-type]
        if f.name not in ("coord", "source")
    )
