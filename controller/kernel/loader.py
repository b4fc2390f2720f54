"""Load the BPF object once, attach its LSM programs, pin everything.

Pinned layout (bpffs):
  /sys/fs/bpf/bpfsystrace/maps/<map>    every map, so any later command
                                        (attach, status, detach) reopens them
  /sys/fs/bpf/bpfsystrace/links/<prog>  one link per LSM program: enforcement
                                        lives as long as these pins, not as
                                        long as a controller process
A second `attach` finds the pins and only updates maps. `unload()` removes the
pins, which detaches the programs.
"""

from __future__ import annotations

import contextlib
import ctypes as C
import errno
import importlib.resources
import logging
import os
import platform
import shutil
import struct

from .. import abi
from ..errors import KernelError, MissingObject, UnsupportedKernel
from . import libbpf, lsm, own, system
from .refusal import explain_load_failure

log = logging.getLogger(__name__)

PIN_ROOT = "/sys/fs/bpf/bpfsystrace"
MAP_DIR = os.path.join(PIN_ROOT, "maps")
LINK_DIR = os.path.join(PIN_ROOT, "links")
# Programs of hooks a kernel may lack (lsm.OPTIONAL_HOOKS): left out of
# the load there; lsm.missing_hooks() and check/doctor/attach say so.
OPTIONAL_PROGRAMS = {"bst_task_fix_setgroups": "setgroups", "bst_userns_create": "unshare"}
# Programs of hooks newer kernels added for a road that older ones send
# through a hook decided on every kernel (ftruncate and O_TRUNC through
# path_truncate and POSIX ACLs through inode_setxattr/inode_getxattr before 6.2, a 32-bit ioctl through file_ioctl before 6.8): left out where
# the kernel lacks the hook, with nothing left undecided to say.
NEWER_HOOK_PROGRAMS = {
    "bst_file_truncate": "file_truncate",
    "bst_inode_set_acl": "inode_set_acl",
    "bst_inode_remove_acl": "inode_remove_acl",
    "bst_file_ioctl_compat": "file_ioctl_compat",
    "bst_inode_get_acl": "inode_get_acl",
}
# name -> (key type, value type, per-CPU)
MAPS = {
    "targets": (C.c_uint64, abi.BstTarget, False),
    "exes": (abi.BstExeKey, C.c_uint32, False),
    "exe_paths": (abi.BstExePathKey, C.c_uint32, False),
    "policy_ops": (abi.BstPolicyOpKey, abi.BstPolicyOp, False),
    "states": (C.c_uint32, abi.BstState, False),
    "cells": (C.c_uint32, abi.BstCell, False),
    "regions": (abi.BstRegionKey, abi.BstRegion, False),
    "rules": (abi.BstRuleKey, abi.BstRule, False),
    "rule_hits": (abi.BstRuleKey, C.c_uint64, True),
    "counters": (C.c_uint32, C.c_uint64, True),
    "seen": (abi.BstSeenKey, C.c_uint64, False),
    "epoch": (C.c_uint32, C.c_uint64, False),
    "grace": (C.c_uint32, C.c_uint32, False),
}
PINNED_EXTRA = ("events", "task_store", "subjects", "rodata", "own")

OBJECT_NAME = "bpfsystrace.bpf.o"
OBJECT_ENV = "BPFSYSTRACE_BPF_OBJECT"


def find_object() -> tuple[str | None, str]:
    """(path or None, where it was looked for): $BPFSYSTRACE_BPF_OBJECT, else the
    package's own data (bpfsystrace/data/, put there by the wheel build), else
    the build tree of a checkout (bpf/.output/, for an editable install)."""
    env = os.environ.get(OBJECT_ENV)
    if env:
        return (env if os.path.isfile(env) else None), f"{OBJECT_ENV}={env}"
    pkg = os.path.join(str(importlib.resources.files("bpfsystrace")), "data", OBJECT_NAME)
    tree = os.path.join(os.path.dirname(os.path.dirname(pkg)), "..", "bpf", ".output", OBJECT_NAME)
    for cand in (pkg, os.path.normpath(tree)):
        if os.path.isfile(cand):
            return cand, cand
    return None, pkg


def object_path() -> str:
    """The compiled BPF object, or MissingObject saying where it was looked for."""
    path, where = find_object()
    if path is None:
        raise MissingObject(
            f"{OBJECT_NAME} is not at {where}",
            "reinstall bpfsystrace (its wheel and Debian package carry the "
            "object), build it in a checkout with 'make -C bpf', or point "
            f"{OBJECT_ENV} at a built {OBJECT_NAME}",
        )
    return path


class Kernel:
    """Open handles on the pinned maps."""

    def __init__(self, maps: dict[str, libbpf.Map], events_fd: int):
        self.maps = maps
        self.events_fd = events_fd

    def __getattr__(self, name):
        try:
            return self.__dict__["maps"][name]
        except KeyError:
            raise AttributeError(name) from None

    def close(self) -> None:
        for m in self.maps.values():
            m.close()
        if self.events_fd >= 0:
            os.close(self.events_fd)
            self.events_fd = -1


