"""Learn a real workload, enforce what was learned, audit, suggest: in a real kernel.

The workload is a small real server: a dash script reads its configuration,
writes a pid file and execs busybox httpd, which reads its own configuration,
binds a port and answers a client's request for a page. One boot runs the
whole story in order (the tests share state, like a user's session):
learn -> check -> enforce (same workload: zero denials) -> new actions denied
-> audit mode (a new page is served, reported as audit_deny, counted) ->
suggest --merge -> enforce permits the suggested page and nothing else.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import cli
from tests.kernel.conftest import new_log

BUSYBOX = shutil.which("busybox") or "/usr/bin/busybox"
CG = "bst-learn.slice"

SERVER = """\
#!/bin/sh
# a small server: read the configuration, write a pid file, serve
. "$1"
echo $$ > "$PIDFILE"
exec busybox httpd -f -p "127.0.0.1:$PORT" -h "$DOCROOT" -c "$HTTPD_CONF"
"""


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def wl(workdir, make_cgroup_module):
    d = os.path.join(workdir, "learn")
    docroot = os.path.join(d, "www")
    os.makedirs(docroot, exist_ok=True)
    for name in ("index.html", "other.html", "third.html"):
        with open(os.path.join(docroot, name), "w") as f:
            f.write(f"<p>{name}</p>\n")
    with open(os.path.join(d, "httpd.conf"), "w") as f:
        f.write("H:" + docroot + "\n")
    script = os.path.join(d, "server.sh")
    with open(script, "w") as f:
        f.write(SERVER)
    os.chmod(script, 0o755)
    port = free_port()
    env = {
        "d": d,
        "docroot": docroot,
        "script": script,
        "port": port,
        "cg": make_cgroup_module(CG),
        "policies": os.path.join(d, "policies"),
        "conf": os.path.join(d, "server.conf"),
        "pidfile": os.path.join(d, "server.pid"),
    }
    write_conf(env, port)
    return env


def write_conf(env, port):
    path = env["conf"]
    with open(path, "w") as f:
        f.write(
            f"PORT={port}\nPIDFILE={env['pidfile']}\nDOCROOT={env['docroot']}\n"
            f"HTTPD_CONF={env['d']}/httpd.conf\n"
        )
    return path


def get(port, page):
    """HTTP status of GET page (or an exception's name)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}", timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Server:
    """The workload, started inside the test cgroup."""

    def __init__(self, env, port=None):
        self.port = port or env["port"]
        self.proc = subprocess.Popen(
            ["/bin/sh", env["script"], env["conf"]],
            preexec_fn=env["cg"].join(),
            close_fds=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_listening(self, timeout=60) -> bool:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.2)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err


def run_workload(env, pages=("index.html",)):
    srv = Server(env)
    assert srv.wait_listening(), srv.stop()
    codes = {p: get(env["port"], p) for p in pages}
    srv.stop()
    return codes


def drain_events():
    out = new_log(json_out=True)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def status_denied_counts(text):
    """Every 'N denied' / 'N would be denied' count that status printed."""
    import re

    return [int(n) for n in re.findall(r"(\d+) (?:would be )?denied", text)]


def test_learn_writes_checked_policies_per_executable(wl):
    learn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bpfsystrace",
            "learn",
            "--cgroup",
            CG,
            "-o",
            wl["policies"],
            "--collapse",
            "20",
            "--progress",
            "1",
        ],
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:  # until the kernel is learning
            st = cli("status").stdout
            if "mode learn" in st:
                break
            time.sleep(0.5)
        assert "mode learn" in st, st
        codes = run_workload(wl)
        assert codes == {"index.html": 200}
        time.sleep(3)  # a progress line or two
    finally:
        learn.send_signal(signal.SIGINT)
        out, err = learn.communicate(timeout=300)
    assert learn.returncode == 0, err
    assert "learning:" in err and "events seen" in err and "rules so far" in err, err
    files = sorted(os.listdir(wl["policies"]))
    assert "usr_bin_busybox" in files and "usr_bin_dash" in files, (files, err)
    bb = open(os.path.join(wl["policies"], "usr_bin_busybox")).read()
    assert bb.startswith("# Learned by bpfsystrace on "), bb
    assert "Policy: /usr/bin/busybox, Emulation: native" in bb
    assert f'native-bind: sockaddr eq "inet-[127.0.0.1]:{wl["port"]}" then permit' in bb, bb
    assert f'native-fsread: filename eq "{wl["docroot"]}/index.html" then permit' in bb, bb
    assert f'{wl["d"]}/httpd.conf' in bb
    dash = open(os.path.join(wl["policies"], "usr_bin_dash")).read()
    assert f'native-fswrite: filename eq "{wl["pidfile"]}" then permit' in dash, dash
    assert f'native-fsread: filename eq "{wl["conf"]}" then permit' in dash, dash
    assert "native-execve: filename eq \"/usr/bin/busybox\" then permit" in dash, dash
    check = cli("check", wl["policies"], check=0)
    assert "error" not in check.stderr, check.stderr
    keep = os.environ.get("BPFSYSTRACE_VM_OUT")
    if keep:  # for a person to read (docs/learning.md)
        shutil.copytree(wl["policies"], os.path.join(keep, "learned"), dirs_exist_ok=True)
        with open(os.path.join(keep, "learn.stderr"), "w") as f:
            f.write(err)


