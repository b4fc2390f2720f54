"""BIND9 (Debian's /usr/sbin/named) confined by the shipped policy policies/usr_sbin_named.

named runs in a cgroup under the policy, started the way a service manager
starts it (fork, join the cgroup, exec `named -g -u bind -c CONF`), with
Debian's own configuration (/etc/bind/named.conf.options, the default zones,
rndc.key, /var/cache/bind, /run/named) plus a small zone the test writes.
It must answer dig on loopback with zero denials; configured to listen on a
port the policy does not grant, or to include a file outside the policy, it is
denied, and the denial is logged and counted.

The test only adds files named bst-test* (removed at the end): in the VM they
land in the guest's overlay and never reach the host.
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import ROOT, cli
from tests.kernel.conftest import ConfinedService, new_log

NAMED = "/usr/sbin/named"
POLICY = os.path.join(ROOT, "policies", "usr_sbin_named")
CGROUP = "bst-named.slice"
ZONE = "bst-test.example"
SECRET = "/srv/bst-test-secret.conf"

ZONE_FILE = f"""\
$TTL 300
@	IN	SOA	ns.{ZONE}. hostmaster.{ZONE}. ( 2026112901 3600 600 86400 300 )
@	IN	NS	ns.{ZONE}.
ns	IN	A	127.0.0.1
www	IN	A	192.0.2.80
www	IN	AAAA	2001:db8::80
"""

# Debian's options (directory /var/cache/bind, dnssec-validation auto,
# listen-on-v6 any) and default zones; rndc's control channel on 953 comes
# from /etc/bind/rndc.key automatically
NORMAL = f"""\
include "/etc/bind/named.conf.options";
include "/etc/bind/named.conf.default-zones";
zone "{ZONE}" {{ type master; file "/etc/bind/db.bst-test"; }};
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

SECRET_INCLUDE = f"""\
include "/etc/bind/named.conf.options";
include "{SECRET}";
zone "{ZONE}" {{ type master; file "/etc/bind/db.bst-test"; }};
"""


@pytest.fixture(scope="module")
def named_env(workdir, make_cgroup_module):
    bind = pwd.getpwnam("bind")
    # /run is a tmpfs: create /run/named as Debian's packaging does
    os.makedirs("/run/named", exist_ok=True)
    os.chown("/run/named", 0, bind.pw_gid)
    os.chmod("/run/named", 0o775)
    svc = ConfinedService(NAMED, POLICY, CGROUP, workdir, make_cgroup_module)
    svc.write("/etc/bind/db.bst-test", ZONE_FILE)
    svc.write("/etc/bind/bst-test-named.conf", NORMAL)
    svc.write("/etc/bind/bst-test-port.conf", OTHER_PORT)
    svc.write("/etc/bind/bst-test-secret.conf", SECRET_INCLUDE)
    os.makedirs(os.path.dirname(SECRET), exist_ok=True)
    svc.write(SECRET, "# outside named's policy\n")
    yield {"svc": svc, "workdir": workdir, "bind": bind}
    svc.close()


