"""End to end in a real kernel: attach a policy, watch the errnos processes get.

One attach serves the whole module (the batch); each test asserts what a user
would see: the errno of a system call made by a confined process, the output
of `status`, the state after `detach`.
"""

import errno
import os
import re
import shutil
import socket
import subprocess

import pytest

from bpfsystrace.compile import pipeline
from bpfsystrace.kernel import loader
from bpfsystrace.model import reference
from tests.conftest import cli
from tests.kernel.conftest import listener, new_log, probe_results

POLICY = """\
# test policy for bst_probe
Policy: {probe}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-fsread: filename match "{d}/pub/*" then permit
	native-fsread: filename sub "secret" then deny[eacces]
	native-fsread: filename match "{d}/enoent*" then deny[enoent]
	native-fswrite: filename eq "{d}/allowed" then permit
	native-fswrite: filename eq "{d}/wonly" then permit
	native-bind: sockaddr match "inet-*:53" then permit
	native-bind: sockaddr eq "inet-[127.0.0.1]:0" then permit
	native-connect: sockaddr eq "inet-[127.0.0.1]:{port4}" then permit
	native-connect: sockaddr eq "inet-[::1]:{port6}" then permit
	native-connect: sockaddr eq "{d}/sock" then permit
	native-mmap: permit
	native-socket: permit
"""


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    d = os.path.join(workdir, "files")
    os.makedirs(os.path.join(d, "pub"), exist_ok=True)
    for name in ("allowed", "wonly", "other", "pub/a", "secret-file", "enoent-x"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name + "\n")
    l4, port4 = listener(socket.AF_INET, "127.0.0.1")
    l6, port6 = listener(socket.AF_INET6, "::1")
    unix_ok, unix_other = (socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2))
    unix_ok.bind(os.path.join(d, "sock"))
    unix_other.bind(os.path.join(d, "sock2"))
    unix_ok.listen(8)
    unix_other.listen(8)
    policy_file = os.path.join(workdir, "bst_probe.policy")
    with open(policy_file, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d, port4=port4, port6=port6))
    cg = make_cgroup_module("bst-test.slice")
    attach = cli("attach", "--cgroup", "bst-test.slice", "--policy", policy_file, check=0)
    yield {
        "d": d,
        "port4": port4,
        "port6": port6,
        "cg": cg,
        "probe": probe_bin,
        "policy": policy_file,
        "attach": attach,
        "make_cgroup": make_cgroup_module,
    }
    for s in (l4, l6, unix_ok, unix_other):
        s.close()


def actions(env):
    """Every action with (operation, object string, expected result)."""
    d, p4, p6 = env["d"], env["port4"], env["port6"]
    return {
        f"open:{d}/allowed:r": ("fsread", f"{d}/allowed", "OK"),
        f"open:{d}/allowed:w": ("fswrite", f"{d}/allowed", "OK"),
        f"open:{d}/allowed:rw": (None, None, "OK"),
        f"open:{d}/wonly:w": ("fswrite", f"{d}/wonly", "OK"),
        f"open:{d}/wonly:r": ("fsread", f"{d}/wonly", "EPERM"),
        f"open:{d}/wonly:rw": (None, None, "EPERM"),  # read and write must both permit
        f"open:{d}/pub/a:r": ("fsread", f"{d}/pub/a", "OK"),
        f"open:{d}/pub/a:w": ("fswrite", f"{d}/pub/a", "EPERM"),
        f"open:{d}/other:r": ("fsread", f"{d}/other", "EPERM"),
        f"open:{d}/secret-file:r": ("fsread", f"{d}/secret-file", "EACCES"),
        f"open:{d}/enoent-x:r": ("fsread", f"{d}/enoent-x", "ENOENT"),
        f"open:{d}/pub/../other:r": ("fsread", f"{d}/other", "EPERM"),  # resolved path
        "bind4:127.0.0.1:53": ("bind", "inet-[127.0.0.1]:53", "OK"),
        "bind4:127.0.0.1:5454": ("bind", "inet-[127.0.0.1]:5454", "EPERM"),
        "bind4:127.0.0.1:0": ("bind", "inet-[127.0.0.1]:0", "OK"),
        "bind6:::1:53": ("bind", "inet-[::1]:53", "OK"),
        "bind6:::1:5454": ("bind", "inet-[::1]:5454", "EPERM"),
        f"connect4:127.0.0.1:{p4}": ("connect", f"inet-[127.0.0.1]:{p4}", "OK"),
        f"connect4:127.0.0.2:{p4}": ("connect", f"inet-[127.0.0.2]:{p4}", "EPERM"),
        f"connect6:::1:{p6}": ("connect", f"inet-[::1]:{p6}", "OK"),
        f"connect6:::1:{p4}": ("connect", f"inet-[::1]:{p4}", "EPERM"),
        f"connectu:{d}/sock": ("connect", f"{d}/sock", "OK"),
        f"connectu:{d}/sock2": ("connect", f"{d}/sock2", "EPERM"),
    }


