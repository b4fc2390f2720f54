"""The Debian package under real systemd: docs/install.md's walk-through for named.

Installs dist/bpfsystrace_*.deb (make deb) into the guest, enables bpfsystrace.service as
shipped (/etc/bpfsystrace/bpfsystrace.conf attaches named.slice with the policy
/etc/bpfsystrace/policies/usr_sbin_named), puts Debian's named.service into named.slice with
the shipped drop-in and checks what an administrator would: named is confined from its
first exec, answers, is refused a port outside its policy, stays confined across restarts;
reload, the journal, syslog and the metrics work; stopping the controller leaves
enforcement in force. The tests run in order and build on each other.
"""

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import ROOT

BST = "/usr/bin/bpfsystrace"
NAMED = "/usr/sbin/named"
ZONE = "bst-test.example"
DROPIN = "/etc/systemd/system/named.service.d/bpfsystrace.conf"
SLICE = r"(?:/sys/fs/cgroup/)?named\.slice"  # as status and the daemon name it
FIRST_OPEN = 'native-fsread: filename eq "/etc/ld.so.cache" then permit'

ZONE_FILE = f"""\
$TTL 300
@	IN	SOA	ns.{ZONE}. hostmaster.{ZONE}. ( 2026120101 3600 600 86400 300 )
@	IN	NS	ns.{ZONE}.
ns	IN	A	127.0.0.1
www	IN	A	192.0.2.80
"""
OTHER_PORT = f"""\
options {{
	directory "/var/cache/bind";
	listen-on port 53 {{ 127.0.0.1; }};
	listen-on port 5353 {{ 127.0.0.1; }};
	listen-on-v6 {{ none; }};
	dnssec-validation no;
}};
zone "{ZONE}" {{ type master; file "/etc/bind/db.bst-test"; }};
"""


def run(*cmd, check=True, timeout=300):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(0.5)


def journal(*args) -> str:
    return run("journalctl", "--no-pager", "-o", "cat", *args, check=False).stdout


def named_pid() -> int:
    return int(run("systemctl", "show", "-p", "MainPID", "--value", "named").stdout)


def cgroup_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read().strip()


def rule_hits(rule_text: str) -> int:
    out = run(BST, "status", "--rules").stdout
    m = re.search(rf"^\s+(\d+)\s+\S+\s+.*{re.escape(rule_text)}$", out, re.M)
    assert m, out
    return int(m.group(1))


def counts(name: str) -> tuple[int, int]:
    out = run(BST, "status").stdout
    m = re.search(rf"^  {re.escape(name)}.*: (\d+) allowed, (\d+) denied$", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def dig(name, port=53):
    return run(
        shutil.which("dig"),
        "@127.0.0.1",
        "-p",
        str(port),
        "+norec",
        "+time=5",
        "+tries=2",
        name,
        "A",
        check=False,
        timeout=120,
    ).stdout


def start_named():
    run("systemctl", "restart", "named", timeout=600)
    assert run("systemctl", "is-active", "named", check=False).stdout.strip() == "active"


@pytest.fixture(scope="module")
def deb():
    debs = sorted(glob.glob(os.path.join(ROOT, "dist", "bpfsystrace_*.deb")))
    assert debs, "no dist/bpfsystrace_*.deb: run 'make deb' first (scripts/test does)"
    return debs[-1]


def test_installing_the_deb_enforces_nothing(deb):
    run("dpkg", "-i", deb)
    assert run("systemctl", "is-enabled", "bpfsystrace", check=False).stdout.strip() == "disabled"
    assert run("systemctl", "is-active", "bpfsystrace", check=False).stdout.strip() == "inactive"
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace")
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "bpfsystrace").stdout
    assert "/etc/bpfsystrace/bpfsystrace.conf" in conffiles
    assert "/etc/bpfsystrace/policies/usr_sbin_named" in conffiles
    assert os.path.exists("/lib/systemd/system/bpfsystrace.service")
    assert run("man", "-w", "bpfsystrace-attach").stdout.strip().endswith("bpfsystrace-attach.8.gz")
    assert os.path.exists("/usr/share/bash-completion/completions/bpfsystrace")
    assert re.fullmatch(r"bpfsystrace \S+ \(kernel ABI \d+\)\n", run(BST, "--version").stdout)
    doctor = run(BST, "doctor").stdout  # the package's own object, found without help
    assert (
        "ok    BPF object           /usr/lib/python3/dist-packages/bpfsystrace/data/"
        "bpfsystrace.bpf.o" in doctor
    ), doctor
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace/links") or not os.listdir(
        "/sys/fs/bpf/bpfsystrace/links"
    )


