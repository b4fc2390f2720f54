"""bpfsystrace benchmark: cost of enforcement, as ratios measured side by side in one run.

Run by bench/run (inside the micro-VM when the host cannot load BPF-LSM
programs). `bench/run --quick` measures only what a TCG guest does in
minutes: no program, outside the cgroup, confined with 10 and 1,000 rules,
Landlock and AppArmor (no 10,000-rule policy, reload or large policies). Every configuration runs the same static loop program
(bench/loop.c) on a tmpfs file; each figure is the median of REPS runs of N
iterations, and every ratio is against the "no program loaded" figure of the
same run.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bpfsystrace import attachments
from bpfsystrace.compile import pipeline, records
from bpfsystrace.errors import PolicyError
from bpfsystrace.kernel import loader, system

N = int(os.environ.get("BPFSYSTRACE_BENCH_N", "10000"))
REPS = int(os.environ.get("BPFSYSTRACE_BENCH_REPS", "5"))
HERE = os.path.dirname(os.path.abspath(__file__))


def build(work):
    exe = os.path.join(work, "loop")
    subprocess.run(["gcc", "-static", "-O2", "-o", exe, os.path.join(HERE, "loop.c")], check=True)
    return exe


def policy(work, exe, data, n_rules):
    """n_rules fsread rules (eq and match mixed) with the benchmark file matching the last."""
    path = os.path.join(work, f"policy-{n_rules}")
    with open(path, "w") as f:
        f.write(f"Policy: {exe}, Emulation: native\n")
        for i in range(n_rules - 1):
            if i % 10 == 9:
                f.write(f'\tnative-fsread: filename match "/srv/data{i}/*.conf" then permit\n')
            else:
                f.write(f'\tnative-fsread: filename eq "/srv/data/file{i:05d}" then permit\n')
        f.write(f'\tnative-fsread: filename inpath "{data}" then permit\n')
        # socket(2) is decided too (since ABI 3): the bind and connect loops pay for it
        f.write('\tnative-socket: sockdom eq "AF_INET" and socktype eq "SOCK_STREAM" then permit\n')
        f.write('\tnative-bind: sockaddr eq "inet-[127.0.0.1]:0" then permit\n')
        f.write('\tnative-connect: sockaddr sub "inet-[127.0.0.1]:" then permit\n')
    return path


def reload_one_changed(work, exe, data, cgroup) -> float:
    """Seconds to reload the N-rule policy with one rule changed (an attach of
    the same cgroup: compile, write the new generation, swap)."""
    path = policy(work, exe, data, 10000)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("/srv/data/file00000", "/srv/data/changed00000"))
    t = time.monotonic()
    attachments.attach(os.path.basename(cgroup), [path])
    return time.monotonic() - t


def large_policies(exe, data):
    """The two large policies of the engine issue: 2,000 globs among 10,000
    rules, and 50,000 eq rules (each ends by permitting the benchmark's data
    directory, so that the open loop runs confined by it)."""
    globs = [f"Policy: {exe}, Emulation: native\n"]
    for i in range(10000):
        if i % 5 == 0:
            globs.append(f'\tnative-fsread: filename match "/srv/glob{i % 200}/*/x{i}*.conf" then permit\n')
        else:
            globs.append(f'\tnative-fsread: filename eq "/srv/data/file{i:05d}" then permit\n')
    eqs = [f"Policy: {exe}, Emulation: native\n"]
    eqs += [
        f'\tnative-fsread: filename eq "/srv/data/d{i % 97}/file{i:05d}" then permit\n' for i in range(50000)
    ]
    last = f'\tnative-fsread: filename inpath "{data}" then permit\n'
    return [("2000 globs in 10000 rules", "".join(globs) + last), ("50000 eq rules", "".join(eqs) + last)]


def large_policy_line(work, name, text, cgroup) -> tuple[str, bool]:
    """Compile, attach to `cgroup` and reload with one rule changed: the
    line to print, and whether the policy is attached."""
    path = os.path.join(work, "large.policy")
    with open(path, "w") as f:
        f.write(text)
    t = time.monotonic()
    try:
        (p,), _ = pipeline.load_policies([path])
        recs = records.compile_policies([p])
    except PolicyError as e:
        msg = str(e).splitlines()[0].split("error: ", 1)[-1]
        return f"{name}: refused after {time.monotonic() - t:.1f} s: {msg}", False
    compiled = time.monotonic() - t
    t = time.monotonic()
    attachments.attach(os.path.basename(cgroup), [path])
    attached = time.monotonic() - t
    with open(path, "w") as f:
        f.write(text.replace("file00001", "changed00001", 1))
    t = time.monotonic()
    attachments.attach(os.path.basename(cgroup), [path])
    reloaded = time.monotonic() - t
    parts = max(len(v) for v in recs.parts.values())
    return (
        f"{name}: parse+compile {compiled:.3f} s, attach {attached:.3f} s, reload with one rule "
        f"changed {reloaded:.3f} s; {recs.nstates} states in up to {parts} automata per operation, "
        f"{recs.kernel_bytes()} bytes"
    ), True


def apparmor_profile(work, exe, data):
    """A copy of the loop confined by an AppArmor profile of the same intent
    (read files below data/, inet stream sockets), if AppArmor is active."""
    if not (os.path.exists("/sys/kernel/security/apparmor/policy") and shutil.which("apparmor_parser")):
        print("  AppArmor is not active here: no AppArmor column", file=sys.stderr)
        return None
    exe_aa = exe + "-apparmor"
    shutil.copy(exe, exe_aa)
    prof = os.path.join(work, "apparmor.profile")
    with open(prof, "w") as f:
        f.write(f"abi <abi/3.0>,\nprofile bstbench {exe_aa} {{\n  {data}/** r,\n  network inet stream,\n}}\n")
    subprocess.run(["apparmor_parser", "-r", prof], check=True)
    return exe_aa


def run(argv, cgroup=None, env=None):
    def join():
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    if env and "BENCH_EXE" in env:
        argv = [env["BENCH_EXE"], *argv[1:]]
    p = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=join if cgroup else None,
        env={**os.environ, **(env or {})},
    )
    return [float(p.stdout)]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    unknown = [a for a in argv if a != "--quick"]
    if unknown:
        print(f"bench: unknown argument {unknown[0]!r} (usage: bench/run [--quick])", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="bst-bench-", dir="/dev/shm")
    data = os.path.join(work, "data")
    os.makedirs(data)
    target = os.path.join(data, "file")
    long_target = os.path.join(data, "f" * (60 - len(data) - 1))  # a 60-character path
    for path in (target, long_target):
        with open(path, "w") as f:
            f.write("x")
    exe = build(work)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = str(listener.getsockname()[1])

    def accept_forever():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=accept_forever, daemon=True).start()
    if loader.is_loaded():
        attachments.detach(everything=True)

    ops = {
        "open+close": ["open", target],
        "open60+close": ["open", long_target],
        "bind+close": ["bind"],
        "connect+close": ["connect", port],
    }
    samples: dict[str, dict[str, list[float]]] = {op: {} for op in ops}
    compile_s, attach_s, memory = {}, {}, {}

    def phase(configs):
        """Round-robin: every configuration once per round, so drift hits all alike.
        Round 0 is a discarded warm-up (under TCG the first run of new kernel code
        paths pays for their translation)."""
        for rnd in range(REPS + 1):
            for name, cgroup, env, only in configs:
                for op, args in ops.items():
                    if only and op not in only:
                        continue
                    n = N // 4 if op == "connect+close" else N  # clear of port reuse limits
                    got = run([exe, *args, str(n)], cgroup, env)
                    if rnd:
                        samples[op].setdefault(name, []).extend(got)
        print(f"  measured: {', '.join(c[0] for c in configs)}", file=sys.stderr, flush=True)

    open_only = ["open+close", "open60+close"]
    configs_a = [("no program", None, None, None), ("Landlock", None, {"LANDLOCK": data}, open_only)]
    exe_aa = apparmor_profile(work, exe, data)
    if exe_aa:
        configs_a.append(("AppArmor", None, {"BENCH_EXE": exe_aa}, None))
    phase(configs_a)
    cgroups = {}
    sizes = (10, 1000) if quick else (10, 1000, 10000)
    for n in sizes:
        pol = policy(work, exe, data, n)
        (p,), _ = pipeline.load_policies([pol])
        t = time.monotonic()
        memory[n] = records.compile_policies([p]).kernel_bytes()
        compile_s[n] = time.monotonic() - t
        cgroups[n] = os.path.join(system.cgroup2_root(), f"bench{n}.slice")
        os.makedirs(cgroups[n], exist_ok=True)
        t = time.monotonic()
        attachments.attach(f"bench{n}.slice", [pol])
        attach_s[n] = time.monotonic() - t
        print(f"  attached {n} rules", file=sys.stderr, flush=True)
    phase(
        [
            ("outside the cgroup", None, None, None),
            ("confined, 10 rules", cgroups[10], None, None),
            ("confined, 1000 rules", cgroups[1000], None, open_only),
        ]
        + ([] if quick else [("confined, 10000 rules", cgroups[10000], None, open_only)])
    )
    reload_s = None if quick else reload_one_changed(work, exe, data, cgroups[10000])
    attachments.detach(everything=True)
    cgroups["large"] = os.path.join(system.cgroup2_root(), "benchlarge.slice")
    os.makedirs(cgroups["large"], exist_ok=True)
    large, large_cols = [], []
    for name, text in [] if quick else large_policies(exe, data):
        line, attached = large_policy_line(work, name, text, cgroups["large"])
        print(f"  {line}", file=sys.stderr, flush=True)
        large.append(line)
        if attached:
            large_cols.append(f"confined, {name}")
            phase([(large_cols[-1], cgroups["large"], None, open_only)])
            attachments.detach(everything=True)
    phase([("no program (again)", None, None, None)])
    res = {op: {name: statistics.median(v) for name, v in d.items()} for op, d in samples.items()}

    base = {op: (v["no program"] + v["no program (again)"]) / 2 for op, v in res.items()}
    print(
        f"\nbpfsystrace benchmark: median of {REPS} interleaved runs x {N} iterations each; "
        f"ratio to no program loaded (kernel {os.uname().release})\n"
    )
    cols = [
        "no program",
        "outside the cgroup",
        "confined, 10 rules",
        "confined, 1000 rules",
        "confined, 10000 rules",
        "Landlock",
        "AppArmor",
        "no program (again)",
    ] + large_cols
    print(
        f"{'':24}"
        + "".join(f"{op:>22}" for op in ops)
        + f"   ({len(target)}/{len(long_target)}-character paths)"
    )
    for c in cols:
        cells = []
        for op in ops:
            v = res[op].get(c)
            cells.append(f"{v / base[op]:>10.3f} ({v:>6.0f} ns)" if v else f"{'n/a':>22}")
        print(f"{c:24}" + "".join(cells))
    r10 = res["open+close"]["confined, 10 rules"]
    if not quick:
        print(
            f"\n10000 rules / 10 rules (open+close): {res['open+close']['confined, 10000 rules'] / r10:.3f}"
        )
    for op in ("open+close", "open60+close"):
        r = res[op]
        for other in ("Landlock", "AppArmor"):
            if other in r:
                print(f"confined 1000 rules / {other} ({op}): {r['confined, 1000 rules'] / r[other]:.3f}")
    print("\nrules   compile (s)   attach = compile + load into maps (s)   kernel memory (bytes)")
    for n in compile_s:
        print(f"{n:>6} {compile_s[n]:>12.3f} {attach_s[n]:>14.3f} {memory[n]:>30}")
    if reload_s is not None:
        print(f"reload of the 10000-rule policy with one rule changed: {reload_s:.3f} s")
    for line in large:
        print(line)
    listener.close()
    for path in cgroups.values():
        os.rmdir(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
