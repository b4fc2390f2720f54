"""AST -> checked model. Collects every problem, raises PolicyError once.

Errors: unknown system call names (a typo such as `fswirte` would otherwise
turn a deny rule into nothing), unknown argument names, unknown errno names,
arguments the operation does not have, a binary with two policies. Rules the
kernel cannot enforce (a call Linux or OpenBSD has that no hook sees) are kept
with their reason (`Rule.why_not`) and a warning; they never disappear.

Fail-closed treatment of what the kernel cannot see: a rule whose condition
needs an argument the hook does not render is enforced as if the condition
were false for a permit (it never permits) and true for a deny (it always
denies) — so the kernel may deny more than systrace would, never permit more.
"""

from __future__ import annotations

import errno as _errno
import os
import pwd

from ..errors import Diagnostic, PolicyError
from ..policy import ast
from . import capabilities, lint, syscalls
from .types import And, Atom, Const, Expr, Not, Or, Policy, Rule, atoms

ERRNO_BY_NAME = {name.lower(): num for num, name in _errno.errorcode.items()}


def errno_value(name: str) -> int | None:
    return ERRNO_BY_NAME.get(name)


class _Checker:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.diags: list[Diagnostic] = []

    def error(self, node, msg, *hints, length=1, source=None):
        self.diags.append(Diagnostic(node.coord, msg, "error", source, length, tuple(hints)))

    def warn(self, node, msg, *hints, source=None):
        self.diags.append(Diagnostic(node.coord, msg, "warning", source, 1, tuple(hints)))

    def expand(self, text: str) -> str:
        for var in ("HOME", "USER", "CWD"):
            text = text.replace("$" + var, self.env.get(var, ""))
        return text

    def expr(self, node, rule_src: str) -> Expr:
        if node is None or isinstance(node, ast.TrueExpr):
            return Const(True)
        if isinstance(node, ast.NotNode):
            return Not(self.expr(node.expr, rule_src))
        if isinstance(node, ast.AndNode):
            return And(self.expr(node.left, rule_src), self.expr(node.right, rule_src))
        if isinstance(node, ast.OrNode):
            return Or(self.expr(node.left, rule_src), self.expr(node.right, rule_src))
        if node.arg not in syscalls.ARG_NAMES:
            self.error(
                node,
                f"unknown argument name '{node.arg}'",
                "systrace's argument names: " + ", ".join(sorted(syscalls.ARG_NAMES)),
                length=len(node.arg),
                source=rule_src,
            )
        return Atom(node.arg, node.index, node.op, self.expand(node.value))

    def rule(self, node: ast.Rule) -> Rule:
        expr = self.expr(node.expr, node.source)
        act = node.action
        if act.kind == "permit":
            err, err_name = 0, ""
        elif act.errno is None:
            err, err_name = _errno.EPERM, "eperm"
        else:
            err_name = act.errno
            err = errno_value(act.errno) or 0
            if not err:
                self.error(
                    act,
                    f"unknown errno name '{act.errno}'",
                    "use a Linux errno name in lowercase, e.g. deny[enoent] or deny[eacces]",
                    length=len(act.errno) + 6,
                    source=node.source,
                )
        if act.kind == "ask":
            err, err_name = _errno.EPERM, "eperm"
        ops = syscalls.ops_of(node.syscall)
        esrch = err == _errno.ESRCH and any(o.name == "kill" for o in ops)
        if esrch:
            # the kernel takes ESRCH from a signal's permission check for "the
            # target vanished" and looks it up again, forever (kill_pid_info)
            err, err_name = _errno.EPERM, "eperm"
        op = ops[0] if ops else None  # every op of one name renders the same arguments
        why_not = approx = None
        resolved: list[str] = []
        if op is not None and op.arg == "uid":
            expr = _resolve_unames(expr, resolved)
        if op is None:
            why_not = syscalls.why_not_enforceable(node.syscall)
            self._known(node)
        else:
            approx = self._approximations(node, expr, op)
            if resolved:
                approx = "; ".join(filter(None, [approx, *resolved]))
            if esrch:
                approx = "; ".join(
                    filter(
                        None,
                        [
                            approx,
                            "deny[esrch] on a signal is enforced as deny[eperm] (the kernel retries ESRCH)",
                        ],
                    )
                )
        enforced_expr = self._fail_closed(expr, op, act.kind)
        if node.predicate is not None and act.kind == "permit":
            enforced_expr = Const(False)  # never permit on an unevaluated predicate
        binding = act.modifier if any(o.name == "execve" for o in ops) else None
        return Rule(
            node.syscall,
            tuple(o.op for o in ops),
            enforced_expr,
            act.kind,
            err,
            err_name,
            node.log,
            node.coord,
            node.source,
            why_not,
            approx,
            binding,
        )

    def _known(self, node: ast.Rule) -> None:
        """An error for a system call name neither Linux, OpenBSD nor systrace has."""
        name = node.syscall
        if syscalls.known(name):
            return
        near = syscalls.near(name)
        self.error(
            node,
            f"unknown system call '{name}'" + (f": did you mean '{near}'?" if near else ""),
            "systrace names a rule after a system call (Linux's, OpenBSD's or NetBSD's) or an alias "
            "(fsread, fswrite); `bpfsystrace check` lists the names it enforces",
            length=len(node.emulation) + 1 + len(name),
            source=node.source,
        )

    def _approximations(self, node, expr, op) -> str | None:
        notes = []
        if node.action.kind == "ask":
            notes.append("'ask' cannot prompt from the kernel: enforced as deny")
        if node.action.modifier and op.name != "execve":
            notes.append(
                f"permit[{node.action.modifier}] only means something on execve: here it is a plain permit"
            )
        if node.as_user or node.as_group:
            notes.append("'as user:group' cannot change credentials from an LSM: ignored")
        if node.predicate is not None:
            notes.append("', if user/group' predicates are not evaluated: the rule is treated fail-closed")
        unseen = sorted(
            {
                a.arg if a.index == 0 else f"{a.arg}[{a.index}]"
                for a in atoms(expr)
                if not op.sees(a.arg, a.index)
            }
        )
        if unseen:
            notes.append(
                f"the kernel does not see {', '.join(unseen)} for {op.name}: condition treated fail-closed"
            )
        return "; ".join(notes) or None

    def _fail_closed(self, expr: Expr, op, kind: str) -> Expr:
        """Replace atoms the hook cannot see so the rule errs towards denial.

        A permit rule must only match where systrace's would (unseen atoms are
        false in positive position, true under an odd number of `not`); a
        deny rule must match at least where systrace's would (the opposite).
        """
        if op is None:
            return expr
        want_true = kind != "permit"

        def walk(e, positive):
            if isinstance(e, Atom):
                if op.sees(e.arg, e.index):
                    return e
                return Const(want_true if positive else not want_true)
            if isinstance(e, Not):
                return Not(walk(e.expr, not positive))
            if isinstance(e, (And, Or)):
                return type(e)(walk(e.left, positive), walk(e.right, positive))
            return e

        return walk(expr, True)

    def policy(self, node: ast.Policy) -> Policy:
        rules = []
        for r in node.rules:
            rule = self.rule(r)
            rules.append(rule)
            for why in lint.atoms_never_holding(rule.expr):
                self.warn(r, f"this rule can never match: {why}", source=r.source)
        for rule, first in lint.unreachable(rules):
            node_of = node.rules[rules.index(rule)]
            self.warn(
                node_of,
                f"this rule is never reached: the {first.syscall} rule at line {first.coord.line} "
                "decides everything it would",
                "remove it, or move it above that rule",
                source=node_of.source,
            )
        return Policy(
            node.binary,
            node.emulation,
            tuple(rules),
            node.detached,
            node.coord,
            capabilities.rule(rules, node.coord),
        )


