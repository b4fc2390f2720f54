"""Differential test: the kernel decides exactly as the reference evaluator.

A seeded generator makes a tree of files and random policies over them: every
string operator (eq, neq, sub, nsub, match, inpath, re) combined with and/or/not,
permit / deny[eacces] / deny[enoent], several rules per operation so first-match
order matters. Each policy is attached (replacing the previous one in place,
which also exercises the atomic swap), a confined process opens every file and
binds a set of ports, and every errno must equal what reference.decide() says.
"""

import errno
import os
import random

import pytest

from bpfsystrace import attachments
from bpfsystrace.compile import pipeline, records
from bpfsystrace.errors import PolicyError
from bpfsystrace.model import objects, reference
from tests.conftest import cli
from tests.kernel.conftest import probe_results

SEED = int(os.environ.get("BPFSYSTRACE_DIFF_SEED", "20261128"))
POLICIES = int(os.environ.get("BPFSYSTRACE_DIFF_POLICIES", "25"))
# large policies on long paths: compiling one takes about 90 s under TCG (make test asks 2)
LARGE = int(os.environ.get("BPFSYSTRACE_DIFF_LARGE", "3"))
ALPHABET = "ab.-"
PORTS = [53, 80, 443, 953, 5300, 5353, 8053, 8080, 9053, 10053, 20000, 33053, 40001, 50053, 65000]


def names(rng, n):
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4))))
    return sorted(out)


def make_tree(root, rng):
    paths = []
    for top in names(rng, 5):
        if top in (".", ".."):
            continue
        d = os.path.join(root, top)
        os.makedirs(d, exist_ok=True)
        for sub in names(rng, 10):
            if sub in (".", ".."):
                continue
            p = os.path.join(d, sub)
            if rng.random() < 0.3:
                os.makedirs(p, exist_ok=True)
                for leaf in names(rng, 4):
                    if leaf not in (".", ".."):
                        paths.append(os.path.join(p, leaf))
            else:
                paths.append(p)
    for p in paths:
        with open(p, "w") as f:
            f.write("x")
    return paths


def glob_from(rng, path, root):
    tail = path[len(root) :]
    out = []
    for c in tail:
        r = rng.random()
        if r < 0.12:
            out.append("*")
        elif r < 0.2:
            out.append("?")
        elif r < 0.25 and c in ALPHABET:
            out.append(f"[{c}{rng.choice('ab')}]")
        elif r < 0.28 and c in ALPHABET:
            out.append(f"[!{rng.choice('ab')}]")
        else:
            out.append(c)
        if out[-1] == "*" and rng.random() < 0.5:
            break
    if rng.random() < 0.3:
        out.append("*")
    return root + "".join(out)


def regex_from(rng, path, root):
    tail = path[len(root) :]
    piece = tail[rng.randint(0, max(len(tail) - 3, 0)) :][: rng.randint(2, 6)]
    out = ""
    for c in piece:
        r = rng.random()
        if c in ".-":
            out += "\\" + c if rng.random() < 0.5 else "."
        elif r < 0.15:
            out += c + rng.choice("*+?")
        elif r < 0.25:
            out += f"[{c}b]"
        elif r < 0.3:
            out += f"({c}|b)"
        else:
            out += c
    if rng.random() < 0.3:
        out = "^" + root.replace(".", "\\.").replace("-", "\\-") + ".*" + out
    if rng.random() < 0.3:
        out += "$"
    return out


