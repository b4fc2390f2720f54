"""One DFA per (policy, operation): first-match rule selection in O(len).

All atoms of the operation's rules go into one NFA; subset construction gives
a DFA whose states know which atoms accept a string ending there, and so which
rule is the first whose expression holds. A state's decision is an index into
the rule list, or `len(rules)` for "no rule matched" (systrace's deny).

Each state has a default successor and explicit transitions only for bytes
that go elsewhere; a state that can never be left is FINAL, and the kernel
stops walking there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.types import And, Atom, Expr, Not, Or, atoms, evaluate
from .nfa import ALL, NFA, atom_fragment

POSITIVE = {"neq": "eq", "nsub": "sub"}


class StateBudgetExceeded(Exception):
    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


@dataclass(slots=True)
class DState:
    next: int
    rule: int
    trans: dict[int, int] = field(default_factory=dict)

    def final(self, me: int) -> bool:
        return self.next == me and not self.trans


@dataclass(slots=True)
class DFA:
    start: int
    states: list[DState]

    def run(self, data: bytes) -> int:
        """Decision for a string (the kernel's walk, in Python)."""
        s = self.start
        for b in data:
            st = self.states[s]
            if st.final(s):
                break
            s = st.trans.get(b, st.next)
        return self.states[s].rule


def positive(expr: Expr) -> Expr:
    """Rewrite neq/nsub atoms as not(eq/sub) so every atom is a language."""
    if isinstance(expr, Atom):
        if expr.op in POSITIVE:
            return Not(Atom(expr.arg, expr.index, POSITIVE[expr.op], expr.value))
        return expr
    if isinstance(expr, Not):
        return Not(positive(expr.expr))
    if isinstance(expr, (And, Or)):
        return type(expr)(positive(expr.left), positive(expr.right))
    return expr


def build(exprs: list[Expr], max_states: int = 200_000, part=None, nparts: int = 2) -> DFA:
    """DFA deciding the first of `exprs` that holds (len(exprs): none).

    part (several-string operations): atom -> its part, 0 to nparts - 1. The
    object string is "first\\0second..." (rename, link: filename and
    filename[1]; socket: sockdom, socktype and sockproto; kill: pidname and
    signame; none of them holds a NUL); an atom on part i holds for the text
    between the i-th and the next NUL: (N*·\\0)^i·L·(\\0·N*)^(nparts-1-i), N any byte
    but NUL. The string holds exactly nparts - 1 NULs, so L cannot reach across
    one and each atom sees exactly its part.

    Raises nfa.PatternError for an untranslatable pattern and
    StateBudgetExceeded when more than max_states states would be needed."""
    exprs = [positive(e) for e in exprs]
    index: dict[Atom, int] = {}
    for expr in exprs:
        for a in atoms(expr):
            index.setdefault(a, len(index))
    nfa = NFA()
    start = nfa.state()
    trie = _Trie(nfa, start)
    for a, i in index.items():
        if part is None and a.op == "eq":
            trie.accept(a.value.encode(), i)  # exact strings share their prefixes
            continue
        first, last = atom_fragment(nfa, a.op, a.value)
        if part is not None:
            k = part(a)
            before = [nfa.concat(_not_nul_star(nfa), nfa.literal(b"\0")) for _ in range(k)]
            after = [nfa.concat(nfa.literal(b"\0"), _not_nul_star(nfa)) for _ in range(nparts - 1 - k)]
            first, last = nfa.concat(*before, (first, last), *after)
        nfa.epsilon(start, first)
        nfa.accept[last] = i
    return _Builder(nfa, exprs, index, max_states, frozenset(trie.children)).run(start)


def _not_nul_star(nfa: NFA) -> tuple[int, int]:
    """Any bytes but NUL, repeated (the text of one part)."""
    s = nfa.state()
    nfa.edge(s, ALL & ~1, s)
    return s, s


def _futures(nfa: NFA, skip: frozenset[int] = frozenset()) -> dict[int, tuple[int, int]]:
    """NFA state -> (future, atom) for states whose future is a plain chain.

    A chain is what is left of a glob after its last `*` (or of a `sub`
    after its string): single bytes or classes, at most one `*` loop, ending
    in the one accepting state of one atom. Two states with the same future
    number accept exactly the same continuations, so whichever of their
    atoms accepts, the other does too (_Builder._prune relies on this).
    `skip`: states left out (the trie's: one string at a time, nothing to prune)."""
    edges, eps, accept = nfa.edges, nfa.eps, nfa.accept
    names: dict[tuple, int] = {}
    memo: dict[int, tuple[int, int] | None] = {}

    def shape(s):
        if s in skip:
            return None
        e, x = edges[s], eps[s]
        if s in accept:
            if not e and not x:
                return ("end",)
            if not x and len(e) == 1 and e[0] == (ALL, s):
                return ("end*",)
            return None
        if not e and len(x) == 1:
            return ("eps", x[0])
        if not x and len(e) == 1 and e[0][1] != s:
            return ("e", e[0][0], e[0][1])
        if len(x) == 1 and len(e) == 1 and e[0] == (ALL, s):
            return ("*", x[0])
        return None

    for s0 in range(len(edges)):
        if s0 in skip:
            continue
        path, on_path, s = [], set(), s0
        while True:
            if s in memo:
                res = memo[s]
                break
            sh = shape(s) if s not in on_path else None
            if sh is None:
                res = memo[s] = None
                break
            if len(sh) == 1:
                res = memo[s] = (names.setdefault(sh, len(names)), accept[s])
                break
            on_path.add(s)
            path.append((s, sh))
            s = sh[-1]
        for s, sh in reversed(path):
            if res is not None and sh[0] != "eps":
                step = (sh[0], sh[1], res[0]) if sh[0] == "e" else ("*", res[0])
                res = (names.setdefault(step, len(names)), res[1])
            memo[s] = res
    return {s: f for s, f in memo.items() if f is not None}


class _Trie:
    """The exact strings (`eq` atoms) of a one-string operation as one prefix
    tree of NFA states hung off the start: thousands of strings become one
    deterministic part of the NFA instead of thousands of chains, so the
    subset construction follows one trie node per string prefix."""

    def __init__(self, nfa: NFA, start: int):
        self.nfa = nfa
        self.start = start
        self.root = -1  # made with the first string
        self.children: dict[int, dict[int, int]] = {}

    def accept(self, data: bytes, atom: int) -> None:
        nfa = self.nfa
        if self.root < 0:
            self.root = nfa.state()
            nfa.epsilon(self.start, self.root)
            self.children[self.root] = {}
        node = self.root
        for b in data:
            kids = self.children[node]
            nxt = kids.get(b)
            if nxt is None:
                nxt = kids[b] = nfa.state()
                self.children[nxt] = {}
                nfa.edge(node, 1 << b, nxt)
            node = nxt
        if node in nfa.accept:  # the same string in another atom: its own accepting state
            end = nfa.state()
            nfa.epsilon(node, end)
            node = end
        nfa.accept[node] = atom


def _monotone(expr: Expr) -> bool:
    """True when expr can only hold if one of its atoms holds (no not/true)."""
    if isinstance(expr, Atom):
        return True
    if isinstance(expr, (And, Or)):
        return _monotone(expr.left) and _monotone(expr.right)
    return False  # Not, Const


class _Builder:
    def __init__(self, nfa, exprs, index, max_states, trie_states=frozenset()):
        self.nfa, self.exprs, self.index, self.max = nfa, exprs, index, max_states
        self.trie_states = trie_states
        self.closures: dict[int, frozenset[int]] = {}
        self.ids: dict[frozenset[int], int] = {}
        self.sets: list[frozenset[int]] = []
        self.decisions: dict[frozenset[int], int] = {}
        self._by_atom, self._always = self._candidates()
        self._dominance()

    def closure_of(self, s: int) -> frozenset[int]:
        c = self.closures.get(s)
        if c is None:
            seen, todo = {s}, [s]
            while todo:
                for t in self.nfa.eps[todo.pop()]:
                    if t not in seen:
                        seen.add(t)
                        todo.append(t)
            c = self.closures[s] = frozenset(seen)
        return c

    def _dominance(self) -> None:
        """What _prune needs: per atom, the first rule that is that atom alone
        (`sure`: the atom holding decides at most that rule) and the first
        rule that uses it at all; the states that may be pruned."""
        inf = len(self.exprs)
        self.sure = [inf] * len(self.index)
        self.first_use = [inf] * len(self.index)
        for i, e in enumerate(self.exprs):
            for a in atoms(e):
                j = self.index[a]
                self.first_use[j] = min(self.first_use[j], i)
            if isinstance(e, Atom):
                j = self.index[e]
                self.sure[j] = min(self.sure[j], i)
        futures = _futures(self.nfa, self.trie_states)
        atoms_of: dict[int, set[int]] = {}
        for f, a in futures.values():
            atoms_of.setdefault(f, set()).add(a)
        # only a future shared by two atoms can ever let one state go
        self.futures = {s: fa for s, fa in futures.items() if len(atoms_of[fa[0]]) > 1}
        self.prunable = frozenset(self.futures)

    def _prune(self, nset: frozenset[int]) -> frozenset[int]:
        """Drop the threads that can no longer change the decision.

        A thread of atom b is dead weight when another thread in the set has
        the same future (_futures) and belongs to an atom a whose rule alone
        comes before every rule that uses b: whenever b would accept, a
        accepts too and the decision is at most a's rule. Without this, many
        globs with one tail (`*.conf`) make the subset construction remember
        every combination of those that have started (2^n states); with it,
        only the first of them."""
        cand = nset & self.prunable
        if len(cand) < 2:
            return nset
        best: dict[int, int] = {}
        for s in cand:
            f, a = self.futures[s]
            r = self.sure[a]
            if r < best.get(f, r + 1):
                best[f] = r
        drop = [s for s in cand if self.first_use[self.futures[s][1]] > best[self.futures[s][0]]]
        return nset.difference(drop) if drop else nset

    def state_id(self, targets) -> int:
        key = frozenset().union(*(self.closure_of(t) for t in targets)) if targets else frozenset()
        key = self._prune(key)
        sid = self.ids.get(key)
        if sid is None:
            if len(self.sets) >= self.max:
                raise StateBudgetExceeded(self.max)
            sid = self.ids[key] = len(self.sets)
            self.sets.append(key)
        return sid

    def _candidates(self):
        """Per atom, the rules using it; plus rules that may hold with no atom."""
        by_atom: dict[int, list[int]] = {}
        always = []
        for i, e in enumerate(self.exprs):
            if _monotone(e):
                for a in atoms(e):
                    by_atom.setdefault(self.index[a], []).append(i)
            else:
                always.append(i)
        return by_atom, always

    def decide(self, nset: frozenset[int]) -> int:
        accepted = frozenset(self.nfa.accept[s] for s in nset if s in self.nfa.accept)
        d = self.decisions.get(accepted)
        if d is None:
            cands = set(self._always)
            for a in accepted:
                cands.update(self._by_atom.get(a, ()))
            truth = lambda a: self.index[a] in accepted  # noqa: E731
            d = next((i for i in sorted(cands) if evaluate(self.exprs[i], truth)), len(self.exprs))
            self.decisions[accepted] = d
        return d

    def run(self, start: int) -> DFA:
        states: list[DState] = []
        self.state_id([start])
        done = 0
        while done < len(self.sets):
            states.append(self.expand(self.sets[done]))
            done += 1
        return DFA(0, states)

    def expand(self, nset: frozenset[int]) -> DState:
        anyt: set[int] = set()
        single: dict[int, set[int]] = {}
        partial: list[tuple[int, int]] = []
        for s in nset:
            for mask, t in self.nfa.edges[s]:
                if mask == ALL:
                    anyt.add(t)
                elif mask & (mask - 1) == 0:
                    single.setdefault(mask.bit_length() - 1, set()).add(t)
                else:
                    partial.append((mask, t))
        explicit = set(single)
        for mask, _ in partial:
            explicit.update(b for b in range(256) if mask >> b & 1)
        if len(explicit) > 128:
            return self._expand_wide(nset, anyt, single, partial)
        default = self.state_id(anyt)
        trans = {}
        for b in sorted(explicit):
            targets = anyt | single.get(b, set())
            targets.update(t for mask, t in partial if mask >> b & 1)
            if targets != anyt:
                nxt = self.state_id(targets)
                if nxt != default:
                    trans[b] = nxt
        return DState(default, self.decide(nset), trans)

    def _expand_wide(self, nset, anyt, single, partial) -> DState:
        """A state whose bytes mostly go one way other than `anyt` (a negated
        class, [^/]): the most common successor is its default, so the
        table holds only the bytes that go elsewhere."""
        succ = []
        for b in range(256):
            targets = anyt | single.get(b, set())
            targets.update(t for mask, t in partial if mask >> b & 1)
            succ.append(self.state_id(targets))
        default = max(set(succ), key=succ.count)
        trans = {b: n for b, n in enumerate(succ) if n != default}
        return DState(default, self.decide(nset), trans)
