"""String predicates -> NFA fragments over bytes.

Each atom (eq, sub, match, inpath, re; neq/nsub are `not` of eq/sub) denotes
the set of whole object strings it holds for, a regular language. The DFA
builder unions every atom of one (policy, operation) into one NFA whose
accepting states say which atom accepted.

Semantics (the reference evaluator in model/reference.py implements the same, apart):
  eq      the string equals the value
  sub     the value occurs in the string
  match   fnmatch(3) without FNM_PATHNAME/FNM_PERIOD: `*` and `?` cross `/`,
          `[...]`/`[!...]` classes with ranges, backslash escapes
  inpath  the string is the value or a path below it (`/usr/lib` holds for
          /usr/lib and /usr/lib/x, not /usr/libexec)
  re      POSIX extended regular expression, searched (unanchored unless ^ $)
Strings are matched as UTF-8 bytes.
"""

from __future__ import annotations

ALL = (1 << 256) - 1


class PatternError(ValueError):
    """A `re` or `match` pattern the compiler cannot translate."""


class NFA:
    """States are ints; edges[s] = [(mask, target)], eps[s] = [targets]."""

    def __init__(self):
        self.edges: list[list[tuple[int, int]]] = []
        self.eps: list[list[int]] = []
        self.accept: dict[int, int] = {}  # state -> atom index

    def state(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def edge(self, a: int, mask: int, b: int) -> None:
        self.edges[a].append((mask, b))

    def epsilon(self, a: int, b: int) -> None:
        self.eps[a].append(b)

    # Fragments are (start, end) pairs with a single end state.
    def seq(self, masks) -> tuple[int, int]:
        start = cur = self.state()
        for m in masks:
            nxt = self.state()
            self.edge(cur, m, nxt)
            cur = nxt
        return start, cur

    def literal(self, data: bytes) -> tuple[int, int]:
        return self.seq(1 << b for b in data)

    def any_star(self) -> tuple[int, int]:
        s = self.state()
        self.edge(s, ALL, s)
        return s, s

    def concat(self, *frags) -> tuple[int, int]:
        for (_, e), (s, _) in zip(frags, frags[1:], strict=False):
            self.epsilon(e, s)
        return frags[0][0], frags[-1][1]

    def alt(self, *frags) -> tuple[int, int]:
        s, e = self.state(), self.state()
        for fs, fe in frags:
            self.epsilon(s, fs)
            self.epsilon(fe, e)
        return s, e

    def star(self, frag) -> tuple[int, int]:
        s, e = self.state(), self.state()
        self.epsilon(s, frag[0])
        self.epsilon(s, e)
        self.epsilon(frag[1], frag[0])
        self.epsilon(frag[1], e)
        return s, e

    def opt(self, frag) -> tuple[int, int]:
        s, e = self.state(), self.state()
        self.epsilon(s, frag[0])
        self.epsilon(s, e)
        self.epsilon(frag[1], e)
        return s, e

    def empty(self) -> tuple[int, int]:
        s = self.state()
        return s, s


def inpath_base(value: str) -> str:
    """`inpath` value without trailing slashes ("/" stays "/")."""
    stripped = value.rstrip("/")
    return stripped if stripped or not value else "/"


def atom_fragment(nfa: NFA, op: str, value: str) -> tuple[int, int]:
    """Fragment accepting exactly the strings for which `op value` holds.

    `op` is one of eq, sub, match, inpath, re (the positive operators)."""
    data = value.encode()
    if op == "eq":
        return nfa.literal(data)
    if op == "sub":
        return nfa.concat(nfa.any_star(), nfa.literal(data), nfa.any_star())
    if op == "match":
        return glob_fragment(nfa, data)
    if op == "inpath":
        base = inpath_base(value).encode()
        if base == b"/":
            return nfa.concat(nfa.literal(b"/"), nfa.any_star())
        below = nfa.concat(nfa.literal(base + b"/"), nfa.any_star())
        return nfa.alt(nfa.literal(base), below)
    if op == "re":
        return _EreParser(nfa, data).parse()
    raise PatternError(f"no string operator '{op}'")


# ---------------------------------------------------------------- glob -----


def _class(pattern: bytes, i: int) -> tuple[int, int] | None:
    """Parse a bracket expression at pattern[i] == '['; (mask, next i) or None."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in b"!^"
    if negate:
        j += 1
    mask = 0
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == ord("]") and not first:
            return (ALL & ~mask if negate else mask), j + 1
        first = False
        if c == ord("[") and pattern[j + 1 : j + 2] == b":":
            end = pattern.find(b":]", j + 2)
            if end > 0:
                mask |= _posix_class(pattern[j + 2 : end].decode(errors="replace"))
                j = end + 2
                continue
        if c == ord("\\") and j + 1 < len(pattern):
            j += 1
            c = pattern[j]
        if j + 2 < len(pattern) and pattern[j + 1] == ord("-") and pattern[j + 2] != ord("]"):
            hi = pattern[j + 2]
            for b in range(c, hi + 1):
                mask |= 1 << b
            j += 3
            continue
        mask |= 1 << c
        j += 1
    return None


_POSIX = {
    "alpha": lambda c: chr(c).isalpha() and c < 128,
    "digit": lambda c: 48 <= c <= 57,
    "alnum": lambda c: chr(c).isalnum() and c < 128,
    "upper": lambda c: 65 <= c <= 90,
    "lower": lambda c: 97 <= c <= 122,
    "space": lambda c: c in b" \t\n\r\f\v",
    "blank": lambda c: c in b" \t",
    "punct": lambda c: 33 <= c <= 126 and not chr(c).isalnum(),
    "print": lambda c: 32 <= c <= 126,
    "graph": lambda c: 33 <= c <= 126,
    "cntrl": lambda c: c < 32 or c == 127,
    "xdigit": lambda c: chr(c) in "0123456789abcdefABCDEF",
}


def _posix_class(name: str) -> int:
    test = _POSIX.get(name)
    if test is None:
        raise PatternError(f"unknown character class [:{name}:]")
    return sum(1 << c for c in range(256) if test(c))


def glob_fragment(nfa: NFA, pattern: bytes) -> tuple[int, int]:
    frags = [nfa.empty()]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == ord("*"):
            frags.append(nfa.any_star())
            i += 1
        elif c == ord("?"):
            frags.append(nfa.seq([ALL]))
            i += 1
        elif c == ord("["):
            parsed = _class(pattern, i)
            if parsed is None:  # no closing bracket: a literal '['
                frags.append(nfa.literal(b"["))
                i += 1
            else:
                frags.append(nfa.seq([parsed[0]]))
                i = parsed[1]
        elif c == ord("\\") and i + 1 < len(pattern):
            frags.append(nfa.literal(pattern[i + 1 : i + 2]))
            i += 2
        else:  # a run of plain bytes: one chain
            j = i + 1
            while j < len(pattern) and pattern[j] not in _GLOB_SPECIAL:
                j += 1
            frags.append(nfa.literal(pattern[i:j]))
            i = j
    return nfa.concat(*frags)


GLOB_SPECIAL = "*?[\\"  # what glob_fragment does not take literally
_GLOB_SPECIAL = frozenset(GLOB_SPECIAL.encode())


# ----------------------------------------------------------------- ERE -----


class _EreParser:
    """POSIX ERE (regcomp REG_EXTENDED) -> NFA, searched like regexec."""

    def __init__(self, nfa: NFA, pattern: bytes):
        self.nfa, self.p, self.i = nfa, pattern, 0

    def error(self, msg):
        raise PatternError(f"{msg} at offset {self.i} of regular expression")

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else None

    def parse(self):
        frag = self.alternation(top=True)
        if self.i != len(self.p):
            self.error("unbalanced ')'")
        return frag

    def alternation(self, top=False):
        branches = [self.branch(top)]
        while self.peek() == ord("|"):
            self.i += 1
            branches.append(self.branch(top))
        return branches[0] if len(branches) == 1 else self.nfa.alt(*branches)

    def branch(self, top):
        nfa = self.nfa
        anchored_start = anchored_end = False
        if self.peek() == ord("^"):
            anchored_start = True
            self.i += 1
        frags = [nfa.empty()]
        while self.peek() is not None and self.peek() not in b"|)":
            if self.peek() == ord("$") and (self.i + 1 == len(self.p) or self.p[self.i + 1] in b"|)"):
                anchored_end = True
                self.i += 1
                break
            frags.append(self.repeat(self.atom()))
        if not top and (anchored_start or anchored_end):
            self.error("anchors inside parentheses are not supported")
        if top:
            if not anchored_start:
                frags.insert(0, nfa.any_star())
            if not anchored_end:
                frags.append(nfa.any_star())
        return nfa.concat(*frags)

    def atom(self):
        nfa, c = self.nfa, self.peek()
        if c == ord("("):
            self.i += 1
            frag = self.alternation() if self.peek() != ord(")") else nfa.empty()
            if self.peek() != ord(")"):
                self.error("missing ')'")
            self.i += 1
            return frag
        if c == ord("."):
            self.i += 1
            return nfa.seq([ALL])
        if c == ord("["):
            parsed = _class(self.p, self.i)
            if parsed is None:
                self.error("missing ']'")
            self.i = parsed[1]
            return nfa.seq([parsed[0]])
        if c == ord("\\"):
            if self.i + 1 >= len(self.p):
                self.error("trailing backslash")
            self.i += 2
            return nfa.literal(self.p[self.i - 1 : self.i])
        if c in b"*+?{":
            self.error(f"'{chr(c)}' has nothing to repeat")
        if c in b"^$":
            self.error(f"'{chr(c)}' anchor in the middle of an expression is not supported")
        self.i += 1
        return nfa.literal(bytes([c]))

    def repeat(self, frag):
        nfa = self.nfa
        while self.peek() is not None and self.peek() in b"*+?{":
            c = self.peek()
            self.i += 1
            if c == ord("*"):
                frag = nfa.star(frag)
            elif c == ord("+"):
                frag = nfa.concat(frag, nfa.star(self._copy(frag)))
            elif c == ord("?"):
                frag = nfa.opt(frag)
            else:
                lo, hi = self._bounds()
                frag = self._bounded(frag, lo, hi)
        return frag

    def _bounds(self):
        end = self.p.find(b"}", self.i)
        if end < 0:
            self.error("missing '}'")
        body = self.p[self.i : end].decode(errors="replace")
        self.i = end + 1
        try:
            if "," in body:
                lo_s, hi_s = body.split(",", 1)
                lo, hi = int(lo_s), (int(hi_s) if hi_s else None)
            else:
                lo = hi = int(body)
        except ValueError:
            self.error("bad repetition count")
        if (hi is not None and hi < lo) or lo > 255 or (hi or 0) > 255:
            self.error("repetition count out of range (0..255)")
        return lo, hi

    def _bounded(self, frag, lo, hi):
        nfa = self.nfa
        parts = [self._copy(frag) for _ in range(lo)]
        if hi is None:
            parts.append(nfa.star(self._copy(frag)))
        else:
            parts += [nfa.opt(self._copy(frag)) for _ in range(hi - lo)]
        return nfa.concat(*parts) if parts else nfa.empty()

    def _copy(self, frag):
        """Duplicate the states reachable from frag's start (up to its end)."""
        nfa, mapping, todo = self.nfa, {}, [frag[0]]
        while todo:
            s = todo.pop()
            if s in mapping:
                continue
            mapping[s] = nfa.state()
            if s == frag[1]:
                continue
            todo.extend(t for _, t in nfa.edges[s])
            todo.extend(nfa.eps[s])
        for s, n in mapping.items():
            if s == frag[1]:
                continue
            for m, t in nfa.edges[s]:
                nfa.edge(n, m, mapping[t])
            for t in nfa.eps[s]:
                nfa.epsilon(n, mapping[t])
        return mapping[frag[0]], mapping[frag[1]]
