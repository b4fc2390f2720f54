"""The second red team's roads (issue 31): a root attacker inside the target
cgroup reaches other processes and shared kernel objects through hooks
nobody decided: SIGIO at any process, other processes' priority, affinity
and limits, extended attributes and ACLs (set, read, listed), file times,
inotify/dnotify watches, System V IPC and keys.

The attacker is tests/kernel/bst_roads.c (static). Every road is tried three
ways, in one cgroup each:
  control  nothing attached: the road works (so a denial below is the hook's,
           not the kernel's own refusal);
  deny     a policy that names none of these calls: each fails with EPERM and
           the objects are untouched;
  permit   a policy that names each call (on the other process's executable,
           the watched path, the command): each works again, so the rules are
           real and not blanket denials.
The victim is an unconfined root process (sleep) outside every cgroup; the
shared objects are made by the unconfined control copy.
"""

import json
import os
import shutil
import socket
import subprocess

import pytest

from tests.conftest import cli
from tests.kernel.conftest import build_static, counters, new_log, probe_results

KEY = "0x5b57"
KEYDESC = "bst-mediation-secret"

DENY = """\
Policy: {bin}, Emulation: native
	native-fsread: filename inpath "{d}" then permit
	native-socket: permit
"""

PERMIT = """\
Policy: {bin}, Emulation: native
	native-fsread: filename inpath "{d}" then permit
	native-socket: permit
	native-fcntl: cmd eq "F_SETOWN" then permit
	native-fcntl: cmd eq "F_SETSIG" then permit
	native-ioctl: cmd eq "FIOSETOWN" then permit
	native-ioctl: cmd eq "URING_CMD" then permit
	native-setpriority: pidname eq "{sleep}" then permit
	native-ioprio_set: pidname eq "{sleep}" then permit
	native-sched_setaffinity: pidname eq "{sleep}" then permit
	native-prlimit64: permit
	native-setxattr: permit
	native-removexattr: permit
	native-getxattr: permit
	native-listxattr: permit
	native-utimes: permit
	native-inotify_add_watch: filename eq "{d}/watched" then permit
	native-shmget: permit
	native-shmat: permit
	native-msgget: permit
	native-msgsnd: permit
	native-semget: permit
	native-semop: permit
	native-keyctl: permit
	native-sendto: sockaddr eq "inet-[127.0.0.1]:53" then permit
	native-sendto: sockaddr eq "raw-[127.0.0.2]" then permit
	native-bind: sockaddr eq "inet-[127.0.0.1]:5999" then permit
	native-bind: sockaddr eq "inet-[127.0.0.1]:5995" then permit
	native-bind: sockaddr match "inet-*:5994" then permit
	native-bind: sockaddr match "inet-*:5993" then permit
	native-connect: sockaddr eq "inet-[127.0.0.1]:5998" then permit
	native-truncate: filename eq "{d}/w/keep" then deny
	native-syslog: permit
	native-userfaultfd: permit
	native-init_module: permit
	native-mmap: permit
	native-fswrite: filename inpath "{d}/w" then permit
"""


@pytest.fixture(scope="module")
def world(workdir, make_cgroup_module):
    d = os.path.join(workdir, "mediation")
    os.makedirs(os.path.join(d, "watched"), exist_ok=True)
    os.makedirs(os.path.join(d, "w"), exist_ok=True)
    with open(os.path.join(d, "file"), "w") as f:
        f.write("data\n")
    attack = build_static(workdir, "bst_roads")
    sleep = os.path.realpath(shutil.which("sleep"))
    bins, cgs = {}, {}
    for variant in ("control", "deny", "permit"):
        os.makedirs(os.path.join(workdir, "roads-" + variant), exist_ok=True)
        bins[variant] = shutil.copy(attack, os.path.join(workdir, "roads-" + variant, "bst_roads"))
        cgs[variant] = make_cgroup_module(f"bst-mediation-{variant}.slice")
    for variant, text in (("deny", DENY), ("permit", PERMIT)):
        pol = os.path.join(workdir, f"mediation-{variant}.policy")
        with open(pol, "w") as f:
            f.write(text.format(bin=bins[variant], d=d, sleep=sleep))
        cli("attach", "--cgroup", f"bst-mediation-{variant}.slice", "--policy", pol, check=0)
    # the other processes' objects: made by the unconfined copy
    made = run(cgs["control"], bins["control"], f"mkipc:{KEY}", f"mkkey:{KEYDESC}")
    assert set(made.values()) == {"OK"}, made
    yield {"d": d, "bin": bins, "cg": cgs, "sleep": sleep}
    run(cgs["control"], bins["control"], f"rmipc:{KEY}")
    cli("detach", "--all", check=0)


