"""The controller service end to end: a real rsyslogd, a real Prometheus.

One daemon (`bpfsystrace daemon --config`) serves the module; the tests run in
order, each asserting what an administrator would see: the syslog lines
rsyslogd wrote, the JSON log, the errnos of a confined process after the
service cgroup was recreated, after policy files changed, after the daemon
was killed; the metrics as `promtool` checks them and as Prometheus' query
API returns them. Every denial the module causes is counted in `caused`, and
Prometheus must report exactly that number.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from bpfsystrace import attachments
from tests.conftest import ROOT
from tests.kernel.conftest import churn_results, counters, probe_results

METRICS_PORT = 9479
PROM_PORT = 9091
CG = "bst-svc.slice/app.service"

POLICY = """\
Policy: {probe}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-fsread: filename match "{d}/log-*" then permit log
	native-bind: sockaddr eq "inet-[127.0.0.1]:0" then permit
	native-socket: permit
"""
POLICY_MORE = POLICY + '\tnative-fsread: filename eq "{d}/secret" then permit\n'
CHURN_POLICY = """\
Policy: {churn}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
"""

caused = {"deny": 0}
running: list = []  # the module's Service, whose daemon log a failed wait shows


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    log = ""
    if running and running[0].daemon_err:
        state = running[0].procs["daemon"].poll()
        log = f"\nthe daemon ({'running' if state is None else f'exited {state}'}) wrote:\n"
        if state is None:
            pid = running[0].procs["daemon"].pid
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                    log += f"thread {tid} waits in {f.read()}\n"
                with open(f"/proc/{pid}/task/{tid}/stack") as f:
                    log += f.read()
            os.kill(pid, signal.SIGABRT)  # PYTHONFAULTHANDLER: its threads' Python stacks
            running[0].procs["daemon"].wait()
        log += running[0].daemon_log()[-6000:]
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{log}")


class Service:
    """rsyslogd, the daemon and Prometheus for this module."""

    def __init__(self, w, probe, churn):
        self.w, self.probe = w, probe
        self.d = os.path.join(w, "files")
        os.makedirs(self.d, exist_ok=True)
        for name in ("allowed", "secret", "log-me", "x1", "x2", "flood"):
            with open(os.path.join(self.d, name), "w") as f:
                f.write(name)
        pdir = os.path.join(w, "policies")
        os.makedirs(pdir, exist_ok=True)
        with open(os.path.join(pdir, "churn"), "w") as f:
            f.write(CHURN_POLICY.format(churn=churn, d=self.d))
        self.policy = os.path.join(pdir, "svc.policy")
        self.write_policy(POLICY)
        self.syslog_out = os.path.join(w, "syslog.out")
        self.json_log = os.path.join(w, "events.json")
        self.conf = os.path.join(w, "bpfsystrace.conf")
        with open(self.conf, "w") as f:
            f.write(
                f"[daemon]\nmetrics-address = 127.0.0.1:{METRICS_PORT}\n"
                f"syslog-socket = {w}/log.sock\nlog-file = {self.json_log}\n"
                f"log-format = json\n\n"
                f"[attach app]\ncgroup = {CG}\npolicy = {pdir}\nmanager = none\n"
            )
        self.procs = {}
        self.daemon_err = []

    def write_policy(self, text):
        tmp = os.path.join(os.path.dirname(self.policy), ".svc.policy.tmp")
        with open(tmp, "w") as f:
            f.write(text.format(probe=self.probe, d=self.d))
        os.replace(tmp, self.policy)

    def start_rsyslog(self):
        conf = os.path.join(self.w, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(
                f'global(workDirectory="{self.w}")\n'
                f'module(load="imuxsock" SysSock.Use="off")\n'
                f'input(type="imuxsock" Socket="{self.w}/log.sock" CreatePath="on")\n'
                'template(name="t" type="string" string="%syslogfacility-text%.'
                '%syslogseverity-text% %syslogtag%%msg%\\n")\n'
                f'*.* action(type="omfile" file="{self.syslog_out}" template="t")\n'
            )
        self.procs["rsyslogd"] = subprocess.Popen(
            ["rsyslogd", "-n", "-f", conf, "-i", os.path.join(self.w, "rsyslogd.pid")]
        )
        wait_for(lambda: os.path.exists(f"{self.w}/log.sock"), 60, "rsyslogd's socket")

    def start_prometheus(self):
        conf = os.path.join(self.w, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(
                # a scrape under TCG can take more than a second while the daemon drains a
                # flood of events: Prometheus's timeout is the interval
                "global:\n  scrape_interval: 10s\n  scrape_timeout: 10s\n  evaluation_interval: 10s\n"
                "scrape_configs:\n  - job_name: bpfsystrace\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{METRICS_PORT}']\n"
            )
        self.procs["prometheus"] = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={conf}",
                f"--storage.tsdb.path={self.w}/prom",
                f"--web.listen-address=127.0.0.1:{PROM_PORT}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.w, "prom.log"), "w"),
        )

    def start_daemon(self):
        """Start it as systemd would (NOTIFY_SOCKET): returns once it reported READY=1."""
        err = open(os.path.join(self.w, f"daemon{len(self.daemon_err)}.err"), "w+")
        self.daemon_err.append(err.name)
        path = os.path.join(self.w, "notify.sock")
        if os.path.exists(path):
            os.unlink(path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(path)
        self.notify.settimeout(120)
        self.procs["daemon"] = subprocess.Popen(
            [sys.executable, "-m", "bpfsystrace", "-v", "daemon", "--config", self.conf],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "NOTIFY_SOCKET": path, "PYTHONFAULTHANDLER": "1"},
        )
        assert self.notify_state() == "READY=1", self.daemon_log()
        assert "running:" in self.daemon_log()

    def notify_state(self):
        return self.notify.recv(4096).decode()

    def daemon_log(self, which=-1):
        with open(self.daemon_err[which]) as f:
            return f.read()

    def syslog(self):
        try:
            with open(self.syslog_out) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def cgroup(self):
        return os.path.join("/sys/fs/cgroup", CG)

    def run_probe(self, *actions):
        path = os.path.join(self.cgroup(), "cgroup.procs")

        def join():
            with open(path, "w") as f:
                f.write(str(os.getpid()))

        proc = subprocess.run(
            [self.probe, *actions], preexec_fn=join, capture_output=True, text=True, timeout=60
        )
        res = probe_results(proc)
        caused["deny"] += sum(1 for r in res.values() if r != "OK")
        return res

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=30) as r:
            return r.read().decode()

    def stop(self):
        for name in ("daemon", "prometheus", "rsyslogd"):
            p = self.procs.get(name)
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()


def remove_cgroup(path):
    with open(os.path.join(path, "cgroup.procs")) as f:
        for pid in f.read().split():
            os.kill(int(pid), signal.SIGKILL)
    wait_for(lambda: not open(os.path.join(path, "cgroup.procs")).read().strip(), 60, "the cgroup to empty")
    os.rmdir(path)


@pytest.fixture(scope="module")
def svc(workdir, probe_bin, churn_bin, make_cgroup_module):
    w = os.path.join(workdir, "svc")
    os.makedirs(w, exist_ok=True)
    make_cgroup_module("bst-svc.slice")
    make_cgroup_module(CG)
    s = Service(w, probe_bin, churn_bin)
    running[:] = [s]
    s.start_prometheus()  # slow to start under emulation: first, in the background
    s.start_rsyslog()
    s.start_daemon()
    yield s
    s.stop()


def test_denials_reach_syslog_as_systrace_lines_and_json(svc):
    d = svc.d
    res = svc.run_probe(f"open:{d}/allowed:r", f"open:{d}/secret:r", f"open:{d}/log-me:r")
    assert res == {f"open:{d}/allowed:r": "OK", f"open:{d}/secret:r": "EPERM", f"open:{d}/log-me:r": "OK"}
    line = wait_for(
        lambda: [ln for ln in svc.syslog().splitlines() if f"filename: {d}/secret" in ln],
        120,
        "the denial in syslog",
    )[0]
    pid = svc.procs["daemon"].pid
    assert line.startswith(f"authpriv.warning bpfsystrace[{pid}]: deny user: root, prog: bst_probe, pid: "), (
        line
    )
    assert (
        f"policy: {svc.probe}, filters: 4, syscall: native-fsread, filename: {d}/secret, "
        f"errno: EPERM, rule: no rule matched" in line
    )
    permit = wait_for(
        lambda: [ln for ln in svc.syslog().splitlines() if f"filename: {d}/log-me" in ln],
        120,
        "the log rule in syslog",
    )[0]
    assert f"authpriv.warning bpfsystrace[{pid}]: permit user: root" in permit
    assert f"rule: {svc.policy}:3" in permit
    from tests.conftest import cli

    assert f"controller: bpfsystrace daemon running (pid {pid})" in cli("status", check=0).stdout
    events = [json.loads(ln) for ln in open(svc.json_log)]
    denied = [e for e in events if e["obj"] == f"{d}/secret"]
    assert len(denied) == 1 and denied[0]["action"] == "deny" and denied[0]["errno"] == 1
    assert denied[0]["cgroup"] == svc.cgroup() and denied[0]["op"] == "fsread"


def test_recreated_service_cgroup_is_confined_again(svc):
    """The daemon follows a recreated cgroup (inotify on its parent; how fast is
    docs/performance.md's, not a test's): once it says so, the new cgroup's
    processes are confined."""
    d = svc.d
    old_id = os.stat(svc.cgroup()).st_ino
    remove_cgroup(svc.cgroup())
    os.mkdir(svc.cgroup())
    assert os.stat(svc.cgroup()).st_ino != old_id
    wait_for(
        lambda: f"cgroup {svc.cgroup()} was created again (id {old_id} -> " in svc.daemon_log(),
        120,
        "the daemon to attach the recreated cgroup",
    )
    res = svc.run_probe(f"open:{d}/allowed:r", f"open:{d}/secret:r")
    assert res == {f"open:{d}/allowed:r": "OK", f"open:{d}/secret:r": "EPERM"}


def test_reload_on_policy_change_bad_policy_and_sighup(svc):
    d = svc.d
    svc.write_policy(POLICY_MORE)
    wait_for(
        lambda: svc.run_probe(f"open:{d}/secret:r") == {f"open:{d}/secret:r": "OK"},
        120,
        "the changed policy to be in force",
    )
    wait_for(
        lambda: f"reloaded {svc.cgroup()} (policy files changed)" in svc.daemon_log(),
        120,
        "the reload in the daemon's log",
    )
    gen = attachments.load_attachment(os.stat(svc.cgroup()).st_ino).gen
    with open(svc.policy, "a") as f:
        f.write("\tnative-fsread: filename eq \n")
    wait_for(
        lambda: "refused, the previous policies stay in force" in svc.daemon_log(),
        120,
        "the refused reload in the daemon's log",
    )
    broken_line = len(POLICY_MORE.splitlines()) + 1
    assert f"{svc.policy}:{broken_line}:" in svc.daemon_log()
    assert svc.run_probe(f"open:{d}/secret:r") == {f"open:{d}/secret:r": "OK"}
    meta = attachments.load_attachment(os.stat(svc.cgroup()).st_ino)
    assert (meta.gen, meta.reload_failures) == (gen, 1)
    svc.write_policy(POLICY)
    wait_for(
        lambda: svc.run_probe(f"open:{d}/secret:r") == {f"open:{d}/secret:r": "EPERM"},
        120,
        "the fixed policy to be in force",
    )
    # the kernel swaps before the daemon records the reload: wait for the record
    wait_for(
        lambda: attachments.load_attachment(os.stat(svc.cgroup()).st_ino).gen != gen,
        120,
        "the fixed policy's reload to be recorded",
    )
    before = attachments.load_attachment(os.stat(svc.cgroup()).st_ino).reloads
    svc.procs["daemon"].send_signal(signal.SIGHUP)
    assert [svc.notify_state(), svc.notify_state()] == ["RELOADING=1", "READY=1"]
    wait_for(lambda: "(SIGHUP)" in svc.daemon_log(), 120, "the SIGHUP reload")
    assert attachments.load_attachment(os.stat(svc.cgroup()).st_ino).reloads == before + 1


def test_sigkill_changes_nothing_restart_adopts_and_reports_lost_events(svc, churn_bin):
    d = svc.d
    svc.run_probe(f"open:{d}/x1:r")
    wait_for(lambda: f"filename: {d}/x1," in svc.syslog(), 120, "x1 in syslog")
    meta = attachments.load_attachment(os.stat(svc.cgroup()).st_ino)
    path = os.path.join(svc.cgroup(), "cgroup.procs")

    def join():
        with open(path, "w") as f:
            f.write(str(os.getpid()))

    # a confined workload runs across the kill and the restart (permitted opens only: no events)
    steady = subprocess.Popen(
        [churn_bin, f"open:{d}/allowed:r"], preexec_fn=join, stdout=subprocess.PIPE, text=True
    )
    assert steady.stdout.readline().strip() == "ready"
    svc.procs["daemon"].kill()
    svc.procs["daemon"].wait()
    svc.run_probe(f"open:{d}/x2:r")  # denied and queued while no daemon runs
    flood = subprocess.Popen(
        [churn_bin, f"open:{d}/allowed:r", f"open:{d}/flood:r"],
        preexec_fn=join,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert flood.stdout.readline().strip() == "ready"
    # the flood of denials fills the 1 MiB ring buffer (about 3,000 events) while nobody
    # reads: until the kernel counts a lost event
    lost = counters().get("lost events", 0)
    wait_for(lambda: counters().get("lost events", 0) > lost, 600, "the ring buffer to overflow")
    flood.send_signal(signal.SIGTERM)
    res = churn_results(flood.communicate(timeout=60)[0])
    assert set(res[f"open:{d}/allowed:r"]) == {"OK"} and set(res[f"open:{d}/flood:r"]) == {"EPERM"}
    caused["deny"] += res[f"open:{d}/flood:r"]["EPERM"]
    svc.start_daemon()
    steady.send_signal(signal.SIGTERM)
    res = churn_results(steady.communicate(timeout=60)[0])
    assert set(res[f"open:{d}/allowed:r"]) == {"OK"}, res
    log = svc.daemon_log()
    assert f"adopted {svc.cgroup()} (generation {meta.gen})" in log
    after = attachments.load_attachment(os.stat(svc.cgroup()).st_ino)
    assert (after.gen, after.reloads) == (meta.gen, meta.reloads)
    wait_for(
        lambda: "events lost: the kernel ring buffer was full" in svc.syslog(),
        120,
        "the lost events in syslog",
    )
    wait_for(lambda: f"filename: {d}/x2," in svc.syslog(), 120, "x2 in syslog")
    text = svc.syslog()
    assert text.count(f"filename: {d}/x1,") == 1  # not logged twice
    assert text.count(f"filename: {d}/x2,") == 1  # queued while down, logged once


def test_a_package_upgrade_keeps_the_policy_with_the_daemon_running(svc):
    """dpkg renames a new file over the program (a new inode), default deny:
    the next start runs under the program's policy (found by its path), and
    the metrics count it."""
    d = svc.d
    new = svc.probe + ".dpkg-new"
    shutil.copy2(svc.probe, new)
    old_ino = os.stat(svc.probe).st_ino
    os.rename(new, svc.probe)
    assert os.stat(svc.probe).st_ino != old_ino
    res = svc.run_probe(f"open:{d}/allowed:r", f"open:{d}/secret:r")
    assert res == {f"open:{d}/allowed:r": "OK", f"open:{d}/secret:r": "EPERM"}
    found = [
        ln for ln in svc.metrics().splitlines() if ln.startswith("bpfsystrace_programs_found_by_path_total ")
    ]
    assert found and float(found[0].split()[1]) >= 1, found


def test_metrics_pass_promtool_and_prometheus_counts_the_denials(svc):
    text = svc.metrics()
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert 'bpfsystrace_build_info{' in text
    lost = [ln for ln in text.splitlines() if ln.startswith("bpfsystrace_events_lost_total ")]
    assert lost and float(lost[0].split()[1]) > 0
    query = f'sum(bpfsystrace_decisions_total{{cgroup="{svc.cgroup()}",action="deny"}})'
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": query})

    last = []

    def value():
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except OSError as e:
            last[:] = [f"no answer: {e}"]
            return None
        result = body["data"]["result"]
        last[:] = [result]
        return result and int(float(result[0]["value"][1])) == caused["deny"] and result

    # what the daemon serves (the kernel's counts, final since the flood ended): for the message
    mine = [
        ln
        for ln in text.splitlines()
        if ln.startswith("bpfsystrace_decisions_total{") and f'cgroup="{svc.cgroup()}"' in ln
    ]
    try:
        wait_for(value, 120, f"Prometheus to report {caused['deny']} denials")
    except AssertionError as e:
        raise AssertionError(f"Prometheus said {last}\nthe daemon served {mine}\n{e}") from None
    q2 = urllib.parse.urlencode({"query": f'bpfsystrace_reload_failures_total{{cgroup="{svc.cgroup()}"}}'})
    with urllib.request.urlopen(f"http://127.0.0.1:{PROM_PORT}/api/v1/query?{q2}") as r:
        assert json.load(r)["data"]["result"][0]["value"][1] == "1"