def test_enforcing_the_learned_policy_denies_nothing_of_the_workload(wl):
    cli("attach", "--cgroup", CG, "--policy", wl["policies"], check=0)
    drain_events()
    codes = run_workload(wl)
    assert codes == {"index.html": 200}
    st = cli("status").stdout
    denied = status_denied_counts(st)
    evs = drain_events()
    assert denied and not any(denied), (st, evs)
    assert not [e for e in evs if e["action"] == "deny"], evs
    assert "/usr/bin/busybox" in st and "/usr/bin/dash" in st


def test_new_actions_are_denied(wl):
    codes = run_workload(wl, pages=("index.html", "other.html"))
    assert codes["index.html"] == 200 and codes["other.html"] != 200, codes
    evs = drain_events()
    assert any(
        e["action"] == "deny" and e["op"] == "fsread" and e["obj"] == f"{wl['docroot']}/other.html"
        for e in evs
    ), evs
    port2 = free_port()
    write_conf(wl, port2)  # same file, another port
    try:
        srv = Server(wl, port=port2)
        assert not srv.wait_listening(timeout=30)
        rc, err = srv.stop()
    finally:
        write_conf(wl, wl["port"])
    assert rc != 0, err
    evs = drain_events()
    assert any(
        e["action"] == "deny" and e["op"] == "bind" and e["obj"] == f"inet-[127.0.0.1]:{port2}" for e in evs
    ), evs


def test_audit_mode_reports_and_suggest_merges(wl):
    cli("attach", "--cgroup", CG, "--policy", wl["policies"], "--mode", "audit", check=0)
    st = cli("status").stdout
    assert "mode audit" in st, st
    codes = run_workload(wl, pages=("index.html", "other.html"))
    assert codes == {"index.html": 200, "other.html": 200}  # permitted, only reported
    st = cli("status").stdout
    # httpd stats the page, then opens it: both would be denied (fsread also decides stat)
    assert "2 would be denied (audit mode: permitted)" in st, st
    log = os.path.join(wl["d"], "events.json")
    out = new_log(json_out=True)
    with open(log, "w") as f:
        f.write(out)
    evs = [json.loads(line) for line in out.splitlines()]
    audit = [e for e in evs if e["action"] == "audit_deny"]
    other = f"{wl['docroot']}/other.html"
    assert [(e["op"], e["obj"]) for e in audit] == [("stat", other), ("fsread", other)], evs
    assert audit[0]["line"].startswith("audit deny user: root"), audit[0]
    shown = cli("suggest", "--from", log, "--since", "1h", check=0).stdout
    assert f'native-fsread: filename eq "{other}" then permit' in shown, shown
    assert "native-stat" not in shown, shown  # the fsread rule decides stat too
    before = open(os.path.join(wl["policies"], "usr_bin_busybox")).read()
    res = cli("suggest", "--from", log, "--cgroup", CG, "-o", wl["policies"], "--merge", check=0)
    after = open(os.path.join(wl["policies"], "usr_bin_busybox")).read()
    assert after.startswith(before), res.stderr  # hand-written text kept verbatim
    assert after.count("other.html") == 1 and len(after) > len(before), (after, res.stderr)
    cli("check", wl["policies"], check=0)
    cli("attach", "--cgroup", CG, "--policy", wl["policies"], check=0)  # enforce again
    drain_events()
    codes = run_workload(wl, pages=("index.html", "other.html", "third.html"))
    assert codes["index.html"] == 200 and codes["other.html"] == 200, codes
    assert codes["third.html"] != 200, codes
    evs = drain_events()
    # its stat is denied (EPERM), then its open
    third = f"{wl['docroot']}/third.html"
    assert [(e["op"], e["obj"]) for e in evs if e["action"] == "deny"] == [
        ("stat", third),
        ("fsread", third),
    ], evs