def run(cg, binary, *acts):
    proc = cg.run([binary, *acts])
    assert proc.returncode == 0, proc.stderr
    return probe_results(proc)


@pytest.fixture
def victim():
    """An unconfined root process outside every cgroup, as a root daemon is."""
    p = subprocess.Popen(["sleep", "600"])
    yield p
    p.kill()
    p.wait()


def attack(world, variant, *acts):
    return run(world["cg"][variant], world["bin"][variant], *acts)


def everywhere(world, acts):
    """{variant: results} for the control, deny and permit copies."""
    return {v: attack(world, v, *acts) for v in ("control", "deny", "permit")}


def events():
    """The journal's events since the previous call (conftest.new_log)."""
    return [json.loads(x) for x in new_log(json_out=True).splitlines()]


def _stat(pid):
    """(nice, the CPUs it may run on) of process pid."""
    with open(f"/proc/{pid}/stat") as f:
        nice = int(f.read().rsplit(")", 1)[1].split()[16])
    with open(f"/proc/{pid}/status") as f:
        cpus = next(ln for ln in f if ln.startswith("Cpus_allowed_list:")).split()[1]
    return nice, cpus


def test_sigio_at_another_process_is_decided_as_fcntl(world):
    """Road 1: F_SETOWN + F_SETSIG + O_ASYNC, then I/O: the kernel delivers the
    chosen signal to the owner without task_kill."""
    for variant, want_alive in (("control", False), ("deny", True), ("permit", False)):
        v = subprocess.Popen(["sleep", "600"])
        try:
            got = attack(world, variant, f"sigio:{v.pid}:15")
            assert got == {f"sigio:{v.pid}:15": "EPERM" if want_alive else "OK"}, variant
            if want_alive:
                assert v.poll() is None, "the victim was signalled through a denied F_SETOWN"
            else:
                assert v.wait(timeout=30) == -15, variant
        finally:
            v.kill()
            v.wait()
    denials = {(e["policy"], e["op"], e["obj"]) for e in events() if e["action"] == "deny"}
    assert (world["bin"]["deny"], "fcntl", "F_SETOWN") in denials, denials


def test_setown_setsig_and_fiosetown_of_another_process(world, victim):
    pid = victim.pid
    acts = (f"setown:{pid}", "setsig:9", f"fiosetown:{pid}", f"setown:{os.getpid()}")
    got = everywhere(world, acts)
    assert set(got["control"].values()) == {"OK"}, got["control"]
    assert got["deny"] == dict.fromkeys(acts, "EPERM"), got["deny"]
    assert got["permit"] == dict.fromkeys(acts, "OK"), got["permit"]


def test_io_uring_passthrough_commands_are_decided_as_ioctl(world):
    """io_uring's IORING_OP_URING_CMD runs a driver's or a socket's own command
    (uring_cmd): an ioctl by another road, decided as ioctl "URING_CMD". Linux
    6.7+ runs SIOCINQ on a socket this way; on older kernels a socket has no
    such command and the kernel refuses it before the hook (EOPNOTSUPP)."""
    act = "uringcmd:-"
    control = attack(world, "control", act)[act]
    assert control in ("OK", "EOPNOTSUPP"), control
    denied = "EPERM" if control == "OK" else control
    assert attack(world, "deny", act) == {act: denied}
    assert attack(world, "permit", act) == {act: control}
    if control == "OK":
        assert ("fcntl", "URING_CMD") in {(e["op"], e["obj"]) for e in events()}