_contents: dict = {}  # object path -> ObjectContents


class ObjectContents:
    """What the built object holds, read from it (names are never copied)."""

    def __init__(self, path: str):
        b = libbpf.lib()
        obj = b.bpf_object__open_file(path.encode(), None)
        if not obj:
            raise KernelError("open BPF object", path, C.get_errno())
        try:
            self.programs: dict[str, str] = {}  # name -> section (e.g. lsm/file_open)
            prog = b.bpf_object__next_program(obj, None)
            while prog:
                self.programs[b.bpf_program__name(prog).decode()] = b.bpf_program__section_name(prog).decode()
                prog = b.bpf_object__next_program(obj, prog)
            self.maps: dict[str, tuple[int, int, int]] = {}  # name -> (type, key, value size)
            m = b.bpf_object__next_map(obj, None)
            while m:
                self.maps[b.bpf_map__name(m).decode()] = (
                    b.bpf_map__type(m),
                    b.bpf_map__key_size(m),
                    b.bpf_map__value_size(m),
                )
                m = b.bpf_object__next_map(obj, m)
        finally:
            b.bpf_object__close(obj)


def object_contents(path: str | None = None) -> ObjectContents:
    path = path or object_path()
    if path not in _contents:
        _contents[path] = ObjectContents(path)
    return _contents[path]


def required_links() -> list[str]:
    """The programs every kernel attaches (one pinned link each); the optional
    ones (OPTIONAL_PROGRAMS, NEWER_HOOK_PROGRAMS) are attached where the
    kernel has their hook."""
    return [
        p for p in object_contents().programs if p not in OPTIONAL_PROGRAMS and p not in NEWER_HOOK_PROGRAMS
    ]


def is_loaded() -> bool:
    try:
        names = required_links()
    except (UnsupportedKernel, KernelError):
        # no object to compare with: whatever is pinned is what was loaded
        return os.path.isdir(LINK_DIR) and bool(os.listdir(LINK_DIR))
    return all(os.path.exists(os.path.join(LINK_DIR, p)) for p in names)


def skipped_programs() -> dict[str, str]:
    """{program: operation} of the optional programs this kernel cannot run."""
    missing = lsm.missing_hooks()
    return {p: op for p, op in OPTIONAL_PROGRAMS.items() if op in missing}


def absent_programs(btf_path: str | None = None) -> set[str]:
    """The NEWER_HOOK_PROGRAMS whose hook this kernel lacks (none when its
    BTF cannot be read: the load then fails on its own)."""
    names = lsm.bpf_lsm_names(btf_path)
    if names is None:
        return set()
    return {p for p, hook in NEWER_HOOK_PROGRAMS.items() if hook not in names}


def _open_pinned() -> Kernel:
    maps = {}
    try:
        for name, (k, v, percpu) in MAPS.items():
            fd = libbpf.obj_get(os.path.join(MAP_DIR, name))
            maps[name] = libbpf.Map(fd, name, k, v, percpu)
        events = libbpf.obj_get(os.path.join(MAP_DIR, "events"))
        rodata = libbpf.obj_get(os.path.join(MAP_DIR, "rodata"))
    except KernelError:
        for m in maps.values():
            m.close()
        raise
    try:
        _check_abi_pinned(rodata)
    finally:
        os.close(rodata)
    return Kernel(maps, events)


def _check_abi_pinned(fd: int) -> None:
    # the whole value: .rodata holds more than the version (format strings)
    m = libbpf.Map(fd, "rodata", C.c_uint32, C.c_uint8 * max(4, libbpf.map_value_size(fd)))
    val = m.lookup(C.c_uint32(0))
    version = struct.unpack("<I", bytes(val)[:4])[0] if val is not None else None
    if version != abi.BST_ABI_VERSION:
        raise KernelError(
            "adopt pinned programs",
            PIN_ROOT,
            errno.EPROTO,
            f"the loaded programs speak ABI {version}, this bpfsystrace speaks "
            f"{abi.BST_ABI_VERSION}: detach everything with an older bpfsystrace "
            f"(or remove {PIN_ROOT}) and attach again",
        )


@contextlib.contextmanager
def event_ring(on_record):
    """The pinned events ring buffer, open for a with block: on_record(bytes)
    for each record its poll()/drain() consume. Raises what open_kernel raises."""
    k = open_kernel()
    try:
        rb = libbpf.RingBuffer(k.events_fd, on_record)
        try:
            yield rb
        finally:
            rb.close()
    finally:
        k.close()


