"""execve permit[inherit] and permit[detach], in a real kernel.

systrace runs the program an execve starts under that program's own policy;
`permit[inherit]` keeps the caller's policy instead and `permit[detach]` stops
confining it. Here: copies of bst_probe with their own inodes (A, B, C, X),
one attach for the module, each case one confined process (and its exec
chain) whose answers say which policy decided.
"""

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import cli
from tests.kernel.conftest import counters, new_log, probe_results

CGROUP = "bst-bind.slice"


@pytest.fixture(scope="module")
def env(workdir, probe_bin, make_cgroup_module):
    base = os.path.join(workdir, "bind")
    d = os.path.join(base, "files")
    pol = os.path.join(base, "policies")
    os.makedirs(d, exist_ok=True)
    os.makedirs(pol, exist_ok=True)
    for name in ("a-only", "b-only", "common", "other"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name + "\n")
    junk = os.path.join(d, "junk")  # executable, but no binary format takes it
    with open(junk, "w") as f:
        f.write("\x01\x02 not a program\n")
    os.chmod(junk, 0o755)
    e = {"d": d, "junk": junk}
    for name in ("A", "B", "C", "X"):
        e[name] = os.path.join(base, "probe_" + name.lower())
        shutil.copy(probe_bin, e[name])
    # same inodes, other names: A permits Blink plainly, names Clink and Bnone nowhere
    e["Blink"], e["Clink"], e["Bnone"] = e["B"] + "-link", e["C"] + "-link", e["B"] + "-none"
    os.link(e["B"], e["Blink"])
    os.link(e["C"], e["Clink"])
    os.link(e["B"], e["Bnone"])
    e["cat"] = os.path.join(base, "cat")
    shutil.copy("/bin/cat", e["cat"])
    e["catlink"] = e["cat"] + "-link"
    os.link(e["cat"], e["catlink"])
    policies = {
        "A": f"""Policy: {e['A']}, Emulation: native
\tnative-fsread: filename eq "{d}/a-only" then permit
\tnative-fsread: filename eq "{d}/common" then permit
\tnative-fsread: filename match "/usr/lib/*" then permit
\tnative-fsread: filename eq "/etc/ld.so.cache" then permit
\tnative-execve: filename eq "{e['B']}" then permit[inherit]
\tnative-execve: filename eq "{e['C']}" then permit[inherit]
\tnative-execve: filename eq "{e['Blink']}" then permit
\tnative-execve: filename eq "{e['cat']}" then permit[inherit]
\tnative-execve: filename eq "{e['X']}" then permit[detach]
\tnative-execve: filename eq "{junk}" then permit[detach]
""",
        "B": f"""Policy: {e['B']}, Emulation: native
\tnative-fsread: filename eq "{d}/b-only" then permit
\tnative-fsread: filename eq "{d}/common" then permit
""",
        # cat's own policy cannot even load cat (no ld.so, no libc)
        "cat": f"""Policy: {e['cat']}, Emulation: native
\tnative-fsread: filename eq "{d}/common" then permit
""",
    }
    for name, text in policies.items():
        with open(os.path.join(pol, name + ".policy"), "w") as f:
            f.write(text)
    e["policies"] = pol
    e["cg"] = make_cgroup_module(CGROUP)
    e["check"] = cli("check", pol, check=0)
    cli("attach", "--cgroup", CGROUP, "--policy", pol, check=0)
    return e


def run(env, *acts):
    proc = env["cg"].run([env["A"], *acts])
    assert proc.returncode == 0, proc.stderr
    return proc


def opens(env, *names):
    return [f"open:{env['d']}/{n}:r" for n in names]


def answers(proc, env, *names):
    got = probe_results(proc)
    return [got.get(a) for a in opens(env, *names)]


def scraped(binding):
    """bpfsystrace_exec_bindings_total{binding=...} as a Prometheus scrape reads it."""
    from prometheus_client import CollectorRegistry, generate_latest

    from bpfsystrace.observe.metrics import KernelCollector

    reg = CollectorRegistry()
    reg.register(KernelCollector())
    text = generate_latest(reg).decode()
    m = re.search(rf'^bpfsystrace_exec_bindings_total\{{binding="{binding}"\}} (\S+)$', text, re.M)
    assert m, text
    return float(m.group(1))


def test_check_reports_the_bindings_as_enforced(env):
    out = env["check"].stdout + env["check"].stderr
    assert "inherit" not in out and "detach" not in out, out


def test_the_caller_runs_under_its_own_policy(env):
    got = run(env, *opens(env, "a-only", "b-only", "common"))
    assert answers(got, env, "a-only", "b-only", "common") == ["OK", "EPERM", "OK"]


def test_inherit_keeps_the_callers_policy_over_the_programs_own(env):
    before = counters()
    got = run(env, f"chain:{env['B']}", *opens(env, "a-only", "b-only", "common"))
    assert answers(got, env, "a-only", "b-only", "common") == ["OK", "EPERM", "OK"], got.stdout
    assert counters().get("execs inheriting a policy", 0) == before.get("execs inheriting a policy", 0) + 1
    # the same program by a name A plainly permits: a transition into B's own policy
    got = run(env, f"chain:{env['Blink']}", *opens(env, "a-only", "b-only", "common"))
    assert answers(got, env, "a-only", "b-only", "common") == ["EPERM", "OK", "OK"], got.stdout
    # by a name no rule of A gives, B's own policy does not let it in: the
    # caller's execve rules decide every exec (systrace)
    got = run(env, f"chain:{env['Bnone']}", *opens(env, "a-only"))
    assert probe_results(got) == {f"chain:{env['Bnone']}": "EPERM", opens(env, "a-only")[0]: "OK"}, got.stdout


