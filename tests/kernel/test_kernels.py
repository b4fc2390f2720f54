"""The kernel matrix (issue 30): this boot runs the kernel it was asked for,
and every program of the object loads and attaches on it.

scripts/test runs the whole kernel suite on the default kernel and a batch
with this file on the newest kernel of each other series apt knows
(BPFSYSTRACE_VM_KERNEL); a program that loads on one kernel only is a bug.
"""

import json
import os
import subprocess

from bpfsystrace.kernel import libbpf, loader
from tests.conftest import ROOT, cli


def test_this_boot_runs_the_chosen_kernel():
    chosen = os.environ.get("BPFSYSTRACE_VM_KERNEL", "").removeprefix("linux-image-")
    if not chosen:
        listed = subprocess.run(
            [os.path.join(ROOT, "tests", "vm", "run-in-vm"), "--kernels"],
            capture_output=True,
            text=True,
            check=True,
        )
        chosen = listed.stdout.split()[0]
    assert os.uname().release == chosen


def object_programs() -> dict[str, int]:
    """name -> instructions of the program's own section in the object."""
    b = libbpf.lib()
    obj = b.bpf_object__open_file(loader.object_path().encode(), None)
    assert obj
    try:
        progs, prog = {}, b.bpf_object__next_program(obj, None)
        while prog:
            progs[b.bpf_program__name(prog).decode()] = b.bpf_program__insn_cnt(prog)
            prog = b.bpf_object__next_program(obj, prog)
        return progs
    finally:
        b.bpf_object__close(obj)


def test_every_program_loads_and_attaches():
    doctor = cli("doctor", check=0).stdout
    assert "ok    load LSM programs    the LSM programs load and attach" in doctor, doctor
    progs = object_programs()
    # the programs of hooks newer than this kernel (loader.NEWER_HOOK_PROGRAMS:
    # 6.1 takes their roads through hooks decided here) and nothing else are left out
    absent = loader.absent_programs()
    assert absent <= set(loader.NEWER_HOOK_PROGRAMS) and not loader.skipped_programs()
    if os.uname().release.startswith("6.12."):
        assert not absent, absent
    loaded_now = not loader.is_loaded()
    loader.open_kernel(load=True).close()
    try:
        pinned = sorted(os.listdir(loader.LINK_DIR))
        assert pinned == sorted(set(progs) - absent), set(progs) ^ set(pinned)
        progs = {n: c for n, c in progs.items() if n not in absent}
        # nothing the verifier proved dead: Linux 6.12 took task_kill's NULL
        # cred for a trusted pointer and cut the program to its first return
        shown = json.loads(
            subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
        )
        xlated = {p["name"]: p["bytes_xlated"] // 8 for p in shown if p.get("name") in progs}
        cut = {n: (xlated[n], progs[n]) for n in progs if xlated[n] < 0.8 * progs[n]}
        assert not cut, f"programs the verifier cut down (instructions kept, in the object): {cut}"
    finally:
        if loaded_now:
            loader.unload()