def run_probe(cg, env, acts):
    proc = cg.run([env["probe"], *acts])
    assert proc.returncode == 0, proc.stderr
    return probe_results(proc)


def test_attach_returns_once_enforcing_and_the_controller_is_gone(env):
    assert "enforcing on" in env["attach"].stderr
    assert loader.is_loaded()
    # attach was a separate process that has exited: everything below is
    # enforced by pinned programs alone
    assert subprocess.run(["pgrep", "-f", "bpfsystrace attach"], capture_output=True).returncode != 0


def test_confined_process_gets_the_policy_errno(env):
    acts = actions(env)
    got = run_probe(env["cg"], env, list(acts))
    want = {a: r for a, (_, _, r) in acts.items()}
    assert got == want


def test_denials_are_logged_in_systrace_format(env):
    d = env["d"]
    new_log()  # drain what earlier tests left
    run_probe(env["cg"], env, [f"open:{d}/secret-file:r", "bind4:127.0.0.1:5454", f"open:{d}/allowed:r"])
    lines = new_log().splitlines()
    probe = env["probe"]
    assert len(lines) == 2, lines  # the permitted open is not logged
    assert lines[0].startswith("deny user: root, prog: bst_probe, pid: ")
    assert (
        f"policy: {probe}, filters: 13, syscall: native-fsread, filename: {d}/secret-file, "
        f"errno: EACCES, rule: {env['policy']}:5:2"
    ) in lines[0]
    assert (
        f"policy: {probe}, filters: 13, syscall: native-bind, "
        f"sockaddr: inet-[127.0.0.1]:5454, errno: EPERM, rule: no rule matched"
    ) in lines[1]


def test_kernel_agrees_with_the_reference_evaluator(env):
    (policy,), _ = pipeline.load_policies([env["policy"]])
    for action, (op, obj, result) in actions(env).items():
        if op is None:
            continue
        d = reference.decide(policy, reference.op_by_name(op), obj)
        ref = "OK" if d.permitted else errno.errorcode[d.errno]
        assert ref == result, (action, d.describe())


def test_process_outside_the_cgroup_is_untouched(env):
    acts = actions(env)
    proc = subprocess.run([env["probe"], *acts], capture_output=True, text=True, timeout=60)
    got = probe_results(proc)
    natural = {
        f"connect4:127.0.0.2:{env['port4']}": "ECONNREFUSED",  # listener is on .1
        f"connect6:::1:{env['port4']}": "ECONNREFUSED",
    }
    for action in acts:
        assert got[action] == natural.get(action, "OK"), action


def test_child_cgroup_created_after_attach_is_confined(env):
    child = env["cg"].child("late/deeper")
    d = env["d"]
    got = run_probe(child, env, [f"open:{d}/allowed:r", f"open:{d}/other:r", "bind4:127.0.0.1:5454"])
    assert got == {f"open:{d}/allowed:r": "OK", f"open:{d}/other:r": "EPERM", "bind4:127.0.0.1:5454": "EPERM"}


def test_default_deny_for_binaries_without_policy(env):
    # the forked child joins the cgroup, then its exec of /bin/cat is checked
    # under the default policy (deny): the exec itself fails
    with pytest.raises(PermissionError):
        env["cg"].run(["/bin/cat", os.path.join(env["d"], "allowed")])


