"""Escapes by names (issue 14, roads 7, 8 and 9): a confined root process naming a
socket or a file so that the name it wrote, or the name d_path would print, is
permitted while the object it reaches is not. Each case asserts what the user
sees (the errno, no file, no connection, the log line) and that the permitted
twin still works; docs/security.md has one row per attempt.

  unix sockets     decided on the peer the kernel found (its bound path, resolved;
                   @name for abstract ones) and, for bind, on the file created
  not a name       a file opened by handle (disconnected dentry) or through a
                   detached tree (open_tree clone): denied and counted, whatever
                   d_path would print
  AF_UNSPEC        on an INET socket decided as the INET address it is
  stat             io_uring statx and fstat of an O_PATH descriptor are stat
  log lines        a newline in a name is escaped in `log` and syslog
"""

import os
import re
import socket
import subprocess

import pytest

from tests.conftest import cli
from tests.kernel.conftest import new_log, probe_results

P_DENY, P_OK, P_BDENY, P_BOK = 40101, 40102, 40103, 40104

POLICY = """\
Policy: {probe}, Emulation: native
	native-socket: permit
	native-connect: sockaddr match "{d}/sock/*" then permit
	native-bind: sockaddr match "{d}/sock/*" then permit
	native-connect: sockaddr eq "@bst-ok" then permit
	native-sendto: sockaddr eq "@bst-dg-ok" then permit
	native-bind: sockaddr eq "@bst-bind-ok" then permit
	native-sendto: sockaddr eq "inet-[127.0.0.1]:{p_deny}" then deny[enetunreach]
	native-sendto: sockaddr eq "inet-[127.0.0.1]:{p_ok}" then permit
	native-bind: sockaddr eq "inet-[0.0.0.0]:{p_bdeny}" then deny[eacces]
	native-bind: sockaddr eq "inet-[0.0.0.0]:{p_bok}" then permit
	native-fsread: filename eq "{d}/pub" then permit
	native-fsread: filename eq "{d}/tree/ok" then permit
	native-fsread: filename eq "{e}/pub" then permit
	native-fsread: filename eq "{e}" then permit
	native-fswrite: filename eq "/proc/sys/vm/drop_caches" then permit
	native-fsread: filename eq "/" then permit
	native-fsread: filename eq "/secret" then permit
	native-mount: filename eq "" and fstype eq "open_tree" then permit
"""
# The fsread "/" and "/secret" rules are bait: what d_path prints for a
# disconnected dentry ("/") and for secret in a detached clone of {d}/tree
# ("/secret"). The mount rule lets open_tree(OPEN_TREE_CLONE) make that clone
# (otherwise the mount hook refuses it before any name is rendered).


def listen(path, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_UNIX, kind)
    s.bind(path)
    if kind == socket.SOCK_STREAM:
        s.listen(8)
    s.setblocking(False)
    return s


def pending(s) -> int:
    """Connections (stream) or datagrams waiting on a listener of the test."""
    n = 0
    while True:
        try:
            if s.type == socket.SOCK_STREAM:
                s.accept()[0].close()
            else:
                s.recv(16)
            n += 1
        except BlockingIOError:
            return n


def counter_not_a_name() -> int:
    out = cli("status", check=0).stdout
    m = re.search(r"not a name \(disconnected or detached\) (\d+)", out)
    return int(m.group(1)) if m else 0


