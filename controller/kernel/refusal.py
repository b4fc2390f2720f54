"""What a failed load of the BPF object means, in words an administrator can act on.

The kernel answers a load with an errno and libbpf's log: a verifier
refusal (the kernel can load LSM programs and refused one of ours: our
bug), a kernel that will not load LSM programs at all, or a non-root user.
"""

from __future__ import annotations

import errno
import os
import re

from ..errors import KernelError, UnsupportedKernel, VerifierRefusal
from . import libbpf, lsm

UNSUPPORTED_HINT = (
    "run the kernel tests and the demo in the test VM instead "
    "(tests/vm/run-in-vm, or the README's demo command), or boot a kernel with "
    "'lsm=...,bpf' on its command line (see docs/install.md)"
)


def verifier_refusal(messages: list[str]) -> tuple[str, list[str]] | None:
    """The program the verifier refused and the last lines of its log, if
    libbpf's messages hold a verifier log (the kernel ran the verifier: it
    can load LSM programs, and one of ours is wrong for it)."""
    begin = end = None
    for i, line in enumerate(messages):
        if "-- BEGIN PROG LOAD LOG --" in line:
            begin, end = i, None
        elif "-- END PROG LOAD LOG --" in line and begin is not None:
            end = i
    if begin is None:
        return None
    prog = "?"
    for line in messages[begin::-1]:
        m = re.search(r"prog '([^']+)'", line)
        if m:
            prog = m.group(1)
            break
    log_lines = [ln for ln in messages[begin + 1 : end] if ln.strip() and not ln.startswith("processed ")]
    return prog, log_lines[-6:]


def explain_load_failure(err: int, path: str, op: str = "load") -> None:
    messages = list(libbpf.recent_messages)
    tail = "\n".join(messages[-15:])
    refused = verifier_refusal(messages)
    if refused and op == "load":
        prog, lines = refused
        raise VerifierRefusal(
            f"this kernel ({os.uname().release}) can load BPF-LSM programs, but its verifier refused "
            f"bpfsystrace's program {prog} ({errno.errorcode.get(err, err)}): this is a bug in "
            f"bpfsystrace, not a locked-down kernel. The verifier's last lines:\n  " + "\n  ".join(lines),
            "report it with the kernel release and these lines; meanwhile use a kernel listed in "
            "docs/install.md (the kernels bpfsystrace is tested on)",
        )
    if err in (errno.EPERM, errno.EACCES) and os.geteuid() == 0:
        raise UnsupportedKernel(
            f"the kernel refused to {op} the BPF-LSM programs ({errno.errorcode[err]}). "
            + lsm.lsm_diagnosis(),
            UNSUPPORTED_HINT,
        )
    if err in (errno.EPERM, errno.EACCES):
        raise KernelError(op, path, err, "run bpfsystrace as root")
    if err in (errno.EINVAL, 524):  # 524: ENOTSUPP, the kernel's "not supported here"
        raise UnsupportedKernel(
            f"the kernel cannot {op} the programs ({errno.errorcode.get(err, err)}). "
            + lsm.lsm_diagnosis()
            + ("\nlibbpf said:\n" + tail if tail else ""),
            UNSUPPORTED_HINT,
        )
    raise KernelError(op, path, err, ("libbpf said:\n" + tail) if tail else None)