def open_kernel(load: bool = False) -> Kernel:
    """Handles on the pinned state; with load=True, load and pin it first if needed."""
    system.ensure_mounted("bpf", system.BPFFS)
    if load:
        try:  # only for diagnosis (the LSM list); enforcement does not need it
            system.ensure_mounted("securityfs", system.SECURITYFS)
        except KernelError as e:
            log.debug("cannot mount securityfs: %s", e)
    if is_loaded():
        return _open_pinned()
    if os.path.exists(PIN_ROOT) and os.listdir(PIN_ROOT):
        if not load:
            raise KernelError(
                "open",
                PIN_ROOT,
                errno.ENOENT,
                "the pinned state is incomplete; run 'bpfsystrace detach --all' to clean up",
            )
        log.warning("removing incomplete pinned state under %s", PIN_ROOT)
        shutil.rmtree(PIN_ROOT, ignore_errors=True)
    if not load:
        raise KernelError("open", PIN_ROOT, errno.ENOENT, "nothing is attached")
    _load_and_pin(object_path())
    return _open_pinned()


def _load_and_pin(path: str) -> None:
    if platform.machine() != "x86_64":
        raise UnsupportedKernel(
            f"bpfsystrace enforces on x86-64 only, this is {platform.machine()}",
            "some hooks decide by x86-64 system call numbers (docs/install.md)",
        )
    b = libbpf.lib()
    obj = b.bpf_object__open_file(path.encode(), None)
    if not obj:
        raise KernelError("open BPF object", path, C.get_errno())
    links = []
    try:
        _check_abi_object(b, obj, path)
        skipped = skipped_programs()
        absent = absent_programs()
        prog = b.bpf_object__next_program(obj, None)
        while prog:
            name = b.bpf_program__name(prog).decode()
            if name in absent:
                b.bpf_program__set_autoload(prog, False)  # an older road decides it here
            elif name in skipped:
                # the hook does not exist here: load everything else, and
                # say loudly what is not enforced (never fail open silently)
                b.bpf_program__set_autoload(prog, False)
                op = skipped[name]
                log.warning("%s", lsm.not_enforced(op, lsm.OPTIONAL_HOOKS[op]))
            prog = b.bpf_object__next_program(obj, prog)
        ret = b.bpf_object__load(obj)
        if ret < 0:
            explain_load_failure(-ret, path)
        os.makedirs(MAP_DIR, exist_ok=True)
        os.makedirs(LINK_DIR, exist_ok=True)
        m = b.bpf_object__next_map(obj, None)
        while m:
            name = b.bpf_map__name(m).decode()
            if ".rodata." in name:
                # constant strings (.rodata.str1.1): only the programs use them, and
                # bpffs refuses names with a dot; the programs' links keep them alive
                m = b.bpf_object__next_map(obj, m)
                continue
            pin = "rodata" if name.endswith(".rodata") else name
            libbpf.check(b.bpf_map__pin(m, os.path.join(MAP_DIR, pin).encode()), "pin map", name)
            m = b.bpf_object__next_map(obj, m)
        prog = b.bpf_object__next_program(obj, None)
        while prog:
            name = b.bpf_program__name(prog).decode()
            if name in skipped or name in absent:
                prog = b.bpf_object__next_program(obj, prog)
                continue
            link = b.bpf_program__attach(prog)
            if not link:
                err = C.get_errno()
                explain_load_failure(err, path, f"attach {name}")
            links.append(link)
            libbpf.check(b.bpf_link__pin(link, os.path.join(LINK_DIR, name).encode()), "pin link", name)
            prog = b.bpf_object__next_program(obj, prog)
        own.protect(b, obj, links, PIN_ROOT)
        log.info("loaded %s: %d LSM programs attached and pinned under %s", path, len(links), PIN_ROOT)
    except BaseException:
        shutil.rmtree(PIN_ROOT, ignore_errors=True)  # no half-loaded state stays behind
        raise
    finally:
        for link in links:
            b.bpf_link__destroy(link)  # the pins keep them attached
        b.bpf_object__close(obj)


def _check_abi_object(b, obj, path: str) -> None:
    m = b.bpf_object__next_map(obj, None)
    while m:
        if b.bpf_map__name(m).decode().endswith(".rodata"):
            size = C.c_size_t()
            ptr = b.bpf_map__initial_value(m, C.byref(size))
            if ptr and size.value >= 4:
                version = struct.unpack("<I", C.string_at(ptr, 4))[0]
                if version != abi.BST_ABI_VERSION:
                    raise UnsupportedKernel(
                        f"{path} was built for ABI {version}, this bpfsystrace expects {abi.BST_ABI_VERSION}",
                        "rebuild it with 'make -C bpf'",
                    )
                return
        m = b.bpf_object__next_map(obj, m)
    raise UnsupportedKernel(f"{path} has no ABI version", "rebuild it with 'make -C bpf'")


def unload() -> None:
    """Remove every pin: the programs detach, the maps are freed."""
    if os.path.exists(PIN_ROOT):
        shutil.rmtree(PIN_ROOT)
