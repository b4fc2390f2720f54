"""Detach: remove one attachment or all, and unload the programs when none is left."""

from __future__ import annotations

import contextlib
import os
import shutil

from ..errors import TargetError
from ..kernel import loader, maps, system
from ..state import forget, load_attachment, locked, store


def detach(cgroup: str | None = None, everything: bool = False) -> list[str]:
    """Remove one attachment (or all); unload the programs when none is left."""
    with locked():
        return _detach(cgroup, everything)


def _detach(cgroup, everything):
    if not loader.is_loaded():
        if everything:
            loader.unload()
            _forget_kernel_files()
            return []
        raise TargetError(f"{system.resolve_cgroup(cgroup)} is not attached (nothing is attached)")
    k = loader.open_kernel()
    removed = []
    try:
        if everything:
            ids = list(maps.gens_by_target(k))
        else:
            ids = [_attached_id(k, system.resolve_cgroup(cgroup))]
        for cgid in ids:
            meta = load_attachment(cgid)
            maps.remove_target(k, cgid)
            removed.append(meta.cgroup if meta else f"cgroup id {cgid}")
            forget(cgid)
        left = maps.gens_by_target(k)
    finally:
        k.close()
    if not left:
        loader.unload()  # the maps go with the programs
        _forget_kernel_files()
    return removed


def _forget_kernel_files() -> None:
    """What RUN_DIR kept about the unloaded programs (events; retired.json, which
    bpfsystrace before ABI 8 wrote)."""
    for name in ("retired.json", "lost-reported"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(store.RUN_DIR, name))
    shutil.rmtree(os.path.join(store.RUN_DIR, "gens"), ignore_errors=True)


def _attached_id(k, cgpath: str) -> int:
    """The cgroup id under which `cgpath` is attached (its directory may be gone)."""
    live = maps.gens_by_target(k)
    if os.path.isdir(cgpath) and system.cgroup_id(cgpath) in live:
        return system.cgroup_id(cgpath)
    for cgid in live:
        meta = load_attachment(cgid)
        if meta and meta.cgroup == cgpath:
            return cgid
    raise TargetError(
        f"{cgpath} is not attached",
    )
