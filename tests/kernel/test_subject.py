"""Confinement is carried by the task (issue 14, roads 3 and 6).

Once a task is confined it stays confined, under the same attachment and
policy, whatever cgroup it is moved to (by itself, by clone3, by another
process), until `detach`; its policy is the one of the executable it exec'd,
whatever its mm claims later; and the caller's execve rules decide every exec.

The attacker is bst_probe running as root (copies of it with their own
inodes: att, wide, nopol, free), in one attachment for the module:
  att    may read {d}/pub/*, /proc/*; may write the root cgroup's cgroup.procs
         (so a move is not stopped by a path rule), may exec nopol
  wide   may read everything (a more permissive policy att may not enter)
  free   a `detached` policy (permitted everything)
  nopol  no policy: runs under the default policy, which may exec nothing
and a fake service manager (a copy of /bin/true, --manager).
"""

import os
import shutil
import subprocess

import pytest

from bpfsystrace.kernel import system
from tests.conftest import cli
from tests.kernel.conftest import counters, probe_results

CGROUP = "bst-subject.slice"


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    base = os.path.join(workdir, "subject")
    d = os.path.join(base, "files")
    pol = os.path.join(base, "policies")
    for sub in (d, os.path.join(d, "pub"), pol):
        os.makedirs(sub, exist_ok=True)
    for name in ("pub/a", "secret"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name + "\n")
    e = {"d": d, "root": system.cgroup2_root()}
    for name in ("att", "wide", "nopol", "free"):
        e[name] = os.path.join(base, name)
        shutil.copy(probe_bin, e[name])
    e["mgr"] = os.path.join(base, "manager")
    shutil.copy("/bin/true", e["mgr"])
    root_procs = os.path.join(e["root"], "cgroup.procs")
    policies = {
        "att": f"""Policy: {e['att']}, Emulation: native
\tnative-fsread: filename match "{d}/pub/*" then permit
\tnative-fsread: filename match "/proc/*" then permit
\tnative-fsread: filename eq "{e['mgr']}" then permit
\tnative-fswrite: filename eq "{root_procs}" then permit
\tnative-execve: filename eq "{e['nopol']}" then permit
\tnative-prctl: permit
\tnative-setrlimit: permit
""",
        "wide": f"""Policy: {e['wide']}, Emulation: native
\tnative-fsread: permit
""",
        "free": f"""Policy: {e['free']}, Emulation: native
\tdetached
""",
    }
    for name, text in policies.items():
        with open(os.path.join(pol, name + ".policy"), "w") as f:
            f.write(text)
    e["cg"] = make_cgroup_module(CGROUP)
    attach = cli("attach", "--cgroup", CGROUP, "--policy", pol, "--manager", e["mgr"], check=0)
    e["attach"] = attach
    return e


def secret(env):
    return f"open:{env['d']}/secret:r"


def run(env, *acts, **kw):
    proc = env["cg"].run([env["att"], *acts], **kw)
    assert proc.returncode == 0, proc.stderr
    return probe_results(proc)


def test_control(env):
    pub = f"open:{env['d']}/pub/a:r"
    assert run(env, pub, secret(env), "cgroup:-") == {
        pub: "OK",
        secret(env): "EPERM",
        "cgroup:-": "/" + CGROUP,
    }


def test_moving_itself_out_of_the_cgroup_ends_nothing(env):
    procs = os.path.join(env["root"], "cgroup.procs")
    got = run(env, f"cgmove:{procs}", "cgroup:-", secret(env), "fork:-", secret(env))
    # it left the cgroup (the policy let it write there) and is still confined;
    # so are its children, born in the root cgroup
    assert got == {f"cgmove:{procs}": "OK", "cgroup:-": "/", secret(env): "EPERM"}, got


def test_clone3_into_another_cgroup_is_denied(env):
    """clone3(CLONE_INTO_CGROUP) would put the child outside the service's
    cgroup (its stop, pids.max, memory.max): denied, counted; the caller
    stays where it was, confined. Into a cgroup below the target too: the
    hook cannot tell where the child would go."""
    before = counters().get("clones into a cgroup denied", 0)
    sub = env["cg"].child("sub")
    for where in (env["root"], sub.path):
        got = run(env, f"clone3cg:{where}", "cgroup:-", secret(env))
        assert got == {f"clone3cg:{where}": "EPERM", "cgroup:-": "/" + CGROUP, secret(env): "EPERM"}, got
    assert counters().get("clones into a cgroup denied", 0) == before + 2
    # an unconfined process may (the hook decides confined tasks only)
    proc = subprocess.run([env["att"], f"clone3cg:{sub.path}", "cgroup:-"], capture_output=True, text=True)
    assert probe_results(proc) == {"cgroup:-": "/" + CGROUP + "/sub"}, proc.stdout


