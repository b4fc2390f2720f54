"""compile/tables.py: the packed tables walk exactly like the DFAs they pack."""

import random

from bpfsystrace import abi
from bpfsystrace import policy as policy_mod
from bpfsystrace.compile import records, tables
from bpfsystrace.model import check as check_mod
from bpfsystrace.model import syscalls

FS = syscalls.OPERATIONS["fsread"].op


def compile_text(text):
    pols, _ = check_mod.check([policy_mod.parse(text, "usr_sbin_x")], env={})
    return records.compile_policies(pols)


def walk(recs, policy, op, data):
    local = min(
        recs.tables.walk(start, data, abi.BST_STATE_FINAL) for start, _ in recs.policy_ops[(policy, op)]
    )
    return recs.rule_base[(policy, op)] + local


def test_walk_equals_the_dfa_on_random_strings():
    rnd = random.Random(7)
    lines = ["Policy: /usr/sbin/x, Emulation: native"]
    words = [f"/srv/d{i % 7}/f{i}" for i in range(300)]
    for i, w in enumerate(words):
        lines.append(f'\tnative-fsread: filename eq "{w}" then {"permit" if i % 3 else "deny[eacces]"}')
    lines.append('\tnative-fsread: filename match "/srv/d3/*.conf" then permit')
    lines.append('\tnative-fsread: filename re "^/etc/[a-c]+x$" then permit')
    lines.append('\tnative-fswrite: filename sub "tmp" then permit')
    recs = compile_text("\n".join(lines) + "\n")
    probes = words + ["/srv/d3/a.conf", "/etc/abcx", "/x/tmp/y", "", "/", "/srv/d1/f1x"]
    alphabet = b"/srvd0123456789f.confetcabx\0\xff"
    probes += [bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(40))) for _ in range(2000)]
    for (policy, op), d in recs.dfas.items():
        for p in probes:
            data = p.encode() if isinstance(p, str) else p
            assert walk(recs, policy, op, data) == recs.rule_base[(policy, op)] + d.run(data), (op, data)


def test_cells_stay_close_to_the_transitions():
    lines = ["Policy: /usr/sbin/x, Emulation: native"]
    lines += [
        f'\tnative-fsread: filename eq "/srv/www/site{i}/index{i}.html" then permit' for i in range(2000)
    ]
    recs = compile_text("\n".join(lines) + "\n")
    assert recs.ntrans > 2000 * 10
    assert recs.tables.ncells < 1.1 * recs.ntrans + 4096, (recs.tables.ncells, recs.ntrans)


def test_every_cell_belongs_to_one_state_and_byte():
    trans = [{1: 2, 5: 0}, {}, {1: 1, 2: 2, 200: 0}, {0: 1}]
    t = tables.pack(trans, [0, 1, 2, 3], [9, 8, 7, 6], [0, abi.BST_STATE_FINAL, 0, 0])
    seen = {}
    for s, tr in enumerate(trans):
        base = t.states[4 * s]
        for b, n in tr.items():
            c = base + b
            assert c not in seen, (s, b, seen.get(c))
            seen[c] = (s, b)
            assert t.cells[2 * c] == s + 1 and t.cells[2 * c + 1] == n
    assert sum(1 for c in range(t.ncells) if t.cells[2 * c]) == len(seen)
    # a state's missing byte never lands on another state's cell with its check
    for s, tr in enumerate(trans):
        for b in range(256):
            c = t.states[4 * s] + b
            if b not in tr and c < t.ncells:
                assert t.cells[2 * c] != s + 1


def test_an_index_outside_the_table_fails_closed():
    t = tables.pack([{0: 5}], [0], [3], [0])  # state 5 does not exist
    assert t.walk(0, b"\0x", abi.BST_STATE_FINAL) is None
    assert t.walk(0, b"x", abi.BST_STATE_FINAL) == 3
