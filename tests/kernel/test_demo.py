"""The README's `make demo`, as a new user runs it (its part inside the VM).

scripts/demo --inside: named started by a shell launcher in its cgroup under
the shipped policy and the controller service, a query answered, the three
denials (a zone file outside the policy, a port outside it, a program without
a policy), each in syslog and JSON, and the metrics scraped. If the demo
breaks, this fails.
"""

import os
import re
import subprocess

from tests.conftest import ROOT


def test_make_demo_confines_named_and_shows_allowed_and_denied(tmp_path):
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", os.path.join(ROOT, "scripts", "demo"), "--inside"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"demo exited {proc.returncode}\n{out}\n{proc.stderr}"
    # allowed: the query on port 53, from /etc/bind/db.demo.test
    assert re.search(r"^\$ dig \+short @127.0.0.1 www.demo.test A\n192\.0\.2\.10$", out, re.M), out
    # denied: the zone outside the policy, port 5353, a program without a policy
    assert "status: SERVFAIL" in out, out
    assert re.search(r"-p 5353 @127\.0\.0\.1 www\.demo\.test A \| grep .*\n.*(refused|timed out)", out), out
    assert "exec: /bin/cat: Operation not permitted" in out + proc.stderr, out
    # each denial in syslog, in systrace's format
    syslog = out.split("== the denials in syslog", 1)[1].split("== the same events as JSON", 1)[0]
    for denial in (
        r"policy: /usr/sbin/named, .*syscall: native-fsread, filename: \S*/db\.elsewhere\.test, errno: EPERM",
        r"policy: /usr/sbin/named, .*syscall: native-bind, sockaddr: inet-\[127\.0\.0\.1\]:5353, errno: EPERM",
        r"prog: sh, .*policy: default \(deny\), .*syscall: native-execve, filename: /usr/bin/cat, errno: EPERM",
    ):
        assert re.search(r"authpriv\.warning bpfsystrace\[\d+\]: deny user: .*" + denial, syslog), (
            denial,
            syslog,
        )
    # the counters scraped from the controller's metrics endpoint
    for op, policy in (
        ("bind", "/usr/sbin/named"),
        ("fsread", "/usr/sbin/named"),
        ("execve", "default (deny)"),
    ):
        m = re.search(
            rf'^  bpfsystrace_decisions_total\{{action="deny",cgroup="\S+",operation="{op}",'
            rf'policy="{re.escape(policy)}"\}} (\d+)\.0$',
            out,
            re.M,
        )
        assert m and int(m.group(1)) >= 1, (op, out)
