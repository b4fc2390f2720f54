"""Can this host enforce? Each check says what it found and what to do.

`bpfsystrace doctor` prints every check; `attach` turns the first failure into
UnsupportedKernel. The decisive check is the last one: actually loading the
LSM programs, because some kernels list `bpf` as an active LSM and still
refuse LSM programs (EPERM before the verifier runs).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from ..errors import BpfsystraceError, VerifierRefusal
from . import loader, refusal, system
from .lsm import HOOK_SINCE, OPTIONAL_HOOKS, active_lsms, missing_hooks


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # ok, but something is not enforced here


def hooks_check() -> Check:
    missing = missing_hooks()
    if not missing:
        return Check("optional LSM hooks", True, "present: " + ", ".join(sorted(OPTIONAL_HOOKS.values())))
    return Check(
        "optional LSM hooks",
        True,
        "; ".join(
            f"this kernel has no {hook} hook: {op} is NOT enforced here"
            for op, hook in sorted(missing.items())
        ),
        "; ".join(
            f"use Linux {HOOK_SINCE[hook]} or later to enforce {op}" for op, hook in sorted(missing.items())
        ),
        warn=True,
    )


def checks(try_load: bool = True) -> list[Check]:
    machine = platform.machine()
    out = [
        Check(
            "architecture",
            machine == "x86_64",
            machine,
            "bpfsystrace enforces on x86-64 only: some hooks decide by x86-64 system call "
            "numbers (docs/install.md)",
        ),
        Check(
            "root",
            os.geteuid() == 0,
            f"euid {os.geteuid()}",
            "run bpfsystrace as root (it loads BPF programs)",
        ),
    ]
    btf = os.path.exists("/sys/kernel/btf/vmlinux")
    out.append(
        Check(
            "kernel BTF",
            btf,
            "/sys/kernel/btf/vmlinux " + ("present" if btf else "missing"),
            "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every major distribution's)",
        )
    )
    if os.geteuid() == 0:
        try:
            system.ensure_mounted("securityfs", system.SECURITYFS)
        except BpfsystraceError:
            pass
    lsms = active_lsms()
    out.append(
        Check(
            "bpf in active LSMs",
            bool(lsms and "bpf" in lsms),
            ",".join(lsms) if lsms else "cannot read /sys/kernel/security/lsm",
            "add bpf to the kernel's lsm= parameter, e.g. lsm=lockdown,capability,landlock,yama,apparmor,bpf",
        )
    )
    try:
        out.append(Check("cgroup v2", True, system.cgroup2_root()))
    except BpfsystraceError as e:
        out.append(Check("cgroup v2", False, str(e), "mount -t cgroup2 none /sys/fs/cgroup"))
    if btf:
        out.append(hooks_check())
    out.append(object_check())
    if try_load and all(c.ok for c in out):
        out.append(_try_load())
    return out


def object_check() -> Check:
    """The compiled BPF object: an installation problem, told apart from the kernel's."""
    path, where = loader.find_object()
    if path:
        return Check("BPF object", True, path)
    return Check(
        "BPF object",
        False,
        f"{loader.OBJECT_NAME} is not at {where} (this installation is incomplete; the kernel was not asked)",
        "reinstall bpfsystrace (the wheel and the Debian package carry it), run "
        f"'make -C bpf' in a checkout, or set {loader.OBJECT_ENV}=/path/to/"
        f"{loader.OBJECT_NAME}",
    )


def _try_load() -> Check:
    was_loaded = loader.is_loaded()
    try:
        k = loader.open_kernel(load=True)
        idle = not k.targets.keys()
        k.close()
        if not was_loaded and idle:
            loader.unload()  # only a test: leave the host as it was
        return Check("load LSM programs", True, "the LSM programs load and attach")
    except VerifierRefusal as e:
        return Check("load LSM programs", False, e.reason, e.hint or "")
    except BpfsystraceError as e:
        return Check("load LSM programs", False, e.render().splitlines()[0], refusal.UNSUPPORTED_HINT)