def _resolve_unames(expr: Expr, notes: list[str]) -> Expr:
    """`uname eq "named"` -> `uid eq "70"` (this host's user database, when the
    policy is checked): the kernel sees ids, not names. Other operators on
    uname stay unseen (fail-closed)."""
    if isinstance(expr, Atom):
        if expr.arg != "uname" or expr.index != 0 or expr.op not in ("eq", "neq"):
            return expr
        try:
            uid = pwd.getpwnam(expr.value).pw_uid
        except KeyError:
            notes.append(f"uname \"{expr.value}\" is no user on this host: never equal")
            return Const(expr.op == "neq")
        notes.append(f"uname \"{expr.value}\" is uid {uid} on this host")
        atom = Atom("uid", 0, "eq", str(uid))
        return atom if expr.op == "eq" else Not(atom)
    if isinstance(expr, Not):
        return Not(_resolve_unames(expr.expr, notes))
    if isinstance(expr, (And, Or)):
        return type(expr)(_resolve_unames(expr.left, notes), _resolve_unames(expr.right, notes))
    return expr


def default_env() -> dict[str, str]:
    return {
        "HOME": os.environ.get("HOME", "/root"),
        "USER": os.environ.get("USER", "root"),
        "CWD": os.getcwd(),
    }


def check(files, env: dict[str, str] | None = None) -> tuple[tuple[Policy, ...], tuple[Diagnostic, ...]]:
    """Check parsed policy files. Returns (policies, warnings); raises PolicyError."""
    c = _Checker(env if env is not None else default_env())
    seen: dict[str, Policy] = {}
    out = []
    for pf in files:
        if not pf.policies:
            c.error(
                pf,
                f"{pf.coord.file} holds no policy: no 'Policy:' header (an empty or "
                f"comment-only file would confine nothing)",
                "start it with 'Policy: /path/to/binary, Emulation: native' and its rules, "
                "or remove the file",
            )
        for pnode in pf.policies:
            if not pnode.rules and not pnode.detached:
                c.error(
                    pnode,
                    f"the policy for {pnode.binary} has no rules",
                    "add its rules (e.g. 'native-fsread: filename eq \"/etc/hosts\" then "
                    "permit'), or mark it 'detached'; 'bpfsystrace learn' writes them",
                )
            pol = c.policy(pnode)
            if pol.binary in seen:
                c.error(
                    pnode,
                    f"a second policy for {pol.binary}",
                    f"the first one is at {seen[pol.binary].coord}",
                )
            seen[pol.binary] = pol
            out.append(pol)
    errors = [d for d in c.diags if d.severity == "error"]
    if errors:
        raise PolicyError(c.diags)
    return tuple(out), tuple(c.diags)