def test_named_in_named_slice_is_confined_from_its_first_exec(deb):
    with open("/etc/bind/db.bst-test", "w") as f:
        f.write(ZONE_FILE)
    with open("/etc/bind/named.conf.local", "a") as f:
        f.write(f'zone "{ZONE}" {{ type master; file "/etc/bind/db.bst-test"; }};\n')
    os.makedirs(os.path.dirname(DROPIN), exist_ok=True)
    shutil.copy("/usr/share/doc/bpfsystrace/examples/named-slice.conf", DROPIN)
    run("systemctl", "daemon-reload")
    run("systemctl", "enable", "--now", "bpfsystrace", timeout=600)
    status = run(BST, "status").stdout
    assert re.search(rf"^{SLICE} \(id \d+\), generation \d+", status, re.M), status
    assert rule_hits(FIRST_OPEN) == 0  # nothing has run in named.slice yet
    start_named()
    pid = named_pid()
    assert cgroup_of(pid) == "0::/named.slice/named.service"
    with open(f"/proc/{pid}/status") as f:
        assert int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)) == pwd.getpwnam("bind").pw_uid
    a = dig(f"www.{ZONE}")
    assert re.search(rf"^www\.{re.escape(ZONE)}\.\s+300\s+IN\s+A\s+192\.0\.2\.80$", a, re.M), a
    # the dynamic loader's first open, before named's main(), was decided by named's policy:
    # no moment between systemd's fork and named's first instruction ran unconfined
    assert rule_hits(FIRST_OPEN) >= 1
    allowed, denied = counts(NAMED)
    assert allowed > 50 and denied == 0, (
        journal("SYSLOG_IDENTIFIER=bpfsystrace")
        + journal("-u", "named")
        + run(BST, "status", "--rules").stdout
    )


def test_a_port_outside_the_policy_is_refused_and_logged_to_journal_and_syslog(deb):
    run("systemctl", "start", "rsyslog", timeout=300)
    with open("/etc/bind/bst-test-port.conf", "w") as f:
        f.write(OTHER_PORT)
    with open("/etc/default/named", "a") as f:
        f.write('OPTIONS="-u bind -c /etc/bind/bst-test-port.conf"\n')
    _, denied_before = counts(NAMED)
    start_named()
    assert "192.0.2.80" in dig(f"www.{ZONE}")
    assert "192.0.2.80" not in dig(f"www.{ZONE}", port=5353)
    want = "syscall: native-bind, sockaddr: inet-[127.0.0.1]:5353, errno: EPERM"
    line = wait_for(
        lambda: [ln for ln in journal("SYSLOG_IDENTIFIER=bpfsystrace").splitlines() if want in ln],
        60,
        "the denial in the journal",
    )
    assert f"policy: {NAMED}" in line[0], line
    assert counts(NAMED)[1] > denied_before

    def in_syslog():
        try:
            with open("/var/log/auth.log") as f:  # AUTHPRIV, Debian's rsyslog.conf
                return [ln for ln in f if want in ln]
        except FileNotFoundError:
            return []

    assert wait_for(in_syslog, 60, "the denial in /var/log/auth.log (rsyslog)")


def test_restarting_named_stays_confined(deb):
    with open("/etc/default/named") as f:
        text = f.read().replace('OPTIONS="-u bind -c /etc/bind/bst-test-port.conf"\n', "")
    with open("/etc/default/named", "w") as f:
        f.write(text)
    before = rule_hits(FIRST_OPEN)
    old = named_pid()
    start_named()
    pid = named_pid()
    assert pid != old and cgroup_of(pid) == "0::/named.slice/named.service"
    assert rule_hits(FIRST_OPEN) > before  # the new named's first open, decided
    assert "192.0.2.80" in dig(f"www.{ZONE}")


def test_systemctl_reload_named_runs_rndc_under_its_policy(deb):
    """named.service's ExecReload (and ExecStop) run rndc in named.slice: the
    shipped policy usr_sbin_rndc lets it reach named's control channel, and
    nothing it does is denied."""
    before = run(BST, "status").stdout
    assert "/usr/sbin/rndc" in before, before
    pid = named_pid()
    run("systemctl", "reload", "named", timeout=300)
    assert (
        named_pid() == pid and run("systemctl", "is-active", "named", check=False).stdout.strip() == "active"
    )
    wait_for(lambda: "reloading configuration succeeded" in journal("-u", "named"), 60, "named's reload")
    allowed, denied = counts("/usr/sbin/rndc")
    assert allowed > 0 and denied == 0, run(BST, "status", "--rules").stdout + journal(
        "SYSLOG_IDENTIFIER=bpfsystrace"
    )
    assert "192.0.2.80" in dig(f"www.{ZONE}")