def test_another_processs_priority_affinity_and_limits(world, victim):
    """Road 2: root acting on a root daemon needs no capability: the hooks decide."""
    pid = victim.pid
    before = _stat(pid)
    acts = (f"nice:{pid}", f"ioprio:{pid}", f"sched:{pid}", f"prlimit:{pid}")
    got = attack(world, "deny", *acts, "selfnice:-")
    assert got == {**dict.fromkeys(acts, "EPERM"), "selfnice:-": "OK"}, got
    assert _stat(pid) == before, "the victim changed under a denial"
    mine = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["deny"]}
    assert ("setpriority", world["sleep"]) in mine, mine
    assert ("sched_setscheduler", world["sleep"]) in mine, mine
    assert ("prlimit", "") in mine, mine
    got = attack(world, "permit", *acts)
    assert got == dict.fromkeys(acts, "OK"), got
    assert _stat(pid)[0] == 7
    v2 = subprocess.Popen(["sleep", "600"])
    try:
        assert attack(world, "control", *(a.replace(str(pid), str(v2.pid)) for a in acts)) == {
            a.replace(str(pid), str(v2.pid)): "OK" for a in acts
        }
    finally:
        v2.kill()
        v2.wait()


def test_xattrs_and_acls_are_decided(world):
    """Road 5: permissions without chmod: a POSIX ACL that lets uid 65534 read
    (inode_setxattr on 6.1, inode_set_acl on 6.2+), and user.* data (which
    tmpfs, where the test's files are, stores from Linux 6.6 on: before, the
    file system refuses it after the hook)."""
    f = os.path.join(world["d"], "file")
    acl = (f"acl:{f}", f"rmacl:{f}")
    user = (f"setxattr:{f}", f"rmxattr:{f}")
    past_the_hook = {"OK", "EOPNOTSUPP"}
    got = attack(world, "deny", *acl, *user)
    assert got == dict.fromkeys(acl + user, "EPERM"), got
    assert "system.posix_acl_access" not in os.listxattr(f)
    for variant in ("permit", "control"):
        got = attack(world, variant, acl[0], *user)
        assert got[acl[0]] == "OK" and {got[a] for a in user} <= past_the_hook, (variant, got)
        assert "system.posix_acl_access" in os.listxattr(f)
        assert attack(world, variant, acl[1]) == {acl[1]: "OK"}
        assert "system.posix_acl_access" not in os.listxattr(f)
    denied = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["deny"]}
    assert {("setxattr", ""), ("removexattr", "")} <= denied, denied


def test_xattr_reads_and_file_times_are_decided(world):
    """getxattr/listxattr read any file's extended attributes and ACL by name
    (inode_getxattr, inode_get_acl on 6.2+, inode_listxattr), utimensat sets
    any file's times (inode_setattr with the times alone): decided on "" (the
    hooks see no mount). A write's own mtime update and chmod are not asked."""
    f, w = os.path.join(world["d"], "file"), os.path.join(world["d"], "w", "times")
    with open(w, "w"):
        pass
    reads = (f"getxattr:{f}", f"getacl:{f}", f"listxattr:{f}")
    past_the_hook = {"OK", "ENODATA", "EOPNOTSUPP"}
    os.utime(f, None)
    got = attack(world, "deny", *reads, f"utimes:{f}")
    assert got == dict.fromkeys((*reads, f"utimes:{f}"), "EPERM"), got
    assert os.stat(f).st_mtime != 946684800
    for variant in ("permit", "control"):
        os.utime(f, None)
        got = attack(world, variant, *reads, f"utimes:{f}", f"futimens:{w}")
        assert {got[a] for a in reads} <= past_the_hook and got[f"listxattr:{f}"] == "OK", (variant, got)
        assert got[f"utimes:{f}"] == got[f"futimens:{w}"] == "OK", (variant, got)
        assert os.stat(f).st_mtime == 946684800
    denied = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["deny"]}
    assert {("getxattr", ""), ("listxattr", ""), ("utimes", "")} <= denied, denied


