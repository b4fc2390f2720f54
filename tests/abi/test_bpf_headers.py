"""bpf/: every header stands on its own, and no source file grows past 500 lines.

bpfsystrace.bpf.c is one translation unit that includes the headers in order;
each header includes what it uses, so it also compiles alone after vmlinux.h
and libbpf's headers (as clang -target bpf with the flags of bpf/Makefile; a
syntax check: warnings such as an unused static function are allowed). Each
header is included twice, so a missing include guard fails too.
"""

import glob
import os
import platform
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BPF = os.path.join(ROOT, "bpf")
OUTPUT = os.path.join(BPF, ".output")
MAX_LINES = 500

PRELUDE = (
    '#include "vmlinux.h"\n'
    "#include <bpf/bpf_helpers.h>\n"
    "#include <bpf/bpf_tracing.h>\n"
    "#include <bpf/bpf_core_read.h>\n"
    "#include <bpf/bpf_endian.h>\n"
)

HEADERS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(BPF, "*.bpf.h")))


def target_arch():
    """bpf/Makefile's ARCH: uname -m with x86_64 -> x86, aarch64 -> arm64."""
    machine = platform.machine()
    return {"x86_64": "x86", "aarch64": "arm64"}.get(machine, machine)


def test_there_are_headers():
    assert "maps.bpf.h" in HEADERS and "hook.bpf.h" in HEADERS, HEADERS


@pytest.mark.parametrize("header", HEADERS)
def test_header_compiles_on_its_own(header):
    clang = shutil.which(os.environ.get("CLANG", "clang"))
    if not clang:
        pytest.skip("clang is not installed (bpf/Makefile needs it too)")
    if not os.path.exists(os.path.join(OUTPUT, "vmlinux.h")):
        pytest.skip("bpf/.output/vmlinux.h is missing: run 'make -C bpf' first")
    snippet = PRELUDE + f'#include "{header}"\n#include "{header}"\n'
    flags = ["-target", "bpf", "-O2", "-g", "-Wall", f"-D__TARGET_ARCH_{target_arch()}", "-fsyntax-only"]
    proc = subprocess.run(
        [clang, *flags, "-I", OUTPUT, "-I", BPF, "-x", "c", "-"],
        input=snippet,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{header} does not compile on its own:\n{proc.stderr}"


def test_no_bpf_source_file_is_over_500_lines():
    sources = glob.glob(os.path.join(BPF, "*.c")) + glob.glob(os.path.join(BPF, "*.h"))
    assert sources
    long = {}
    for path in sources:
        with open(path) as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            long[os.path.basename(path)] = n
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_every_lsm_program_returns_through_the_clamp():
    """Linux 6.12+ verifies that an LSM program returns a value in
    [-MAX_ERRNO, 0]: every program is declared with BST_LSM (errno.bpf.h),
    whose wrapper clamps what the body returns, never with plain BPF_PROG."""
    progs = bare = 0
    for name in sorted(os.listdir(BPF)):
        if not name.endswith((".h", ".c")):
            continue
        with open(os.path.join(BPF, name)) as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith('SEC("lsm'):
                progs += 1
                decl = lines[i + 1]
                assert decl.startswith("int BST_LSM("), f"{name}:{i + 2}: {decl}"
            if "BPF_PROG(" in line and not line.lstrip().startswith(("*", "/*", '"')):
                bare += 1
    assert progs >= 40 and bare == 0, (progs, bare)
