"""Issue 17 and issue 14's lost kernel state, in the kernel: nothing lost, nothing changed.

One attachment (bst-edges.slice) serves the CLI tests, in order: a truncated
or removed policy file is not reloaded, `log` consumes nothing and names the
generation that decided, `status --rules` and a non-root `status`. The last
test runs the daemon on its own cgroup and removes the pins under it, as an
unconfined root process could: status and doctor say so (exit 4), the daemon
logs CRITICAL and re-attaches, the metric drops to 0 and comes back, and the
denied open is denied again.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from bpfsystrace.kernel import loader
from tests.conftest import ROOT, cli
from tests.kernel.conftest import new_log, probe_results

CG = "bst-edges.slice"
DAEMON_CG = "bst-edges-svc.slice"
METRICS_PORT = 9481
POLICY = """\
# the probe's policy (a comment fmt and reload keep)
Policy: {probe}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-fsread: filename eq "{d}/logged" then permit log
"""
TRUE_POLICY = 'Policy: /usr/bin/true, Emulation: native\n\tnative-fsread: filename eq "/x" then permit\n'


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "edges")
    pdir = os.path.join(d, "policies")
    os.makedirs(pdir, exist_ok=True)
    for name in ("allowed", "secret", "logged"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    e = {
        "d": d,
        "pdir": pdir,
        "probe": probe_bin,
        "cg": make_cgroup_module(CG),
        "pfile": os.path.join(pdir, "probe"),
        "tfile": os.path.join(pdir, "true"),
    }
    write(e["pfile"], POLICY.format(probe=probe_bin, d=d))
    write(e["tfile"], TRUE_POLICY)
    cli("attach", "--cgroup", CG, "--policy", pdir, "--manager", "none", check=0)
    return e


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def probe(env, *names, cg=None):
    proc = (cg or env["cg"]).run([env["probe"], *(f"open:{env['d']}/{n}:r" for n in names)])
    return [probe_results(proc)[f"open:{env['d']}/{n}:r"] for n in names]


def generation(cgroup=CG):
    out = cli("status", check=0).stdout
    m = re.search(rf"/{re.escape(cgroup)} \(id \d+\), generation (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_a_truncated_policy_file_is_not_reloaded(env):
    gen = generation()
    text = open(env["pfile"]).read()
    write(env["pfile"], "")  # an editor's save, half-way
    try:
        proc = cli("reload", "--all")
        assert proc.returncode == 1, proc.stderr
        assert f"{env['pfile']}:1:1: error: {env['pfile']} holds no policy" in proc.stderr
        assert f"reload refused, generation {gen} stays in force" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert generation() == gen
        assert probe(env, "allowed", "secret") == ["OK", "EPERM"]  # still the old policy
    finally:
        write(env["pfile"], text)


def test_a_reload_that_drops_a_policy_is_refused_unless_asked(env):
    gen = generation()
    os.unlink(env["tfile"])
    try:
        proc = cli("reload", "--cgroup", CG)
        assert proc.returncode == 1, proc.stderr
        assert (
            f"reload would drop the policy for /usr/bin/true (in force in generation {gen})"
        ) in proc.stderr
        assert "--allow-drop --cgroup " in proc.stderr
        assert generation() == gen and "/usr/bin/true" in cli("status", check=0).stdout
        proc = cli("reload", "--cgroup", CG, "--allow-drop", check=0)
        assert f"generation {gen} -> {gen + 1}" in proc.stderr
        assert "/usr/bin/true" not in cli("status", check=0).stdout
    finally:
        write(env["tfile"], TRUE_POLICY)
    cli("reload", "--all", check=0)  # adding a policy back needs no flag
    assert "/usr/bin/true" in cli("status", check=0).stdout


def test_log_consumes_nothing_and_names_the_deciding_generation(env):
    new_log()
    gen = generation()
    assert probe(env, "secret", "logged") == ["EPERM", "OK"]
    # the events wait in the kernel's buffer while a reload replaces the generation
    write(
        env["pfile"],
        POLICY.format(probe=env["probe"], d=env["d"])
        + f'\tnative-fsread: filename eq "{env["d"]}/secret" then deny[eacces]\n',
    )
    cli("reload", "--cgroup", CG, check=0)
    assert generation() == gen + 1
    first = [json.loads(x) for x in new_log(json_out=True).splitlines()]
    again = [
        json.loads(x)
        for x in cli("log", "--json", "--after", str(first[0]["seq"] - 1), check=0).stdout.splitlines()
    ]
    assert [e["seq"] for e in again] == [e["seq"] for e in first]  # a second reader sees all
    mine = [e for e in first if e["obj"].startswith(env["d"])]
    assert [(e["obj"], e["action"], e["gen"]) for e in mine] == [
        (f"{env['d']}/secret", "deny", gen),
        (f"{env['d']}/logged", "permit", gen),
    ]
    deny, logged = mine
    assert deny["policy"] == env["probe"] and deny["rule"] == "no rule matched (deny)"
    assert logged["rule"] == f"{env['pfile']}:4:2"
    assert isinstance(deny["policy_id"], int) and isinstance(deny["rule_id"], int)
    assert f"policy: {env['probe']}, filters: 2," in deny["line"]
    assert "generation" not in deny["line"]
    text = cli("log", "--cgroup", CG, "--policy", env["probe"], check=0).stdout
    assert deny["line"] in text and logged["line"] in text
    write(env["pfile"], POLICY.format(probe=env["probe"], d=env["d"]))
    cli("reload", "--all", check=0)


def test_status_rules_shows_what_has_hits_or_rules(env):
    probe(env, "allowed", "secret")
    rows = [
        ln for ln in cli("status", "--rules", check=0).stdout.splitlines() if re.match(r"^ {6} *\d+  ", ln)
    ]
    every = [
        ln
        for ln in cli("status", "--rules", "--all", check=0).stdout.splitlines()
        if re.match(r"^ {6} *\d+  ", ln)
    ]
    assert rows and len(every) > 3 * len(rows), (rows, every)
    for ln in rows:
        hits, where = int(ln.split()[0]), ln.split()[2]
        assert hits > 0 or re.match(r".+:\d+:\d+$", where), ln
    assert any("no rule matched" in ln and int(ln.split()[0]) > 0 for ln in rows), rows


def test_status_without_root_and_log_without_root(env):
    def nobody(*args):
        return subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-m",
                "bpfsystrace",
                *args,
            ],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=120,
        )

    proc = nobody("status")
    assert proc.returncode == 0, proc.stderr
    assert f"/sys/fs/cgroup/{CG} (id " in proc.stdout and "generation" in proc.stdout
    assert "need root: sudo bpfsystrace status" in proc.stdout
    for args in (("log",), ("detach", "--all"), ("attach", "--cgroup", CG, "--policy", "/")):
        proc = nobody(*args)
        assert proc.returncode == 2 and "needs root" in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert probe(env, "allowed", "secret") == ["OK", "EPERM"]  # nothing changed


def metric(name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_lost_kernel_state_is_loud_and_repaired(env, make_cgroup_module):
    cli("detach", "--all", check=0)
    cg = make_cgroup_module(DAEMON_CG)
    conf = os.path.join(env["d"], "daemon.conf")
    write(
        conf,
        f"[daemon]\nmetrics-address = 127.0.0.1:{METRICS_PORT}\nsyslog = no\n\n"
        f"[attach edges]\ncgroup = {DAEMON_CG}\npolicy = {env['pfile']}\n"
        f"manager = none\n",
    )
    err = open(os.path.join(env["d"], "daemon.err"), "w+")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bpfsystrace", "daemon", "--config", conf],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )

    def log():
        err.seek(0)
        return err.read()

    try:
        wait_for(lambda: metric("bpfsystrace_programs_loaded") == 1.0, 300, "the daemon")
        assert probe(env, "allowed", "secret", cg=cg) == ["OK", "EPERM"]
        os.kill(daemon.pid, signal.SIGSTOP)  # hold it while we look: no race
        shutil.rmtree(loader.PIN_ROOT)  # an unconfined root process removes the pins
        proc = cli("status")
        assert proc.returncode == 4, proc.stdout + proc.stderr
        assert (f"/sys/fs/cgroup/{DAEMON_CG} (id ") in proc.stdout
        assert (
            "NOT ENFORCED: recorded in /run/bpfsystrace but its kernel state is gone (the "
            "pinned programs under /sys/fs/bpf/bpfsystrace are gone)"
        ) in proc.stdout
        assert "Traceback" not in proc.stderr
        proc = cli("doctor", "--no-load")
        assert proc.returncode == 4 and "FAIL  attachments" in proc.stdout, proc.stdout
        assert probe(env, "secret", cg=cg) == ["OK"]  # what losing the pins means
        os.kill(daemon.pid, signal.SIGCONT)
        seen = [metric("bpfsystrace_programs_loaded")]
        assert seen[0] == 0.0, seen
        wait_for(
            lambda: seen.append(metric("bpfsystrace_programs_loaded")) or seen[-1] == 1.0,
            300,
            "the metric to come back",
        )
        text = wait_for(lambda: "re-attached" in log() and log(), 60, "the re-attach")
        assert re.search(
            r"CRITICAL: kernel state lost: 1 attachment\(s\) recorded in "
            r"/run/bpfsystrace are NOT ENFORCED \(the pinned programs under "
            rf"/sys/fs/bpf/bpfsystrace are gone\): /sys/fs/cgroup/{DAEMON_CG}; "
            r"re-attaching",
            text,
        ), text
        assert f"CRITICAL: re-attached /sys/fs/cgroup/{DAEMON_CG} (generation " in text
        assert probe(env, "allowed", "secret", cg=cg) == ["OK", "EPERM"]  # enforced again
        assert cli("status").returncode == 0
        # the daemon refuses a truncated policy file too, and keeps the generation
        gen = generation(DAEMON_CG)
        write(env["pfile"], "")
        wait_for(lambda: "holds no policy" in log(), 30, "the daemon's refusal")
        assert "refused, the previous policies stay in force" in log()
        assert generation(DAEMON_CG) == gen
        assert probe(env, "allowed", "secret", cg=cg) == ["OK", "EPERM"]
    finally:
        write(env["pfile"], POLICY.format(probe=env["probe"], d=env["d"]))
        os.kill(daemon.pid, signal.SIGCONT)
        daemon.terminate()
        daemon.wait(60)
    assert not os.path.exists("/run/bpfsystrace/daemon.pid")  # no stale pid file