def test_watches_are_decided_on_the_watched_path(world):
    """Road 8: inotify and dnotify report other processes' activity."""
    d = world["d"]
    acts = (f"inotify:{d}/watched", f"dnotify:{d}/watched")
    assert attack(world, "control", *acts) == dict.fromkeys(acts, "OK")
    assert attack(world, "deny", *acts) == dict.fromkeys(acts, "EPERM")
    assert attack(world, "permit", *acts, f"inotify:{d}") == {
        **dict.fromkeys(acts, "OK"),
        f"inotify:{d}": "EPERM",  # the rule names one directory
    }


def test_system_v_ipc_and_keys_of_other_processes(world):
    """Roads 6 and 7: another process's shared memory, queue, semaphores, and
    a key in root's user keyring. A keyring search skips the keys it may not
    use: denied, the key is not found (ENOKEY)."""
    acts = (f"shm:{KEY}", f"msg:{KEY}", f"sem:{KEY}", f"keyread:{KEYDESC}")
    got = everywhere(world, acts)
    assert got["control"] == dict.fromkeys(acts, "OK"), got["control"]
    assert got["deny"] == {**dict.fromkeys(acts[:3], "EPERM"), acts[3]: "ENOKEY"}, got["deny"]
    assert got["permit"] == dict.fromkeys(acts, "OK"), got["permit"]
    denied = {e["op"] for e in events() if e["policy"] == world["bin"]["deny"] and e["action"] == "deny"}
    assert {"shmget", "msgget", "semget", "keyctl"} <= denied, denied