def ext4(workdir):
    """An ext4 file system on a loop device: handles of its files give
    disconnected dentries once the dentry cache is dropped (tmpfs never does)."""
    img, mnt = os.path.join(workdir, "ext.img"), os.path.join(workdir, "ext")
    os.makedirs(mnt, exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["modprobe", "loop"], capture_output=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
    return mnt


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "names")
    for sub in ("sock", "out", "tree"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    e = ext4(workdir)
    for name in ("pub", "secret", "tree/ok", "tree/secret"):
        with open(os.path.join(d, name), "w") as f:
            f.write("x\n")
    for name in ("pub", "secret"):
        with open(os.path.join(e, name), "w") as f:
            f.write("x\n")
    socks = {
        "pub": listen(f"{d}/sock/pub.sock"),
        "private": listen(f"{d}/private.sock"),
        "dg": listen(f"{d}/sock/dg.sock", socket.SOCK_DGRAM),
        "dgpriv": listen(f"{d}/dgpriv.sock", socket.SOCK_DGRAM),
        "a-ok": listen("\0bst-ok"),
        "a-no": listen("\0bst-no"),
        "a-dg-ok": listen("\0bst-dg-ok", socket.SOCK_DGRAM),
        "a-dg-no": listen("\0bst-dg-no", socket.SOCK_DGRAM),
    }
    os.symlink(f"{d}/private.sock", f"{d}/sock/link.sock")
    os.symlink(f"{d}/sock/pub.sock", f"{d}/sock/link-ok.sock")
    os.symlink(f"{d}/out", f"{d}/sock/lnk-out")
    policy = os.path.join(workdir, "names.policy")
    with open(policy, "w") as f:
        f.write(
            POLICY.format(probe=probe_bin, d=d, e=e, p_deny=P_DENY, p_ok=P_OK, p_bdeny=P_BDENY, p_bok=P_BOK)
        )
    cg = make_cgroup_module("bst-names.slice")
    cli("attach", "--cgroup", "bst-names.slice", "--policy", policy, check=0)
    new_log()  # from here on: this module's events
    yield {"d": d, "e": e, "cg": cg, "probe": probe_bin, "socks": socks}
    cli("detach", "--cgroup", "bst-names.slice", check=0)
    for s in socks.values():
        s.close()
    subprocess.run(["umount", "-l", e])


def run(env, acts):
    proc = env["cg"].run([env["probe"], *acts])
    assert proc.returncode == 0, proc.stderr
    return probe_results(proc)


def test_unix_connect_and_send_are_decided_on_the_peer_found(env):
    d, socks = env["d"], env["socks"]
    want = {
        f"connectu:{d}/sock/../private.sock": "EPERM",  # `..` out of sock/
        f"connectu:{d}/sock/link.sock": "EPERM",  # a symlink in sock/ to a socket outside
        f"connectu:{d}/sock/pub.sock": "OK",  # twin
        f"connectu:{d}/sock/link-ok.sock": "OK",  # symlink to a permitted socket
        f"sendtou:{d}/sock/../dgpriv.sock": "EPERM",  # datagram sendto
        f"dgconnectu:{d}/sock/../dgpriv.sock": "EPERM",  # datagram connect
        f"sendtou:{d}/sock/dg.sock": "OK",
        f"dgconnectu:{d}/sock/dg.sock": "OK",  # connect, then send on it
        "connecta:bst-ok": "OK",  # abstract: @bst-ok
        "connecta:bst-no": "EPERM",
        "sendtoa:bst-dg-ok": "OK",
        "sendtoa:bst-dg-no": "EPERM",
        f"chdir:{d}": "OK",  # relative names are resolved too
        "connectu:sock/../private.sock": "EPERM",
        "connectu:sock/pub.sock": "OK",
    }
    assert run(env, want) == want
    # a denied connect leaves nothing on the listener, a denied datagram is not queued
    assert pending(socks["private"]) == 0
    assert pending(socks["pub"]) == 3
    assert pending(socks["dgpriv"]) == 0
    assert pending(socks["dg"]) == 2
    assert pending(socks["a-no"]) == 0 and pending(socks["a-dg-no"]) == 0
    assert pending(socks["a-ok"]) == 1 and pending(socks["a-dg-ok"]) == 1


def test_unix_bind_is_decided_on_the_file_it_creates(env):
    d, w = env["d"], os.path.dirname(env["d"])
    want = {
        f"bindu:{d}/sock/../../evil.sock": "EPERM",  # `..` out of sock/
        f"bindu:{d}/sock/lnk-out/evil.sock": "EPERM",  # through a symlinked directory
        f"bindu:{d}/sock/new.sock": "OK",  # twin
        "binda:bst-bind-ok": "OK",  # abstract: @bst-bind-ok
        "binda:bst-bind-no": "EPERM",
    }
    assert run(env, want) == want
    assert not os.path.lexists(f"{w}/evil.sock")
    assert not os.path.lexists(f"{d}/out/evil.sock")
    assert os.path.exists(f"{d}/sock/new.sock")


def test_unix_denials_log_the_resolved_name(env):
    d = env["d"]
    log = new_log().splitlines()
    assert any(f"native-connect, sockaddr: {d}/private.sock, errno: EPERM" in ln for ln in log), log
    assert any(f"native-bind, sockaddr: {os.path.dirname(d)}/evil.sock, errno: EPERM" in ln for ln in log), (
        log
    )
    assert any("native-connect, sockaddr: @bst-no, errno: EPERM" in ln for ln in log), log


def test_disconnected_and_detached_names_are_denied_and_counted(env):
    d, e = env["d"], env["e"]
    before = counter_not_a_name()
    want = {
        f"byhandle:{e}/secret": "EPERM",  # d_path: "/", which the bait rule permits
        f"byhandle:{e}/pub": "EPERM",  # fail closed: a disconnected dentry is no name
        f"byhandlec:{e}/pub": "OK",  # twin: the dentry stays connected, its name decides
        f"byhandlec:{e}/secret": "EPERM",
        f"open:{e}/pub:r": "OK",
        f"treeopen:{d}/tree:secret": "EPERM",  # d_path in the clone: "/secret" (bait)
        f"treeopen:{d}/tree:ok": "EPERM",  # fail closed
        f"treestat:{d}/tree:secret": "EPERM",
        f"open:{d}/tree/ok:r": "OK",  # twin: the file by its name
    }
    assert run(env, want) == want
    assert counter_not_a_name() - before == 5
    log = new_log().splitlines()
    marked = [ln for ln in log if "<not a name: a file opened by handle, or in a detached" in ln]
    assert len(marked) == 5, log
    assert sum("syscall: native-stat" in ln for ln in marked) == 1, marked


def test_af_unspec_is_decided_as_the_inet_address_it_is(env):
    want = {
        f"unspecsend:{P_DENY}": "ENETUNREACH",  # the deny rule for 127.0.0.1:P_DENY holds
        f"sendto4:127.0.0.1:{P_DENY}": "ENETUNREACH",
        f"unspecsend:{P_OK}": "OK",
        f"unspecbind:{P_BDENY}": "EACCES",
        f"bind4:0.0.0.0:{P_BDENY}": "EACCES",
        f"unspecbind:{P_BOK}": "OK",
    }
    assert run(env, want) == want


def test_uring_statx_and_opath_fstat_are_stat(env):
    d = env["d"]
    want = {
        f"uringstatx:{d}/secret": "EPERM",
        f"uringstatx:{d}/pub": "OK",
        f"opathfstat:{d}/secret": "EPERM",
        f"opathfstat:{d}/pub": "OK",
        f"fstat:{d}/pub": "OK",  # a descriptor whose open was decided
        f"stat:{d}/secret": "EPERM",
    }
    assert run(env, want) == want


def test_a_newline_in_a_name_forges_no_log_line(env):
    from bpfsystrace import attachments
    from bpfsystrace.kernel import libbpf, loader
    from bpfsystrace.observe import events, sinks

    d = env["d"]
    forged = f"{d}/evil\ndeny user: root, prog: named, forged"
    with open(forged, "w") as f:  # made by the test: the name is the attack
        f.write("x\n")
    new_log()
    proc = env["cg"].run([env["probe"], f"open:{forged}:r"])
    assert proc.stdout.endswith(" EPERM\n"), proc.stdout
    out = new_log().splitlines()
    assert not any(ln.startswith("deny user: root, prog: named, forged") for ln in out), out
    assert any(f"filename: {d}/evil\\ndeny user: root, prog: named, forged" in ln for ln in out), out
    # the daemon's syslog sink: the same event, one datagram, one line
    rx_path = os.path.join(d, "syslog.sock")
    rx = listen(rx_path, socket.SOCK_DGRAM)
    env["cg"].run([env["probe"], f"open:{forged}:r"])
    k, got = loader.open_kernel(), []
    syslog = sinks.Syslog(rx_path)

    def on(data):
        ev = events.decode(data)
        syslog.send(events.systrace_line(ev, attachments.load_attachment(ev.target_id)))

    rb = libbpf.RingBuffer(k.events_fd, on)
    while rb.poll(200):
        pass
    rb.close()
    k.close()
    while True:
        try:
            got.append(rx.recv(4096).decode())
        except BlockingIOError:
            break
    rx.close()
    line = [g for g in got if "evil" in g]
    assert line and "\n" not in line[0], got
    assert f"{d}/evil\\ndeny user" in line[0], got