def test_the_callers_execve_rules_decide_every_exec(env):
    # a confined process (running bst_probe's policy) cannot exec /bin/true,
    # nor bst_probe itself, although that has a policy: bst_probe's policy has
    # no execve rule (systrace: the caller's rules decide every exec) ...
    d = env["d"]
    got = run_probe(env["cg"], env, [f"open:{d}/allowed:r", "exec:/bin/true"])
    assert got == {f"open:{d}/allowed:r": "OK", "exec:/bin/true": "EPERM"}
    got = run_probe(env["cg"], env, [f"exec:{env['probe']},open:{d}/other:r"])
    assert got == {f"exec:{env['probe']},open:{d}/other:r": "EPERM"}
    # ... while the process that entered the cgroup from outside (the test's
    # forked child, running python, which has no policy) may exec bst_probe:
    # that is how bst_probe enters its policy
    got = run_probe(env["cg"], env, [f"open:{d}/other:r"])
    assert got == {f"open:{d}/other:r": "EPERM"}


def test_dynamic_binary_under_its_own_policy(env, workdir):
    """ld.so (opened by the kernel during execve) and libraries are read under
    the new program's own policy."""
    cat = os.path.join(workdir, "cat")
    shutil.copy("/bin/cat", cat)
    d = env["d"]
    pol = os.path.join(workdir, "cat.policy")
    with open(pol, "w") as f:
        f.write(f"""Policy: {cat}, Emulation: native
\tnative-fsread: filename match "/usr/lib/*" then permit
\tnative-fsread: filename eq "/etc/ld.so.cache" then permit
\tnative-fsread: filename eq "{d}/allowed" then permit
""")
    cg = env["make_cgroup"]("bst-cat.slice")
    cli("attach", "--cgroup", "bst-cat.slice", "--policy", pol, check=0)
    try:
        ok = cg.run([cat, f"{d}/allowed"])
        assert (ok.returncode, ok.stdout) == (0, "allowed\n"), ok.stderr
        denied = cg.run([cat, f"{d}/other"])
        assert denied.returncode == 1
        assert "Operation not permitted" in denied.stderr
    finally:
        cli("detach", "--cgroup", "bst-cat.slice", check=0)


def test_status_counts_exact_decisions(env):
    cg = env["make_cgroup"]("bst-count.slice")
    cli("attach", "--cgroup", "bst-count.slice", "--policy", env["policy"], check=0)
    d = env["d"]
    run_probe(
        cg,
        env,
        [
            f"open:{d}/allowed:r",
            f"open:{d}/allowed:rw",
            f"open:{d}/other:r",
            "bind4:127.0.0.1:5454",
            f"open:{d}/secret-file:r",
        ],
    )
    out = cli("status", check=0).stdout
    block = _block(out, "bst-count.slice")
    line = next(ln for ln in block if ln.strip().startswith(env["probe"] + " "))
    # allowed: read, read+write (2 decisions), bind's socket; denied: other, bind, secret
    assert line.strip().endswith("4 allowed, 3 denied"), out
    assert any("every other process in the cgroup gets the default (deny)" in ln for ln in block)
    # the kernel memory status reads back is what check --stats computes from the policy
    stats = cli("check", "--stats", env["policy"], check=0).stdout
    want = int(re.search(r"kernel memory: (\d+) bytes", stats).group(1))
    got = int(re.search(r"kernel memory: (\d+) bytes", "\n".join(block)).group(1))
    assert got == want > 0, (got, want)
    cli("detach", "--cgroup", "bst-count.slice", check=0)


def _block(out, cgroup_name):
    """The lines of `status` output under the heading of one cgroup."""
    blocks, current = {}, None
    for ln in out.splitlines():
        if not ln.startswith(" "):
            current = os.path.basename(ln.split(" ")[0])
        blocks.setdefault(current, []).append(ln)
    return blocks[cgroup_name]


def test_detach_lifts_enforcement(env):
    d = env["d"]
    cli("detach", "--cgroup", "bst-test.slice", check=0)
    got = run_probe(env["cg"], env, [f"open:{d}/other:r", "bind4:127.0.0.1:5454"])
    assert got == {f"open:{d}/other:r": "OK", "bind4:127.0.0.1:5454": "OK"}
    assert "nothing attached" in cli("status", check=0).stdout
    assert not os.path.exists(loader.PIN_ROOT)


