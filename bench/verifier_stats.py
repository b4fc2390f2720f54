"""The verifier's cost of each program of the object, on the running kernel.

Run where BPF-LSM programs load (as root), e.g. in the VM:
    tests/vm/run-in-vm -- .venv/bin/python bench/verifier_stats.py
Loads the object once (attaching nothing) with log level 4 for each program
and prints the kernel's "verification time" and "processed insns", largest
first (docs/performance.md, "Verifier cost").
"""

from __future__ import annotations

import ctypes as C
import re
import sys
import time

from bpfsystrace.kernel import libbpf, loader


def main() -> int:
    b = libbpf.lib()
    b.bpf_program__set_log_level.argtypes = [C.c_void_p, C.c_uint32]
    b.bpf_program__set_log_buf.argtypes = [C.c_void_p, C.c_char_p, C.c_size_t]
    obj = b.bpf_object__open_file(loader.object_path().encode(), None)
    if not obj:
        print("cannot open the BPF object", file=sys.stderr)
        return 1
    left_out = loader.absent_programs() | set(loader.skipped_programs())
    logs = {}
    prog = b.bpf_object__next_program(obj, None)
    while prog:
        name = b.bpf_program__name(prog).decode()
        if name in left_out:
            b.bpf_program__set_autoload(prog, False)
        else:
            logs[name] = C.create_string_buffer(1 << 16)
            b.bpf_program__set_log_level(prog, 4)
            b.bpf_program__set_log_buf(prog, logs[name], len(logs[name]))
        prog = b.bpf_object__next_program(obj, prog)
    t = time.monotonic()
    ret = b.bpf_object__load(obj)
    elapsed = time.monotonic() - t
    b.bpf_object__close(obj)
    if ret < 0:
        print(f"the object did not load (error {-ret}): run bpfsystrace doctor", file=sys.stderr)
        return 1
    rows = []
    for name, buf in logs.items():
        text = buf.value.decode(errors="replace")
        us = re.search(r"verification time (\d+) usec", text)
        insns = re.search(r"processed (\d+) insns", text)
        rows.append((int(us.group(1)) if us else -1, int(insns.group(1)) if insns else -1, name))
    for us, insns, name in sorted(rows, reverse=True):
        print(f"{us / 1000:9.1f} ms {insns:9,d} insns  {name}")
    print(f"{len(rows)} programs: verification {sum(r[0] for r in rows) / 1e6:.1f} s, load {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
