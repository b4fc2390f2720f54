"""What the running kernel offers BPF-LSM: its optional hooks and its LSM list.

Facts read from the host (BTF, securityfs), for the loader and for probe's
checks; nothing here loads anything.
"""

from __future__ import annotations

import os
import re

from . import system

# Operations whose hook a running kernel may lack (added after 5.15): the
# loader leaves their program out there (loader.OPTIONAL_PROGRAMS), and
# check/doctor/attach say so. Keys are operation names (model.syscalls.OPERATIONS;
# tests/abi checks them).
OPTIONAL_HOOKS = {"setgroups": "task_fix_setgroups", "unshare": "userns_create"}
HOOK_SINCE = {"task_fix_setgroups": "6.0", "userns_create": "6.1"}  # Linux version


def not_enforced(op: str, hook: str) -> str:
    """The one wording of "this kernel lacks the hook" (loader, attach, check, doctor)."""
    return (
        f"this kernel has no {hook} hook: {op} is NOT enforced here, every {op} call is permitted "
        f"(Linux {HOOK_SINCE[hook]} or later enforces it)"
    )


VMLINUX_BTF = "/sys/kernel/btf/vmlinux"


def bpf_lsm_names(btf_path: str | None = None) -> set[str] | None:
    """Every NAME of a `bpf_lsm_NAME` in the kernel's BTF string table (or a
    vmlinux file's): each LSM hook has such a BPF stub function, and so have a
    few functions of BPF-LSM itself (hooks.NOT_HOOKS). None: unreadable."""
    try:
        with open(btf_path or VMLINUX_BTF, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return {m.decode() for m in re.findall(rb"\0bpf_lsm_(\w+)(?=\0)", data)}


def missing_hooks(btf_path: str | None = None) -> dict[str, str]:
    """{operation: LSM hook} for the optional hooks (OPTIONAL_HOOKS)
    that the running kernel does not have (bpf_lsm_names). An unreadable
    BTF says nothing ({}): loading needs it and fails on its own."""
    names = bpf_lsm_names(btf_path)
    if names is None:
        return {}
    return {op: hook for op, hook in OPTIONAL_HOOKS.items() if hook not in names}


def active_lsms() -> list[str] | None:
    path = os.path.join(system.SECURITYFS, "lsm")
    try:
        with open(path) as f:
            return f.read().strip().split(",")
    except OSError:
        return None


def lsm_diagnosis() -> str:
    """One sentence on the LSM list, for error messages."""
    lsms = active_lsms()
    if lsms is None:
        return "The active LSM list could not be read (is securityfs mounted?)."
    if "bpf" not in lsms:
        return (
            f"'bpf' is not in the active LSM list ({','.join(lsms)}): boot with "
            f"lsm={','.join(lsms + ['bpf'])} on the kernel command line."
        )
    return (
        f"'bpf' is in the active LSM list ({','.join(lsms)}), but this kernel still refuses "
        f"LSM programs (a sandboxed or locked-down kernel)."
    )