def test_inherit_confines_a_program_without_policy_by_the_callers(env):
    new_log()  # drain
    got = run(env, f"chain:{env['C']}", *opens(env, "a-only", "b-only"))
    assert answers(got, env, "a-only", "b-only") == ["OK", "EPERM"], got.stdout
    # the denial is logged as the program's, decided by A's policy
    lines = [ln for ln in new_log().splitlines() if f"{env['d']}/b-only" in ln]
    assert len(lines) == 1, lines
    assert "prog: probe_c, " in lines[0] and f"policy: {env['A']}, " in lines[0], lines[0]
    # without the rule, the default policy (deny) refuses the exec itself
    got = run(env, f"chain:{env['Clink']}", *opens(env, "a-only"))
    assert probe_results(got) == {f"chain:{env['Clink']}": "EPERM", opens(env, "a-only")[0]: "OK"}


def test_forks_keep_the_binding(env):
    got = run(env, f"chain:{env['C']}", "fork:-", "fork:-", *opens(env, "a-only", "b-only"))
    assert answers(got, env, "a-only", "b-only") == ["OK", "EPERM"], got.stdout


def test_an_inherited_policy_decides_the_next_exec_and_a_plain_one_ends_it(env):
    # C (under A's policy) execs C again by A's inherit rule: still A's policy
    got = run(env, f"chain:{env['C']}", f"chain:{env['C']}", *opens(env, "a-only", "b-only"))
    assert answers(got, env, "a-only", "b-only") == ["OK", "EPERM"], got.stdout
    # C execs B by A's plain rule: a transition, B's own policy from then on
    got = run(env, f"chain:{env['C']}", f"chain:{env['Blink']}", *opens(env, "a-only", "b-only"))
    assert answers(got, env, "a-only", "b-only") == ["EPERM", "OK"], got.stdout


def test_the_interpreter_is_read_under_the_inherited_policy(env):
    # cat is dynamic: under inherit, ld.so and libc are read under A's policy
    # (which allows them), and so is the file
    ok = env["cg"].run([env["A"], f"chain:{env['cat']}", f"{env['d']}/a-only"])
    assert (ok.returncode, ok.stdout) == (0, "a-only\n"), (ok.stdout, ok.stderr)
    # under its own policy cat cannot even be loaded
    own = env["cg"].run([env["A"], f"chain:{env['catlink']}", f"{env['d']}/common"])
    assert own.stdout.strip() == f"chain:{env['catlink']} EPERM", (own.stdout, own.stderr)


def test_detach_leaves_confinement_for_good(env):
    before, before_scraped = counters(), scraped("detach")
    got = run(
        env,
        f"chain:{env['X']}",
        *opens(env, "a-only", "b-only", "other"),
        "bind4:127.0.0.1:5454",
        "fork:-",
        f"chain:{env['Clink']}",
        *opens(env, "common"),
        "exec:/bin/true",
    )
    res = probe_results(got)
    assert answers(got, env, "a-only", "b-only", "other", "common") == ["OK"] * 4, got.stdout
    assert res["bind4:127.0.0.1:5454"] == "OK"
    assert "exec:/bin/true" not in res  # the exec happened (it prints only on failure)
    assert counters().get("execs detached", 0) == before.get("execs detached", 0) + 1
    assert scraped("detach") == before_scraped + 1


def test_a_failed_exec_binds_nothing(env):
    # junk passes its open (permit[detach]) but no binary format takes it: the
    # caller stays confined, and its next exec is not detached either
    got = run(
        env, f"exec:{env['junk']}", *opens(env, "b-only"), f"chain:{env['Blink']}", *opens(env, "a-only")
    )
    res = probe_results(got)
    assert res[f"exec:{env['junk']}"] == "ENOEXEC", got.stdout
    assert answers(got, env, "b-only", "a-only") == ["EPERM", "EPERM"], got.stdout


def _bound_process(env):
    """C under A's policy, stopped at wait:- after its first answer."""
    p = subprocess.Popen(
        [env["A"], f"chain:{env['C']}", *opens(env, "a-only"), "wait:-", *opens(env, "common", "b-only")],
        preexec_fn=env["cg"].join(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = p.stdout.readline()
    assert first == opens(env, "a-only")[0] + " OK\n", first
    return p


def _finish(p):
    out, err = p.communicate("go\n", timeout=60)
    assert p.returncode == 0, err
    got = {}
    for line in out.splitlines():
        action, _, result = line.rpartition(" ")
        got[action] = result
    return got


def test_a_binding_outlives_a_reload(env):
    p = _bound_process(env)
    cli("reload", "--cgroup", CGROUP, check=0)
    got = _finish(p)
    assert [got[a] for a in opens(env, "common", "b-only")] == ["OK", "EPERM"], got


def test_a_new_attachment_ignores_bindings_made_under_an_old_one(env, make_cgroup_module):
    # another attachment keeps the programs (and the task storage) loaded
    make_cgroup_module("bst-bind-keep.slice")
    cli("attach", "--cgroup", "bst-bind-keep.slice", "--policy", env["policies"], check=0)
    p = _bound_process(env)
    cli("detach", "--cgroup", CGROUP, check=0)
    cli("attach", "--cgroup", CGROUP, "--policy", env["policies"], check=0)
    got = _finish(p)
    # C has no policy of its own: the new attachment's default (deny) decides
    assert [got[a] for a in opens(env, "common", "b-only")] == ["EPERM", "EPERM"], got
