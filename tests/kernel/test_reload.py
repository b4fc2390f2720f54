"""Reloading is atomic: under constant load, no decision either policy would not give.

bst_churn opens files and binds ports in a loop inside the cgroup while the
test swaps between two policies 1,000 times (the same call `bpfsystrace
reload`, SIGHUP and the daemon's file watch make). Each action has the answers
the two policies give; any other answer (a transient permit-all, deny-all, or
a half-written generation) fails the test.
"""

import os
import signal
import subprocess
import time

from bpfsystrace import abi, attachments
from bpfsystrace.kernel import loader, maps
from tests.kernel.conftest import churn_results

RELOADS = int(os.environ.get("BPFSYSTRACE_TEST_RELOADS", "1000"))

POLICY_A = """\
Policy: {churn}, Emulation: native
	native-socket: permit
	native-fsread: filename eq "{d}/a" then permit
	native-fsread: filename eq "{d}/b" then deny[eacces]
	native-fsread: filename eq "{d}/both" then permit
	native-fsread: filename eq "{d}/never" then deny[exdev]
	native-bind: sockaddr eq "inet-[127.0.0.1]:{p1}" then permit
	native-bind: sockaddr eq "inet-[127.0.0.1]:{p2}" then deny[eacces]
"""
POLICY_B = """\
Policy: {churn}, Emulation: native
	native-socket: permit
	native-fsread: filename eq "{d}/never" then deny[exdev]
	native-fsread: filename eq "{d}/b" then permit
	native-fsread: filename eq "{d}/a" then deny[eperm]
	native-fsread: filename match "{d}/bo*" then permit
	native-bind: sockaddr eq "inet-[127.0.0.1]:{p2}" then permit
	native-bind: sockaddr match "inet-*:{p1}" then deny[eperm]
	native-connect: sockaddr match "*" then permit
"""


def test_reload_1000_times_under_load(workdir, churn_bin, make_cgroup_module):
    d = os.path.join(workdir, "reload")
    os.makedirs(d, exist_ok=True)
    for name in ("a", "b", "both", "never", "other"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    p1, p2 = 47001, 47002
    files = []
    for name, text in (("A", POLICY_A), ("B", POLICY_B)):
        path = os.path.join(workdir, f"reload-{name}.policy")
        with open(path, "w") as f:
            f.write(text.format(churn=churn_bin, d=d, p1=p1, p2=p2))
        files.append(path)
    cg = make_cgroup_module("bst-reload.slice")
    first = attachments.attach(cg.path, [files[0]], manager="none")
    k = loader.open_kernel()
    missing_before = maps.counters(k)[abi.BST_CNT_MAP_MISSING]
    k.close()
    actions = {
        f"open:{d}/a:r": {"OK", "EPERM"},
        f"open:{d}/b:r": {"OK", "EACCES"},
        f"open:{d}/both:r": {"OK"},
        f"open:{d}/never:r": {"EXDEV"},
        f"open:{d}/other:r": {"EPERM"},  # implicit deny in both
        f"bind4:127.0.0.1:{p1}": {"OK", "EPERM"},
        f"bind4:127.0.0.1:{p2}": {"OK", "EACCES"},
    }
    proc = subprocess.Popen([churn_bin, *actions], preexec_fn=cg.join(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    gens = {first.gen}
    t0 = time.monotonic()
    try:
        for i in range(RELOADS):
            meta = attachments.attach(cg.path, [files[(i + 1) % 2]], manager="none")
            gens.add(meta.gen)
    finally:
        elapsed = time.monotonic() - t0
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    res = churn_results(out)
    print(f"{RELOADS} reloads in {elapsed:.1f} s; answers: {res}")
    for action, allowed in actions.items():
        got = set(res.get(action, {}))
        assert got, f"{action} never ran"
        assert got <= allowed, f"{action}: answers {got - allowed} that neither policy gives"
    # both policies were really in force while it ran
    assert set(res[f"open:{d}/a:r"]) == {"OK", "EPERM"}
    assert set(res[f"bind4:127.0.0.1:{p2}"]) == {"OK", "EACCES"}
    k = loader.open_kernel()
    try:
        assert maps.gens_by_target(k)[cg_id(cg)] == meta.gen
        # nothing failed closed: no decision found a generation's records missing
        assert maps.counters(k)[abi.BST_CNT_MAP_MISSING] == missing_before
        # each replaced generation went once no program read it (maps.grace()):
        # one generation left in the maps, the swaps did not leak records
        stored = {key.gen for name in maps.GEN_MAPS for key in getattr(k, name).keys()}
        assert stored == set(maps.gens_by_target(k).values())
        assert not os.path.exists(os.path.join(attachments.RUN_DIR, "retired.json"))
    finally:
        k.close()
    final = attachments.load_attachment(cg_id(cg))
    assert final.reloads == RELOADS


def test_failed_reload_keeps_the_old_policy(workdir, probe_bin, make_cgroup_module):
    """A policy that does not compile: the old generation stays, the error says why."""
    from tests.conftest import cli
    from tests.kernel.conftest import probe_results

    d = os.path.join(workdir, "reload-fail")
    os.makedirs(d, exist_ok=True)
    for name in ("ok", "no"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    pol = os.path.join(workdir, "reload-fail.policy")
    with open(pol, "w") as f:
        f.write(
            f'Policy: {probe_bin}, Emulation: native\n\tnative-fsread: filename eq "{d}/ok" then permit\n'
        )
    cg = make_cgroup_module("bst-reload-fail.slice")
    cli("attach", "--cgroup", cg.path, "--policy", pol, "--manager", "none", check=0)
    gen = attachments.load_attachment(cg_id(cg)).gen
    with open(pol, "a") as f:
        f.write('\tnative-fsread: filename eq "unterminated then permit\n')
    r = cli("reload", "--cgroup", cg.path, check=1)
    assert f"{pol}:3:" in r.stderr and f"generation {gen} stays in force" in r.stderr
    res = probe_results(cg.run([probe_bin, f"open:{d}/ok:r", f"open:{d}/no:r"]))
    assert res == {f"open:{d}/ok:r": "OK", f"open:{d}/no:r": "EPERM"}
    meta = attachments.load_attachment(cg_id(cg))
    assert (meta.gen, meta.reload_failures) == (gen, 1)
    assert meta.last_error.startswith(f"{pol}:3:")
    # fixed: the reload goes through
    with open(pol, "w") as f:
        f.write(
            f'Policy: {probe_bin}, Emulation: native\n\tnative-fsread: filename match "{d}/*" then permit\n'
        )
    r = cli("reload", "--all", check=0)
    res = probe_results(cg.run([probe_bin, f"open:{d}/ok:r", f"open:{d}/no:r"]))
    assert res == {f"open:{d}/ok:r": "OK", f"open:{d}/no:r": "OK"}


def cg_id(cg) -> int:
    return os.stat(cg.path).st_ino