def test_a_raw_socket_is_not_a_port(world):
    """Road 4: a raw IPPROTO_UDP socket's sendto names port 53, which a port
    rule permits, while the datagram it carries goes to another port. A raw
    socket's address renders as raw-[ADDR], which no port rule matches: it
    needs a rule of its own."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("0.0.0.0", 0))
        port = u.getsockname()[1]
        u.settimeout(60)
        to_53, to_2 = f"rawudp:127.0.0.1:53:{port}", f"rawudp:127.0.0.2:53:{port}"
        assert attack(world, "control", to_53) == {to_53: "OK"}
        assert u.recvfrom(64)[0].startswith(b"RAW")
        # the permit copy's rules: inet-[127.0.0.1]:53 and raw-[127.0.0.2]
        assert attack(world, "permit", to_53, to_2) == {to_53: "EPERM", to_2: "OK"}
        assert u.recvfrom(64)[0].startswith(b"RAW")  # the one to 127.0.0.2
        assert attack(world, "deny", to_53) == {to_53: "EPERM"}
        u.setblocking(False)
        with pytest.raises(BlockingIOError):
            u.recvfrom(64)  # the denied sends failed in the call: nothing is on its way
    denied = {(e["policy"], e["obj"]) for e in events() if e["op"] == "sendto" and e["action"] == "deny"}
    assert (world["bin"]["permit"], "raw-[127.0.0.1]") in denied, denied


def test_sctp_binds_and_connects_through_its_own_options(world):
    """Road 3: sctp_bindx and sctp_connectx are socket options (setsockopt), not
    bind(2) and connect(2): each address they carry is decided as bind and
    connect decide one."""
    subprocess.run(["modprobe", "sctp"], check=True)
    acts = ("sctpbindx:127.0.0.1:5999", "sctpconnectx:127.0.0.1:5998")
    others = ("sctpbindx:127.0.0.1:5997", "sctpconnectx:127.0.0.1:5996")
    # an unconfined SCTP server: connectx waits for its answer
    with socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, socket.IPPROTO_SCTP) as server:
        server.bind(("127.0.0.1", 5998))
        server.listen()
        assert attack(world, "control", *acts) == dict.fromkeys(acts, "OK")
        assert attack(world, "deny", *acts) == dict.fromkeys(acts, "EPERM")
        assert attack(world, "permit", *acts, *others) == {
            **dict.fromkeys(acts, "OK"),
            **dict.fromkeys(others, "EPERM"),
        }
    # one call, a list: every address is decided (a permitted first one lets nothing through),
    # and a list longer than SCTP_MAX_ADDRS (16) is refused whatever it holds
    pair, first = "sctpbindxs:127.0.0.1,127.0.0.2:5995", "sctpbindxs:127.0.0.1:5995"
    loopbacks = ",".join(f"127.0.0.{i}" for i in range(1, 17))
    many, more = f"sctpbindxs:{loopbacks}:5994", f"sctpbindxs:{loopbacks},127.0.0.17:5993"
    assert attack(world, "control", pair, many) == dict.fromkeys((pair, many), "OK")
    assert attack(world, "permit", pair, first, many, more) == {
        pair: "EPERM",
        first: "OK",
        many: "OK",
        more: "EPERM",
    }
    denied = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["permit"]}
    assert {
        ("bind", "inet-[127.0.0.1]:5997"),
        ("connect", "inet-[127.0.0.1]:5996"),
        ("bind", "inet-[127.0.0.2]:5995"),
    } <= denied, denied


def test_kernel_log_userfaultfd_and_the_null_page_are_decided(world):
    """The kernel log (syslog(2); /proc/kmsg, /dev/kmsg), a userfaultfd, which
    stalls the kernel mid-copy for as long as its owner likes, and a mapping of
    the NULL page (root's CAP_SYS_RAWIO for it is asked of commoncap alone)."""
    # dmesg_restrict=0 for the test: the kernel then asks no capability for the
    # buffer's size, so only the syslog hook can refuse (Debian's 1 asks
    # CAP_SYSLOG of capable first, decided there); UFFD_USER_MODE_ONLY asks none
    with open("/proc/sys/kernel/dmesg_restrict") as f:
        restrict = f.read().strip()
    with open("/proc/sys/kernel/dmesg_restrict", "w") as f:
        f.write("0")
    try:
        acts = ("syslog:-", "uffd:-", "lowmap:-")
        assert everywhere(world, acts) == {
            "control": dict.fromkeys(acts, "OK"),
            "deny": dict.fromkeys(acts, "EPERM"),
            "permit": dict.fromkeys(acts, "OK"),
        }
    finally:
        with open("/proc/sys/kernel/dmesg_restrict", "w") as f:
            f.write(restrict)
    denied = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["deny"]}
    assert {("syslog", ""), ("userfaultfd", ""), ("mmap", "")} <= denied, denied


def _loaded(module):
    with open("/proc/modules") as f:
        return any(line.split()[0] == module for line in f)


def test_a_module_autoload_is_decided_as_init_module(world):
    """socket(AF_CAN) makes the kernel load the can module for the caller: kernel
    code no rule permitted. Denied, the kernel goes on without it (EAFNOSUPPORT)."""
    assert not _loaded("can"), "can is loaded already: this test needs a fresh VM"
    assert attack(world, "deny", "canraw:-") == {"canraw:-": "EAFNOSUPPORT"}
    assert not _loaded("can")
    assert attack(world, "permit", "canraw:-") == {"canraw:-": "OK"}
    assert _loaded("can") and _loaded("can_raw")
    assert attack(world, "control", "canraw:-") == {"canraw:-": "OK"}
    denied = {(e["op"], e["obj"]) for e in events() if e["policy"] == world["bin"]["deny"]}
    assert ("init_module", "") in denied, denied


def test_ftruncate_and_o_trunc_are_decided_as_truncate(world):
    """Linux 6.2+ calls file_truncate, not path_truncate, for ftruncate(2) and
    open(O_TRUNC): truncate rules decide them on every kernel. The permit
    copy may write {d}/w but not truncate {d}/w/keep."""
    w = os.path.join(world["d"], "w")
    for name in ("keep", "other"):
        with open(os.path.join(w, name), "w") as f:
            f.write("data\n")
    keep = (f"ftruncate:{w}/keep", f"otrunc:{w}/keep")
    got = attack(world, "permit", *keep, f"ftruncate:{w}/other")
    assert got == {**dict.fromkeys(keep, "EPERM"), f"ftruncate:{w}/other": "OK"}, got
    assert open(os.path.join(w, "keep")).read() == "data\n"
    assert attack(world, "control", *keep) == dict.fromkeys(keep, "OK")
    assert open(os.path.join(w, "keep")).read() == ""