def quoted(value):
    """A value as the policy language writes it between double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def atom(rng, paths, root):
    p = rng.choice(paths)
    op = rng.choice(["eq", "neq", "sub", "nsub", "match", "match", "inpath", "re"])
    if op in ("eq", "neq"):
        value = p
    elif op in ("sub", "nsub"):
        tail = p[len(root) :]
        i = rng.randint(0, len(tail) - 1)
        value = tail[i : i + rng.randint(1, 4)]
    elif op == "match":
        value = glob_from(rng, p, root)
    elif op == "inpath":
        value = os.path.dirname(p) if rng.random() < 0.7 else p
        if rng.random() < 0.2:
            value += "/"
    else:
        value = regex_from(rng, p, root)
    return f'filename {op} "{quoted(value)}"'


def expr(rng, paths, root, depth=0):
    r = rng.random()
    if depth > 1 or r < 0.5:
        return atom(rng, paths, root)
    if r < 0.65:
        return f"not {expr(rng, paths, root, depth + 1)}"
    word = "and" if r < 0.85 else "or"
    return f"({expr(rng, paths, root, depth + 1)} {word} {expr(rng, paths, root, depth + 1)})"


def sock_rule(rng):
    kind = rng.random()
    port = rng.choice(PORTS)
    if kind < 0.3:
        cond = f'sockaddr eq "{objects.inet("127.0.0.1", port)}"'
    elif kind < 0.6:
        cond = f'sockaddr match "inet-*:{str(port)[: rng.randint(1, len(str(port)))]}*"'
    elif kind < 0.8:
        cond = f'sockaddr re ":{str(port)[0]}[0-9]*$"'
    else:
        cond = f'not sockaddr sub "{str(port)[-2:]}"'
    action = rng.choice(["permit", "permit", "deny[eacces]", "deny[eaddrinuse]"])
    return f"\tnative-bind: {cond} then {action}\n"


def policy_text(rng, probe, paths, root):
    lines = [f"Policy: {probe}, Emulation: native\n", "\tnative-socket: permit\n"]
    for _ in range(rng.randint(1, 8)):
        action = rng.choice(["permit", "permit", "deny[eacces]", "deny[enoent]", "deny"])
        lines.append(f"\tnative-fsread: {expr(rng, paths, root)} then {action}\n")
    if rng.random() < 0.3:
        lines.append("\tnative-fsread: true then permit\n")
    for _ in range(rng.randint(0, 4)):
        lines.append(sock_rule(rng))
    return "".join(lines)


@pytest.fixture(scope="module")
def setup(workdir, probe_bin, make_cgroup_module):
    root = os.path.join(workdir, "dt")
    os.makedirs(root, exist_ok=True)
    rng = random.Random(SEED)
    paths = make_tree(root, rng)
    cg = make_cgroup_module("bst-diff.slice")
    return rng, root, paths, cg, probe_bin


def test_kernel_decisions_equal_reference_evaluator(setup, workdir):
    rng, root, paths, cg, probe = setup
    mismatches, cases = [], 0
    for n in range(POLICIES):
        text = policy_text(rng, probe, paths, root)
        pol_file = os.path.join(workdir, f"diff-{n}.policy")
        with open(pol_file, "w") as f:
            f.write(text)
        (policy,), _ = pipeline.load_policies([pol_file])
        # in-process (the CLI is tested elsewhere; a Python start per policy is slow in the VM)
        attachments.attach("bst-diff.slice", [pol_file])
        opens = [f"open:{p}:r" for p in paths]
        binds = [f"bind4:127.0.0.1:{port}" for port in PORTS]
        got = probe_results(cg.run([probe, *opens, *binds]))
        for p in paths:
            want = reference.decide(policy, reference.op_by_name("fsread"), p)
            ref = "OK" if want.permitted else errno.errorcode[want.errno]
            cases += 1
            if got.get(f"open:{p}:r") != ref:
                mismatches.append((n, p, got.get(f"open:{p}:r"), ref, want.describe()))
        for port in PORTS:
            want = reference.decide(policy, reference.op_by_name("bind"), objects.inet("127.0.0.1", port))
            ref = "OK" if want.permitted else errno.errorcode[want.errno]
            cases += 1
            if got.get(f"bind4:127.0.0.1:{port}") != ref:
                mismatches.append((n, port, got.get(f"bind4:127.0.0.1:{port}"), ref, want.describe()))
    cli("detach", "--cgroup", "bst-diff.slice", check=0)
    print(f"differential: {cases} cases over {POLICIES} policies (seed {SEED}), {len(mismatches)} mismatches")
    assert cases >= 500
    assert not mismatches, "\n".join(map(str, mismatches[:20]))


def long_tree(root, rng):
    """Files on long paths (up to ~240 characters) that share long prefixes."""
    paths = []
    for i in range(4):
        d = os.path.join(root, "long", "-".join(["deep" + "ab"[i % 2] * 8] * 4))
        for depth in range(6):
            d = os.path.join(d, f"level{depth}-" + "".join(rng.choice(ALPHABET) for _ in range(12)))
            if len(d) > 200:
                break
        os.makedirs(d, exist_ok=True)
        for leaf in names(rng, 8):
            if leaf not in (".", ".."):
                paths.append(os.path.join(d, leaf))
    for p in paths:
        with open(p, "w") as f:
            f.write("x")
    return paths


def fits(text, workdir, max_states):
    """Whether TEXT compiles within MAX_STATES automaton states per operation
    (a low cap refuses an exploding draw after little work)."""
    path = os.path.join(workdir, "diff-large-draw.policy")
    with open(path, "w") as f:
        f.write(text)
    (policy,), _ = pipeline.load_policies([path])
    saved, records.MAX_STATES_PER_DFA = records.MAX_STATES_PER_DFA, max_states
    try:
        return records.compile_policies([policy]).tables.ncells < 300_000
    except PolicyError:
        return False
    finally:
        records.MAX_STATES_PER_DFA = saved


def large_policy_text(rng, probe, paths, root, workdir):
    """1,000 exact strings beside the real files (they share the trie's
    prefixes), a glob per 500 of them, and random rules over the real files.
    Random patterns on long paths can multiply states: the random rules are
    drawn again until they fit a small automaton alone, then the whole policy
    until it fits the budget (each refused draw is cheap that way)."""
    head = f"Policy: {probe}, Emulation: native\n\tnative-socket: permit\n"
    for _ in range(50):
        real = [f"\tnative-fsread: {expr(rng, paths, root)} then {rng.choice(['permit', 'deny[eacces]'])}\n"]
        real += [
            f'\tnative-fsread: filename eq "{p}" then {rng.choice(["permit", "deny[enoent]"])}\n'
            for p in rng.sample(paths, 5)
        ]
        for _ in range(rng.randint(4, 10)):
            real.append(
                f"\tnative-fsread: {expr(rng, paths, root)} then {rng.choice(['permit', 'deny[eacces]'])}\n"
            )
        if not fits(head + "".join(real), workdir, 1_000):
            continue
        filler = []
        for i in range(1000):
            p = rng.choice(paths)
            if i % 500 == 499:
                filler.append(f'\tnative-fsread: filename match "{os.path.dirname(p)}/*{i}" then deny\n')
            else:
                filler.append(
                    f'\tnative-fsread: filename eq "{p[: rng.randrange(len(root), len(p))]}x{i}" then deny\n'
                )
        body = real + filler
        rng.shuffle(body)
        if fits(head + "".join(body), workdir, 30_000):
            return head + "".join(body)
    raise AssertionError("50 random large policies in a row did not fit")


def test_large_policies_on_long_paths_equal_reference_evaluator(setup, workdir):
    _, root, _, cg, probe = setup
    rng = random.Random(SEED + 1)  # its own stream: the same policies however the test above ran
    paths = long_tree(root, rng)
    assert max(len(p) for p in paths) > 150
    mismatches, cases = [], 0
    for n in range(LARGE):
        pol_file = os.path.join(workdir, f"diff-large-{n}.policy")
        with open(pol_file, "w") as f:
            f.write(large_policy_text(rng, probe, paths, root, workdir))
        (policy,), _ = pipeline.load_policies([pol_file])
        attachments.attach("bst-diff.slice", [pol_file])
        got = probe_results(cg.run([probe, *(f"open:{p}:r" for p in paths)]))
        for p in paths:
            want = reference.decide(policy, reference.op_by_name("fsread"), p)
            ref = "OK" if want.permitted else errno.errorcode[want.errno]
            cases += 1
            if got.get(f"open:{p}:r") != ref:
                mismatches.append((n, p, got.get(f"open:{p}:r"), ref, want.describe()))
    cli("detach", "--cgroup", "bst-diff.slice", check=0)
    print(f"differential, large policies: {cases} cases, {len(mismatches)} mismatches")
    assert cases >= 25 * LARGE
    assert not mismatches, "\n".join(map(str, mismatches[:20]))


def narrow_atom(rng, paths, root):
    """A pattern that holds for one file or a few: a glob of one path with a
    character or its end wildcarded, a long piece of it as `sub` or an
    anchored regex, or the path itself."""
    p = rng.choice(paths)
    tail = p[len(root) :]
    kind = rng.choice(["glob", "glob", "end", "sub", "re", "eq"])
    if kind == "glob":
        i = rng.randrange(1, len(tail))
        op, value = "match", root + tail[:i] + rng.choice(["?", f"[{tail[i]}b]", "[!a]"]) + tail[i + 1 :]
    elif kind == "end":
        op, value = "match", root + tail[: rng.randrange(max(len(tail) - 2, 1), len(tail) + 1)] + "*"
    elif kind == "sub":
        i = rng.randrange(len(tail))
        op, value = "sub", tail[i : i + rng.randint(4, 7)]
    elif kind == "re":
        op, value = "re", tail[-rng.randint(3, 6) :].replace(".", "\\.").replace("-", "\\-") + "$"
    else:
        op, value = "eq", p
    return f'filename {op} "{quoted(value)}"'


def split_policy_text(rng, probe, paths, root, workdir):
    """110 random rules, nearly all patterns that hold for few files, in
    random order: more pattern rules than one automaton takes
    (split.SPLIT_AT), so the kernel walks several parts and the first match
    comes from any of them."""
    head = f"Policy: {probe}, Emulation: native\n\tnative-socket: permit\n"
    for _ in range(50):
        body = []
        for _ in range(110):
            e = narrow_atom(rng, paths, root) if rng.random() < 0.9 else expr(rng, paths, root)
            action = rng.choice(["permit", "deny[eacces]", "deny[enoent]", "deny"])
            body.append(f"\tnative-fsread: {e} then {action}\n")
        if fits(head + "".join(body), workdir, 20_000):
            return head + "".join(body)
    raise AssertionError("50 random split policies in a row did not fit")


def test_split_automata_equal_reference_evaluator(setup, workdir):
    _, root, paths, cg, probe = setup
    rng = random.Random(SEED + 2)  # its own stream
    mismatches, cases = [], 0
    fsread = reference.op_by_name("fsread")
    for n in range(3):
        pol_file = os.path.join(workdir, f"diff-split-{n}.policy")
        with open(pol_file, "w") as f:
            f.write(split_policy_text(rng, probe, paths, root, workdir))
        (policy,), _ = pipeline.load_policies([pol_file])
        nparts = len(records.compile_policies([policy]).parts[(0, fsread)])
        assert nparts > 1, "the policy was meant to be split"
        attachments.attach("bst-diff.slice", [pol_file])
        got = probe_results(cg.run([probe, *(f"open:{p}:r" for p in paths)]))
        for p in paths:
            want = reference.decide(policy, fsread, p)
            ref = "OK" if want.permitted else errno.errorcode[want.errno]
            cases += 1
            if got.get(f"open:{p}:r") != ref:
                mismatches.append((n, nparts, p, got.get(f"open:{p}:r"), ref, want.describe()))
    cli("detach", "--cgroup", "bst-diff.slice", check=0)
    print(f"differential, split automata: {cases} cases, {len(mismatches)} mismatches")
    assert cases >= 75
    assert not mismatches, "\n".join(map(str, mismatches[:20]))