def test_moved_out_by_another_process_stays_confined(env):
    p = subprocess.Popen(
        [env["att"], secret(env), "wait:-", "cgroup:-", secret(env)],
        preexec_fn=env["cg"].join(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout.readline() == secret(env) + " EPERM\n"
    # an unconfined process (the test) moves it to the root cgroup
    with open(os.path.join(env["root"], "cgroup.procs"), "w") as f:
        f.write(str(p.pid))
    out, err = p.communicate("go\n", timeout=60)
    assert p.returncode == 0, err
    assert out.splitlines() == ["wait:- OK", "cgroup:- /", secret(env) + " EPERM"], out


def test_an_exe_swap_to_the_service_manager_exempts_nothing(env):
    """PR_SET_MM_EXE_FILE makes the mm claim the manager's binary: the policy
    and the exemption are decided by what the task exec'd."""
    got = run(env, f"exeswap:{env['mgr']}", secret(env), f"open:{env['d']}/pub/a:r")
    assert got == {f"exeswap:{env['mgr']}": "OK", secret(env): "EPERM", f"open:{env['d']}/pub/a:r": "OK"}, got
    # the swap really happened: an unconfined reader sees the manager's binary
    p = subprocess.Popen(
        [env["att"], f"exeswap:{env['mgr']}", "wait:-"],
        preexec_fn=env["cg"].join(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout.readline() == f"exeswap:{env['mgr']} OK\n"
    assert os.readlink(f"/proc/{p.pid}/exe") == env["mgr"]
    p.communicate("go\n", timeout=60)


def test_the_callers_rules_decide_an_exec_into_a_more_permissive_policy(env):
    # att has no execve rule for wide nor for free (a detached policy)
    for target in ("wide", "free"):
        got = run(env, f"chain:{env[target]}", secret(env))
        assert got == {f"chain:{env[target]}": "EPERM", secret(env): "EPERM"}, (target, got)


def test_a_program_under_the_default_policy_cannot_enter_another(env):
    # att -> nopol (att's rule permits it; nopol runs under the default policy,
    # which permits no exec) -> wide: refused
    got = run(env, f"chain:{env['nopol']}", f"chain:{env['wide']}", secret(env))
    assert got == {f"chain:{env['wide']}": "EPERM", secret(env): "EPERM"}, got


def test_the_entry_exec_from_outside_enters_a_policy(env):
    """The test's forked child joined the cgroup running python (no policy):
    its exec of a program that has a policy is how that program enters it."""
    proc = env["cg"].run([env["wide"], secret(env)])
    assert probe_results(proc) == {secret(env): "OK"}, proc.stderr
    # but not of a program without one: the default policy decides that exec
    with pytest.raises(PermissionError):
        env["cg"].run([env["nopol"], secret(env)])


def test_status_counts_the_entries(env):
    out = cli("status", check=0).stdout
    assert "execs entering a policy" in out, out


def _waiting(env, cg, *after):
    """att in cg: open the secret, wait for the go-ahead, then `after`."""
    p = subprocess.Popen(
        [env["att"], secret(env), "wait:-", *after],
        preexec_fn=cg.join(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return p, p.stdout.readline()


def test_an_outsider_seen_outside_is_confined_once_moved_in(env, make_cgroup_module):
    """The kernel remembers a task it found outside every target (its cgroup
    and the attach epoch): moving it into a target must end that."""
    outside = make_cgroup_module("bst-subject-out.slice")
    p, first = _waiting(env, outside, secret(env))
    assert first == secret(env) + " OK\n"  # outside: not decided
    with open(os.path.join(env["cg"].path, "cgroup.procs"), "w") as f:
        f.write(str(p.pid))
    out, err = p.communicate("go\n", timeout=60)
    assert out.splitlines() == ["wait:- OK", secret(env) + " EPERM"], (out, err)


def test_a_running_process_is_confined_once_its_cgroup_is_attached(env, make_cgroup_module):
    later = make_cgroup_module("bst-subject-later.slice")
    child = later.child("leaf")
    p, first = _waiting(env, child, secret(env), "fork:-", secret(env))
    assert first == secret(env) + " OK\n"
    cli(
        "attach",
        "--cgroup",
        "bst-subject-later.slice",
        "--policy",
        os.path.join(os.path.dirname(env["att"]), "policies"),
        check=0,
    )
    try:
        out, err = p.communicate("go\n", timeout=60)
        assert out.splitlines() == ["wait:- OK", secret(env) + " EPERM", secret(env) + " EPERM"], (out, err)
    finally:
        cli("detach", "--cgroup", "bst-subject-later.slice", check=0)


def test_detach_ends_it(env):
    p = subprocess.Popen(
        [env["att"], "wait:-", secret(env)],
        preexec_fn=env["cg"].join(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    with open(os.path.join(env["root"], "cgroup.procs"), "w") as f:
        f.write(str(p.pid))
    cli("detach", "--cgroup", CGROUP, check=0)
    out, _ = p.communicate("go\n", timeout=60)
    assert out.splitlines() == ["wait:- OK", secret(env) + " OK"], out