class Named:
    """named -g (foreground, logging to stderr) started inside the cgroup."""

    def __init__(self, env, conf, name):
        self.proc, self.out = env["svc"].start([NAMED, "-g", "-u", "bind", "-c", conf], f"named-{name}")
        self.log = self.out.name

    def text(self) -> str:
        with open(self.log) as f:
            return f.read()

    def wait_running(self, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"^\S+ \S+ running$", self.text(), re.M):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"named exited {self.proc.returncode}:\n{self.text()}\ndenials:\n{new_log()}")
            time.sleep(0.5)
        pytest.fail(f"named did not start in {timeout} s:\n{self.text()}")

    def uid(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.text()


def dig(*args, port=53, server="127.0.0.1"):
    proc = subprocess.run(
        [shutil.which("dig"), f"@{server}", "-p", str(port), "+time=5", "+tries=2", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout


def test_named_answers_under_its_policy_with_zero_denials(named_env):
    new_log()  # start from an empty log
    named = Named(named_env, "/etc/bind/bst-test-named.conf", "normal")
    try:
        named.wait_running()
        assert named.uid() == named_env["bind"].pw_uid  # dropped to the user bind
        soa = dig("+norec", ZONE, "SOA")
        assert "status: NOERROR" in soa and f"ns.{ZONE}. hostmaster.{ZONE}." in soa, soa
        a = dig("+norec", f"www.{ZONE}", "A")
        assert re.search(rf"^www\.{re.escape(ZONE)}\.\s+300\s+IN\s+A\s+192\.0\.2\.80$", a, re.M), a
        aaaa = dig("+norec", "+tcp", f"www.{ZONE}", "AAAA", server="::1")
        assert "2001:db8::80" in aaaa, aaaa
        nx = dig("+norec", f"nothere.{ZONE}", "A")
        assert "status: NXDOMAIN" in nx, nx
        local = dig("+norec", "localhost", "A")  # Debian's default zones
        assert re.search(r"^localhost\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1$", local, re.M), local
        ptr = dig("+norec", "-x", "127.0.0.1")
        assert "PTR\tlocalhost." in ptr, ptr
        rndc = subprocess.run(
            ["rndc", "-s", "127.0.0.1", "status"], capture_output=True, text=True, timeout=120
        )  # the control channel on 953
        assert rndc.returncode == 0 and "server is up and running" in rndc.stdout, rndc
    finally:
        text = named.stop()
    denials = new_log()
    allowed, denied = named_env["svc"].counts()
    assert (denied, denials) == (0, ""), f"named's log:\n{text}\nstatus:\n" + cli("status", "--rules").stdout
    assert allowed > 50  # libraries, config, zones, binds
    assert os.path.exists("/var/cache/bind/managed-keys.bind") or os.path.exists(
        "/var/cache/bind/managed-keys.bind.jnl"
    )  # wrote its working dir


def test_listening_on_a_port_outside_the_policy_is_denied(named_env):
    new_log()
    _, denied_before = named_env["svc"].counts()
    named = Named(named_env, "/etc/bind/bst-test-port.conf", "port")
    try:
        named.wait_running()
        ok = dig("+norec", f"www.{ZONE}", "A")
        assert "192.0.2.80" in ok, ok  # port 53: permitted
        refused = dig("+norec", "+tries=1", "+time=2", f"www.{ZONE}", "A", port=5353)
        assert "192.0.2.80" not in refused, refused  # nobody listens on 5353
    finally:
        text = named.stop()
    lines = new_log().splitlines()
    _, denied_after = named_env["svc"].counts()
    want = (
        f"policy: {NAMED}, filters: ",
        "syscall: native-bind, sockaddr: inet-[127.0.0.1]:5353, errno: EPERM, rule: no rule matched",
    )
    assert lines and all(want[0] in ln and want[1] in ln for ln in lines), lines
    assert denied_after - denied_before == len(lines)  # every denial counted and logged
    # named's own account: it could not create the listener and went on without it
    assert re.search(
        r"listening on IPv4 interface lo, 127\.0\.0\.1#5353\n"
        r".* creating IPv4 interface lo failed; interface ignored$",
        text,
        re.M,
    ), text
    assert "listening on IPv4 interface lo, 127.0.0.1#53\n" in text, text


def test_including_a_file_outside_the_policy_is_denied(named_env):
    new_log()
    _, denied_before = named_env["svc"].counts()
    named = Named(named_env, "/etc/bind/bst-test-secret.conf", "secret")
    try:
        rc = named.proc.wait(240)
    finally:
        text = named.stop()
    assert rc == 1, text  # named refuses to start
    # named stats an included file before it opens it; fsread rules decide
    # stat too, so the stat is denied and named reports the file as missing
    assert (
        f"{os.path.basename(SECRET)}:2: parsing failed: file not found" in text
        or "parsing failed: file not found" in text
    ), text
    lines = new_log().splitlines()
    assert len(lines) == 1, lines
    assert (f"policy: {NAMED}, filters: ") in lines[0]
    assert (f"syscall: native-stat, filename: {SECRET}, errno: EPERM, rule: no rule matched") in lines[0]
    _, denied_after = named_env["svc"].counts()
    assert denied_after - denied_before == 1
