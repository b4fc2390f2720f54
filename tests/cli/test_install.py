"""Installation: --version, doctor on a missing BPF object, the wheel's object,
the generated man pages and completion, and the Debian packaging's invariants.
(The installed deb and wheel enforcing is tested in the VM: tests/kernel/test_wheel.py,
tests/kernel/systemd/.)"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

from bpfsystrace import abi
from bpfsystrace.cli import build_parser
from tests.conftest import ROOT

VERSION = tomllib.load(open(os.path.join(ROOT, "pyproject.toml"), "rb"))["project"]["version"]


def test_version_prints_the_version_and_the_kernel_abi(run_cli):
    proc = run_cli("--version", check=0)
    assert proc.stdout.strip() == f"bpfsystrace {VERSION} (kernel ABI {abi.BST_ABI_VERSION})"


def test_doctor_tells_a_missing_object_from_a_kernel_that_refuses(run_cli, tmp_path):
    missing = tmp_path / "none.bpf.o"
    proc = run_cli("doctor", check=3, env={"BPFSYSTRACE_BPF_OBJECT": str(missing)})
    assert re.search(rf"^FAIL  BPF object .*not at BPFSYSTRACE_BPF_OBJECT={missing}", proc.stdout, re.M), (
        proc.stdout
    )
    assert "fix: reinstall bpfsystrace" in proc.stdout
    # the kernel is not blamed, nor asked
    assert "load LSM programs" not in proc.stdout and "lsm=" not in proc.stdout.split("BPF object")[1]
    assert proc.stdout.rstrip().endswith(
        "this installation of bpfsystrace lacks its BPF object (the kernel was not tested)"
    )


def test_the_wheel_carries_the_bpf_object(tmp_path):
    """Built as `make wheel` does (Debian's python3 -m build, no network)."""
    proc = subprocess.run(
        ["/usr/bin/python3", "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), ROOT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob(f"bpfsystrace-{VERSION}-*.whl")
    with zipfile.ZipFile(wheel) as z:
        data = z.read("bpfsystrace/data/bpfsystrace.bpf.o")
    assert data == open(os.path.join(ROOT, "bpf", ".output", "bpfsystrace.bpf.o"), "rb").read()


def _subparsers():
    import argparse

    for a in build_parser()._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices
    raise AssertionError("no subcommands")


def test_man_pages_and_completion_follow_the_argparse_definitions(tmp_path):
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "manpages"), str(tmp_path)], check=True)
    subs = _subparsers()
    main = (tmp_path / "bpfsystrace.8").read_text()
    completion = (tmp_path / "completions" / "bpfsystrace").read_text()
    for name, sp in subs.items():
        page = (tmp_path / f"bpfsystrace-{name}.8").read_text()
        assert f"bpfsystrace\\-{name}" in main
        assert re.search(rf"compgen -W '[^']*\b{name}\b", completion)
        for action in sp._actions:
            for opt in action.option_strings:
                roffed = opt.replace("-", "\\-")
                assert f"\\fB{roffed}" in page or f", {roffed}" in page, (name, opt)
                assert opt in completion
        if sp.epilog:
            assert ".SH EXAMPLES" in page
    assert "\\-\\-version" in main
    man = shutil.which("man")
    assert man, "man (Debian package man-db) is needed to check the pages"
    for page in tmp_path.glob("*.8"):
        proc = subprocess.run(
            [man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
            capture_output=True,
            text=True,
            env={**os.environ, "MANWIDTH": "80"},
        )
        assert proc.returncode == 0 and not proc.stderr.strip(), (page.name, proc.stderr)
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f". {tmp_path}/completions/bpfsystrace && "
            "COMP_WORDS=(bpfsystrace att); COMP_CWORD=1; _bpfsystrace && "
            "echo ${COMPREPLY[@]}",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.stdout.split() == ["attach"], proc.stdout + proc.stderr


def test_debian_packaging_agrees_with_the_project():
    import bpfsystrace

    assert bpfsystrace.__version__ == VERSION  # pyproject.toml and the package agree
    changelog = open(os.path.join(ROOT, "debian", "changelog")).readline()
    assert changelog.startswith(f"bpfsystrace ({VERSION})"), changelog
    unit = open(os.path.join(ROOT, "systemd", "bpfsystrace.service")).read()
    assert "/usr/local" not in unit and "ExecStart=/usr/bin/bpfsystrace daemon" in unit
    install = open(os.path.join(ROOT, "debian", "install")).read()
    for line in (
        "systemd/bpfsystrace.service lib/systemd/system/",
        "systemd/bpfsystrace.conf etc/bpfsystrace/",
        "policies/* etc/bpfsystrace/policies/",
    ):
        assert line in install
    control = open(os.path.join(ROOT, "debian", "control")).read()
    depends = control.split("Package: bpfsystrace")[1].split("Suggests:")[0]
    for pkg in ("python3-ply", "python3-prometheus-client", "python3-pyroute2", "libbpf1"):
        assert pkg in depends
    rules = open(os.path.join(ROOT, "debian", "rules")).read()
    assert "dh_installsystemd --no-enable --no-start" in rules  # installing enforces nothing
