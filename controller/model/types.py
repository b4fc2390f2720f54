"""The checked policy model: what the compiler and the reference evaluator use.

Values are resolved (errno numbers, expanded variables) and every rule says
whether the kernel enforces it and, if not, why. Coordinates are kept so that
anything later (compile budgets, explain, status) can point at the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Coord


# Predicates over the object string(s). `index` selects filename[1] etc.
@dataclass(frozen=True, slots=True)
class Atom:
    arg: str
    index: int
    op: str  # eq neq sub nsub match inpath re
    value: str


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


@dataclass(frozen=True, slots=True)
class Not:
    expr: Expr


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


Expr = Atom | Const | Not | And | Or


@dataclass(frozen=True, slots=True)
class Rule:
    syscall: str  # systrace name as written (fsread, bind, mmap, ...)
    ops: tuple[int, ...]  # abi.BST_OP_* it decides (an alias decides several); () if none
    expr: Expr
    action: str  # permit | deny | ask
    errno: int  # 0 for permit, else the errno a denial returns
    errno_name: str  # "" for permit
    log: bool
    coord: Coord
    source: str  # the rule line as written
    why_not: str | None = None  # "not enforceable: ..." reason, None if enforced
    approx: str | None = None  # enforced, but only approximately: why
    binding: str | None = None  # execve permit[inherit] / permit[detach]: "inherit" | "detach"

    @property
    def enforced(self) -> bool:
        return self.why_not is None


@dataclass(frozen=True, slots=True)
class Policy:
    binary: str  # the Policy: header's path
    emulation: str
    rules: tuple[Rule, ...]
    detached: bool
    coord: Coord
    capabilities: Rule | None = None  # generated native-capable rule (model/capabilities.py)

    def rules_for(self, op: int) -> tuple[Rule, ...]:
        """The enforced rules deciding `op`, in file order (then the generated one)."""
        rules = tuple(r for r in self.rules if op in r.ops and r.enforced)
        if self.capabilities is not None and op in self.capabilities.ops:
            rules += (self.capabilities,)
        return rules


def atoms(expr: Expr):
    """Every Atom in an expression, left to right."""
    if isinstance(expr, Atom):
        yield expr
    elif isinstance(expr, Not):
        yield from atoms(expr.expr)
    elif isinstance(expr, (And, Or)):
        yield from atoms(expr.left)
        yield from atoms(expr.right)


def evaluate(expr: Expr, truth) -> bool:
    """Evaluate `expr`, asking `truth(atom)` for each atom."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Atom):
        return truth(expr)
    if isinstance(expr, Not):
        return not evaluate(expr.expr, truth)
    if isinstance(expr, And):
        return evaluate(expr.left, truth) and evaluate(expr.right, truth)
    return evaluate(expr.left, truth) or evaluate(expr.right, truth)