# ---- road 9: code injection through an exec into another policy ----

PRELOAD_C = r"""
#include <unistd.h>
__attribute__((constructor)) static void injected(void) { write(1, "INJECTED\n", 9); }
"""


@pytest.fixture(scope="module")
def secure(workdir, probe_bin, make_cgroup_module):
    """A (static bst_probe, its own policy) may exec B (a copy of cat, dynamic,
    with another policy that could read the attacker's library): the road is
    LD_PRELOAD and its kin on that exec."""
    d = os.path.join(workdir, "secure")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "b-file"), "w") as f:
        f.write("B RAN\n")
    src = os.path.join(d, "inject.c")
    with open(src, "w") as f:
        f.write(PRELOAD_C)
    lib = os.path.join(d, "inject.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", lib, src], check=True)
    a = shutil.copy(probe_bin, os.path.join(d, "caller"))
    b = shutil.copy(os.path.realpath(shutil.which("cat")), os.path.join(d, "cat"))
    pol = os.path.join(d, "policies")
    os.makedirs(pol, exist_ok=True)
    with open(os.path.join(pol, "caller"), "w") as f:
        f.write(f'Policy: {a}, Emulation: native\n\tnative-execve: filename eq "{b}" then permit\n')
    with open(os.path.join(pol, "cat"), "w") as f:
        f.write(
            f"Policy: {b}, Emulation: native\n"
            '\tnative-fsread: filename eq "/etc/ld.so.cache" then permit\n'
            '\tnative-fsread: filename match "/usr/lib/*" then permit\n'
            f'\tnative-fsread: filename inpath "{d}" then permit\n'
        )
    cgs = {v: make_cgroup_module(f"bst-secure-{v}.slice") for v in ("control", "confined")}
    cli("attach", "--cgroup", "bst-secure-confined.slice", "--policy", pol, check=0)
    yield {"d": d, "lib": lib, "a": a, "b": b, "cg": cgs}
    cli("detach", "--cgroup", "bst-secure-confined.slice", check=0)


def exec_b(secure, variant, **env):
    """A execs B (cat b-file) with these environment variables: (exit status, output)."""
    proc = secure["cg"][variant].run(
        [secure["a"], f"exec:{secure['b']},{secure['d']}/b-file"],
        env={"PATH": "/usr/bin:/bin", **env},
    )
    return proc.returncode, proc.stdout


def test_loader_variables_never_reach_a_program_under_another_policy(secure):
    lib = secure["lib"]
    env = {"LD_PRELOAD": lib, "LD_AUDIT": lib, "LD_LIBRARY_PATH": os.path.dirname(lib)}
    # with nothing attached the road works (LD_AUDIT's library only needs to load)
    for var, value in env.items():
        code, out = exec_b(secure, "control", **{var: value})
        assert code == 0 and "B RAN" in out, (var, out)
    assert "INJECTED" in exec_b(secure, "control", LD_PRELOAD=lib)[1]
    new_log()
    killed = counters().get("insecure execs killed", 0)
    for var, value in env.items():
        code, out = exec_b(secure, "confined", **{var: value})
        assert code == -9 and "B RAN" not in out and "INJECTED" not in out, (var, code, out)
    assert counters().get("insecure execs killed", 0) == killed + len(env)
    ev = [e for e in events() if e["op"] == "execve" and e["action"] == "deny"]
    assert [(e["policy"], e["obj"]) for e in ev] == [(secure["b"], f"{k}={v}") for k, v in env.items()], ev


def test_the_same_exec_without_them_runs(secure):
    assert exec_b(secure, "confined", LANG="C.UTF-8", TMPDIR="/tmp") == (0, "B RAN\n")
