"""A wheel (make wheel) installed in a fresh venv outside the checkout attaches and enforces,
with the BPF object it carries: no checkout, no BPFSYSTRACE_BPF_OBJECT.

The venv uses Debian's python3 with --system-site-packages, so its dependencies are Debian's
python3-ply, python3-prometheus-client and python3-pyroute2 (the VM has no network)."""

import glob
import os
import subprocess

from tests.conftest import ROOT
from tests.kernel.conftest import probe_results

POLICY = """\
Policy: {probe}, Emulation: native
	native-fsread: filename eq "{d}/allowed" then permit
	native-mmap: permit
"""


def test_a_wheel_in_a_fresh_venv_attaches_with_its_own_object(workdir, probe_bin, make_cgroup_module):
    wheels = sorted(glob.glob(os.path.join(ROOT, "dist", "bpfsystrace-*.whl")))
    assert wheels, "no dist/bpfsystrace-*.whl: run 'make wheel' first (scripts/test does)"
    venv = os.path.join(workdir, "wheel-venv")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}

    def run(*cmd, rc=0):
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=env, timeout=600)
        assert proc.returncode == rc, f"{cmd}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return proc

    run("/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip", venv)
    run(
        f"{venv}/bin/python",
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--disable-pip-version-check",
        wheels[-1],
    )
    bst = f"{venv}/bin/bpfsystrace"
    where = run(f"{venv}/bin/python", "-c", "import bpfsystrace; print(bpfsystrace.__file__)")
    assert where.stdout.startswith(venv + "/"), where.stdout  # not the checkout
    assert " (kernel ABI " in run(bst, "--version").stdout
    obj = f"{venv}/lib/python3.11/site-packages/bpfsystrace/data/bpfsystrace.bpf.o"
    assert f"ok    BPF object           {obj}" in run(bst, "doctor").stdout

    d = os.path.join(workdir, "wheel-files")
    os.makedirs(d, exist_ok=True)
    for name in ("allowed", "other"):
        with open(os.path.join(d, name), "w") as f:
            f.write(name)
    policy = os.path.join(workdir, "wheel.policy")
    with open(policy, "w") as f:
        f.write(POLICY.format(probe=probe_bin, d=d))
    cg = make_cgroup_module("bst-wheel.slice")
    attach = run(bst, "attach", "--cgroup", "bst-wheel.slice", "--policy", policy)
    assert "enforcing on" in attach.stderr
    got = probe_results(cg.run([probe_bin, f"open:{d}/allowed:r", f"open:{d}/other:r"]))
    assert got == {f"open:{d}/allowed:r": "OK", f"open:{d}/other:r": "EPERM"}, got
    run(bst, "detach", "--cgroup", "bst-wheel.slice")