def test_systemctl_reload_reloads_the_policies(deb):
    gen = int(re.search(rf"^{SLICE} \(id \d+\), generation (\d+)", run(BST, "status").stdout, re.M).group(1))
    run("systemctl", "reload", "bpfsystrace", timeout=300)
    wait_for(
        lambda: re.search(
            rf"reloaded {SLICE} \(SIGHUP\): generation {gen} -> ", journal("-u", "bpfsystrace")
        ),
        60,
        "the reload in the journal",
    )
    assert re.search(rf"^{SLICE} \(id \d+\), generation {gen + 1}\b", run(BST, "status").stdout, re.M)
    assert run("systemctl", "is-active", "bpfsystrace").stdout.strip() == "active"


def test_metrics_answer_on_loopback(deb):
    with urllib.request.urlopen("http://127.0.0.1:9479/metrics", timeout=60) as r:
        text = r.read().decode()
    denies = [
        ln
        for ln in text.splitlines()
        if ln.startswith("bpfsystrace_decisions_total{")
        and re.search(f'cgroup="{SLICE}"', ln)
        and f'policy="{NAMED}"' in ln
        and 'action="deny"' in ln
    ]
    assert denies and float(denies[0].rsplit(" ", 1)[1]) >= 1, text[:4000]
    assert re.search(rf'^bpfsystrace_reloads_total\{{cgroup="{SLICE}"\}} [1-9]', text, re.M), text[:4000]


def test_stopping_the_controller_leaves_enforcement_in_force(deb):
    named_before = named_pid()
    run("systemctl", "stop", "bpfsystrace", timeout=300)
    assert run("systemctl", "is-active", "bpfsystrace", check=False).stdout.strip() == "inactive"
    status = run(BST, "status").stdout
    assert re.search(rf"^{SLICE} \(id \d+\)", status, re.M), status
    assert "controller: not running" in status, status
    # the drop-in's Requires= stops named with an explicit stop of the controller (systemd's
    # rule, docs/install.md); the slice's attachment stays: whatever starts in named.slice
    # without the controller is confined, named by its policy, anything else by the default
    assert named_before and named_pid() == 0
    # stopped by its ExecStop (rndc stop, under rndc's policy), not killed: inactive, not failed
    assert run("systemctl", "is-active", "named", check=False).stdout.strip() == "inactive"
    assert counts("/usr/sbin/rndc")[1] == 0
    _, denied = counts("default (deny)")
    other = run(
        "systemd-run", "--wait", "--quiet", "--slice=named.slice", "/bin/true", check=False, timeout=300
    )
    assert other.returncode != 0, other
    assert counts("default (deny)")[1] > denied
    hits = rule_hits(FIRST_OPEN)
    named = run(
        "systemd-run",
        "--wait",
        "--quiet",
        "--pipe",
        "--slice=named.slice",
        NAMED,
        "-V",
        check=False,
        timeout=300,
    )
    assert named.returncode == 0 and "BIND 9" in named.stdout + named.stderr, named
    assert rule_hits(FIRST_OPEN) > hits  # named's policy, no controller running
    assert run("systemctl", "is-active", "bpfsystrace", check=False).stdout.strip() == "inactive"


RUN_POLICY = """\
Policy: {bb}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-fsread: filename eq "{d}/secret" then deny[eacces]
	native-fsread: filename match "/proc/*/cgroup" then permit
"""


def test_run_confines_a_command_in_a_systemd_scope(deb, tmp_path):
    """bpfsystrace run under systemd: the command runs in a transient scope of its own,
    confined by its policy, and the scope and the attachment are gone afterwards."""
    d = str(tmp_path)
    for name in ("allowed", "secret"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name + "\n")
    bb = shutil.which("busybox")
    policy = os.path.join(d, "busybox.policy")
    with open(policy, "w") as f:
        f.write(RUN_POLICY.format(bb=bb, d=d))
    ok = run(
        BST, "run", "--policy", policy, "--", bb, "cat", f"{d}/allowed", "/proc/self/cgroup", check=False
    )
    assert ok.returncode == 0, ok
    assert ok.stdout.startswith("allowed\n"), ok
    assert re.search(r"^0::/.*/run-bpfsystrace-\d+\.scope$", ok.stdout, re.M), ok.stdout
    denied = run(BST, "run", "--policy", policy, "--", bb, "cat", f"{d}/secret", check=False)
    assert denied.returncode == 1 and "Permission denied" in denied.stderr, denied
    assert "secret" not in denied.stdout
    # nothing left: no scope unit, no attachment of a run scope
    units = run("systemctl", "list-units", "--all", "--no-legend", "run-bpfsystrace-*").stdout
    assert units.strip() == "", units
    assert "run-bpfsystrace-" not in run(BST, "status").stdout
