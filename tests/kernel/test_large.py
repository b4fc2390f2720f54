"""The largest policies the engine takes, in the kernel.

50,000 exact paths (one automaton of about 150,000 states for fsread and
stat, 100,000 rule records) are attached, enforced and reloaded in place: the
reload writes the new generation while the old one is still in the maps, so
the maps must hold both. BPFSYSTRACE_TEST_LARGE_N sets the number (`make
test` asks 20,000: each compile of 50,000 takes about three minutes under
TCG; the maps and the reload are exercised the same way). (2,000 globs split over several automata are
bench/run's; the split's first match is test_differential's.)
"""

import os

from bpfsystrace import attachments
from tests.kernel.conftest import probe_results

N = int(os.environ.get("BPFSYSTRACE_TEST_LARGE_N", "50000"))


def write_policy(path, probe, listed, denied, renamed=None):
    with open(path, "w") as f:
        f.write(f"Policy: {probe}, Emulation: native\n")
        for p in listed:
            action = "deny[eacces]" if p in denied else "permit"
            f.write(
                f'\tnative-fsread: filename eq "{renamed if p == listed[0] and renamed else p}" then {action}\n'
            )


def test_fifty_thousand_eq_rules_attach_enforce_and_reload(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "large")
    listed = [os.path.join(d, f"d{i % 97}", f"file{i:05d}") for i in range(N)]
    real = listed[:: N // 10]  # ten of them exist
    denied = set(real[1::2])
    unlisted = os.path.join(d, "d1", "unlisted")
    for p in real + [unlisted]:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write("x")
    cg = make_cgroup_module("bst-large.slice")
    path = os.path.join(workdir, "large.policy")
    write_policy(path, probe_bin, listed, denied)
    meta = attachments.attach(cg.path, [path], manager="none")
    assert len(meta.rules) > 2 * N  # fsread and stat each: one record per rule
    want = {p: "EACCES" if p in denied else "OK" for p in real}
    want[unlisted] = "EPERM"
    got = probe_results(cg.run([probe_bin, *(f"open:{p}:r" for p in want)]))
    assert {p: got.get(f"open:{p}:r") for p in want} == want

    # reload with the first rule naming another file: both generations in the maps at once
    write_policy(path, probe_bin, listed, denied, renamed=real[0] + ".renamed")
    meta2 = attachments.attach(cg.path, [path], manager="none")
    assert meta2.gen != meta.gen and meta2.reloads == meta.reloads + 1
    want[real[0]] = "EPERM"
    got = probe_results(cg.run([probe_bin, *(f"open:{p}:r" for p in want)]))
    assert {p: got.get(f"open:{p}:r") for p in want} == want
