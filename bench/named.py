"""Macro benchmark: queries per second of BIND9 with and without its policy attached.

Run by bench/named (inside the micro-VM when the host cannot load BPF-LSM
programs). One named (Debian's /usr/sbin/named, `-g -u bind`) serves a small
zone on 127.0.0.1:53 from a cgroup for the whole run; dnsperf (outside the
cgroup) sends A, AAAA, SOA and NXDOMAIN queries for SECONDS per round. Rounds
alternate between "no policy" (nothing attached, programs unloaded) and
"policy attached" (policies/usr_sbin_named on named's cgroup), after one
discarded warm-up round of each; the figures are medians, and the ratios are
attached / not attached in the same run: of the medians, and the median of
the per-round ratios (robust to load that drifts during the run).
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import statistics
import subprocess
import sys
import time

SECONDS = int(os.environ.get("BPFSYSTRACE_BENCH_SECONDS", "5"))
REPS = int(os.environ.get("BPFSYSTRACE_BENCH_REPS", "9"))
SETTLE = 2  # seconds after attach/detach before a round
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICY = os.path.join(ROOT, "policies", "usr_sbin_named")
BST = [sys.executable, "-m", "bpfsystrace"]
CGROUP = "bst-bench-named.slice"
ZONE = "bst-bench.example"
CONF = "/etc/bind/bst-bench-named.conf"
ZONE_FILE = "/etc/bind/db.bst-bench"


def bst(*args):
    p = subprocess.run([*BST, *args], capture_output=True, text=True, cwd=ROOT)
    if p.returncode:
        sys.exit(f"bpfsystrace {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def setup(work):
    bind = pwd.getpwnam("bind")
    os.makedirs("/run/named", exist_ok=True)
    os.chown("/run/named", 0, bind.pw_gid)
    os.chmod("/run/named", 0o775)
    with open(ZONE_FILE, "w") as f:
        f.write(
            f"$TTL 300\n@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. ( 1 3600 600 86400 300 )\n"
            f"@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n"
        )
        for i in range(100):
            f.write(f"www{i} IN A 192.0.2.{i + 1}\nwww{i} IN AAAA 2001:db8::{i + 1:x}\n")
    with open(CONF, "w") as f:
        f.write(
            f'options {{ directory "/var/cache/bind"; listen-on port 53 {{ 127.0.0.1; }};\n'
            f'  listen-on-v6 {{ none; }}; recursion no; dnssec-validation no; }};\n'
            f'zone "{ZONE}" {{ type master; file "{ZONE_FILE}"; }};\n'
        )
    queries = os.path.join(work, "queries")
    with open(queries, "w") as f:
        for i in range(100):
            f.write(f"www{i}.{ZONE} A\nwww{i}.{ZONE} AAAA\n{ZONE} SOA\nnothere{i}.{ZONE} A\n")
    return queries


def start_named(work, cgroup_dir):
    def join():
        with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    log = open(os.path.join(work, "named.log"), "w")
    proc = subprocess.Popen(
        ["/usr/sbin/named", "-g", "-u", "bind", "-c", CONF],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=join,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with open(log.name) as f:
            if re.search(r" running$", f.read(), re.M):
                return proc
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    with open(log.name) as f:
        sys.exit(f"named did not start:\n{f.read()}")


def dnsperf(queries) -> float:
    p = subprocess.run(
        ["dnsperf", "-s", "127.0.0.1", "-p", "53", "-d", queries, "-l", str(SECONDS), "-q", "20"],
        capture_output=True,
        text=True,
    )
    m = re.search(r"Queries per second:\s+([\d.]+)", p.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", p.stdout)
    if p.returncode or not m:
        sys.exit(f"dnsperf failed:\n{p.stdout}\n{p.stderr}")
    if lost and int(lost.group(1)):
        print(f"  dnsperf: {lost.group(1)} queries lost", file=sys.stderr)
    return float(m.group(1))


def main():
    import tempfile

    from bpfsystrace.kernel import loader, system

    if loader.is_loaded():
        sys.exit("bench: bpfsystrace is already loaded here; detach everything first")
    work = tempfile.mkdtemp(prefix="bst-bench-named-")
    queries = setup(work)
    cg = os.path.join(system.cgroup2_root(), CGROUP)
    os.makedirs(cg, exist_ok=True)
    named = start_named(work, cg)
    attached = False
    counts = ""
    results = {"no policy": [], "policy attached": []}
    try:
        print(
            f"named {named.pid} in {CGROUP}; dnsperf {SECONDS} s per round, {REPS} rounds (+1 warm-up)",
            file=sys.stderr,
        )
        for r in range(REPS + 1):
            order = ["no policy", "policy attached"]
            if r % 2:
                order.reverse()
            for cfg in order:
                want = cfg == "policy attached"
                if want and not attached:
                    bst("attach", "--cgroup", CGROUP, "--policy", POLICY)
                elif attached and not want:
                    bst("detach", "--cgroup", CGROUP)
                attached = want
                time.sleep(SETTLE)
                qps = dnsperf(queries)
                print(
                    f"  round {r}{' (warm-up)' if r == 0 else ''}: {cfg:<16} {qps:10.1f} qps", file=sys.stderr
                )
                if r:
                    results[cfg].append(qps)
                if want:
                    counts = bst("status", "--rules")
    finally:
        named.send_signal(signal.SIGTERM)
        named.wait(120)
        if loader.is_loaded():
            bst("detach", "--all")
        os.rmdir(cg)
        for path in (CONF, ZONE_FILE):
            os.unlink(path)
    base = statistics.median(results["no policy"])
    conf = statistics.median(results["policy attached"])
    print(f"\nnamed, dnsperf UDP on 127.0.0.1, {SECONDS} s x {REPS} rounds, medians:")
    print(f"  no policy          {base:10.1f} qps")
    print(f"  policy attached    {conf:10.1f} qps")
    paired = [a / b for a, b in zip(results["policy attached"], results["no policy"], strict=True)]
    print(f"  ratio of the medians, attached / no policy: {conf / base:.3f}")
    print(
        f"  median of the per-round ratios (the two runs of one round are adjacent in time,"
        f" so they share the host's load): {statistics.median(paired):.3f}"
    )
    print(f"  all rounds: no policy {results['no policy']}, attached {results['policy attached']}")
    print("\ndecisions under the policy (since named was confined, by rule):")
    print(counts)


if __name__ == "__main__":
    main()
