"""Debian's nginx confined by the shipped policy policies/usr_sbin_nginx.

nginx (master as root, workers as www-data) runs Debian's default
configuration (/etc/nginx/nginx.conf, the default site on port 80 serving
/var/www/html) in a cgroup under the policy. It serves files with zero
denials; a file outside the policy (reached through a symlink in the
document root) gets 403, and a listener on a port outside the policy stops
nginx from starting; each denial is logged and counted.

The test only adds files named bst-test* (removed at the end): in the VM they
land in the guest's overlay and never reach the host.
"""

import os
import signal
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT, cli
from tests.kernel.conftest import ConfinedService, new_log

NGINX = "/usr/sbin/nginx"
POLICY = os.path.join(ROOT, "policies", "usr_sbin_nginx")
CGROUP = "bst-nginx.slice"
SECRET = "/etc/bst-test-secret.html"
PORT_CONF = "/etc/nginx/bst-test-8080.conf"


@pytest.fixture(scope="module")
def nginx_env(workdir, make_cgroup_module):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed: run scripts/setup (Debian package nginx-light)")
    # In the VM / is an overlay: nginx's first open of a log file that has
    # content on the lower (host) layer copies it up, and overlayfs reads the
    # lower file with the opener's credentials, which file_open sees as an
    # fsread of the log by nginx. Copy the logs up from outside the cgroup.
    for log in ("/var/log/nginx/access.log", "/var/log/nginx/error.log"):
        with open(log, "a"):
            pass
    svc = ConfinedService(NGINX, POLICY, CGROUP, workdir, make_cgroup_module)
    svc.write("/var/www/html/bst-test.html", "<p>served under a systrace policy</p>\n")
    svc.write(SECRET, "not for the web\n")
    svc.symlink(SECRET, "/var/www/html/bst-test-secret.html")
    svc.write(
        PORT_CONF,
        "pid /run/nginx.pid;\nerror_log stderr;\nevents { worker_connections 64; }\n"
        "http { server { listen 127.0.0.1:80; listen 127.0.0.1:8080; "
        "root /var/www/html; } }\n",
    )
    yield svc
    svc.close()


def start(svc, *args):
    return svc.start([NGINX, "-g", "daemon off;", *args], "nginx")


def get(path):
    """(status, body) of GET http://127.0.0.1/PATH."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1{path}", timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_nginx_serves_files_and_not_a_file_outside_the_policy(nginx_env):
    new_log()
    proc, out = start(nginx_env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, body = get("/bst-test.html")
                break
            except OSError:
                assert proc.poll() is None, out.seek(0) or out.read()
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.5)
        assert (status, body) == (200, "<p>served under a systrace policy</p>\n")
        status, body = get("/")  # Debian's index page
        assert status == 200 and "Welcome to nginx!" in body
        assert get("/nothere.html")[0] == 404  # ENOENT: no denial
        _, denied = nginx_env.counts()
        log = new_log()
        assert (denied, log) == (0, ""), cli("status", "--rules").stdout
        # a symlink to /etc: Debian's site has `try_files $uri $uri/ =404`,
        # whose stat of the target is denied (EACCES), so nginx answers 404
        # without ever opening it
        status, _ = get("/bst-test-secret.html")
        assert status == 404, new_log()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        out.close()
    lines = new_log().splitlines()
    assert lines, "no denial logged"
    for line in lines:  # try_files stats $uri (and $uri/ for a directory)
        assert (f"policy: {NGINX}, filters: ") in line
        assert (f"syscall: native-stat, filename: {SECRET}, errno: EACCES, rule: {POLICY}:") in line, lines
    assert nginx_env.counts()[1] == len(lines)  # each denial counted and logged


def test_a_listener_outside_the_policy_keeps_nginx_from_starting(nginx_env):
    new_log()
    _, before = nginx_env.counts()
    proc, out = start(nginx_env, "-c", PORT_CONF)
    rc = proc.wait(180)
    out.seek(0)
    text = out.read()
    out.close()
    assert rc == 1, text
    assert "bind() to 127.0.0.1:8080 failed (1: Operation not permitted)" in text, text
    lines = new_log().splitlines()
    assert lines and all(
        "syscall: native-bind, sockaddr: inet-[127.0.0.1]:8080, errno: EPERM, rule: no rule matched" in ln
        for ln in lines
    ), lines
    _, after = nginx_env.counts()
    assert after - before == len(lines) == text.count("bind() to 127.0.0.1:8080 failed")