def test_service_manager_child_prepares_then_execs_under_policy(env, workdir):
    """systemd's pattern: fork, join the cgroup, set up, exec the daemon.

    The forked child still runs the manager's binary (here: python, named by
    --manager): it is not confined until it execs; its exec of a binary without
    a policy is denied by the default; its exec of the daemon is a transition;
    and nothing confined may exec the manager's binary."""
    import sys

    d, probe = env["d"], env["probe"]
    pol = os.path.join(workdir, "mgr.policy")
    with open(pol, "w") as f:
        f.write(
            f"Policy: {probe}, Emulation: native\n"
            f"\tnative-fsread: filename eq \"{d}/allowed\" then permit\n"
            f"\tnative-execve: permit\n"
        )
    cg = env["make_cgroup"]("bst-mgr.slice")
    cli(
        "attach",
        "--cgroup",
        "bst-mgr.slice",
        "--policy",
        pol,
        "--manager",
        os.path.realpath(sys.executable),
        check=0,
    )
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the manager's child
        os.close(r)
        out = os.fdopen(w, "w", buffering=1)
        try:
            cg.join()()
            try:
                open(f"{d}/other").close()
                out.write("prepare OK\n")
            except OSError as e:
                out.write(f"prepare {errno.errorcode[e.errno]}\n")
            try:
                os.execv("/bin/true", ["/bin/true"])
            except OSError as e:
                out.write(f"exec-true {errno.errorcode[e.errno]}\n")
            os.dup2(w, 1)
            os.execv(
                probe,
                [
                    probe,
                    f"open:{d}/allowed:r",
                    f"open:{d}/other:r",
                    f"exec:{os.path.realpath(sys.executable)},-c,print(1)",
                ],
            )
        finally:
            os._exit(3)
    os.close(w)
    with os.fdopen(r) as f:
        lines = f.read().splitlines()
    os.waitpid(pid, 0)
    cli("detach", "--cgroup", "bst-mgr.slice", check=0)
    assert lines == [
        "prepare OK",
        "exec-true EPERM",
        f"open:{d}/allowed:r OK",
        f"open:{d}/other:r EPERM",
        f"exec:{os.path.realpath(sys.executable)},-c,print(1) EPERM",
    ]


def test_path_longer_than_the_engine_handles_is_denied_not_permitted(env, workdir):
    """A file whose resolved path exceeds PATH_MAX (reached by relative chdirs):
    the kernel cannot render it, so even a permit-everything policy denies it
    with ENAMETOOLONG, counts it and logs it."""
    d = env["d"]
    deep = os.path.join(workdir, "deep")
    os.makedirs(deep, exist_ok=True)
    fd = os.open(deep, os.O_RDONLY)
    comp = "x" * 200
    for _ in range(22):  # 22 * 201 bytes > 4096
        os.mkdir(comp, dir_fd=fd)
        nfd = os.open(comp, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)
    pol = os.path.join(workdir, "permit-all.policy")
    with open(pol, "w") as f:
        f.write(f"Policy: {env['probe']}, Emulation: native\n\tnative-fsread: true then permit\n")
    cg = env["make_cgroup"]("bst-long.slice")
    cli("attach", "--cgroup", "bst-long.slice", "--policy", pol, check=0)
    new_log()
    acts = [f"chdir:{deep}"] + [f"chdir:{comp}"] * 22 + ["open:f:r", f"open:{d}/other:r"]
    proc = cg.run([env["probe"], *acts])
    lines = proc.stdout.splitlines()
    assert lines[-2:] == ["open:f:r ENAMETOOLONG", f"open:{d}/other:r OK"], proc.stdout
    assert "too long 1" in cli("status", check=0).stdout
    log = new_log()
    assert (
        "syscall: native-fsread, filename: <longer than PATH_MAX>, errno: ENAMETOOLONG, "
        "rule: none (not decidable in the kernel: denied)"
    ) in log
    cli("detach", "--cgroup", "bst-long.slice", check=0)
