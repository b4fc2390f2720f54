"""bpfsystrace's own kernel objects, made untouchable for confined tasks.

After load and pin, the loader records in the `own` map the id of every map,
program and link of the object, the inode of every pin and pin directory
and the bpffs superblock that holds them (bpf/own.bpf.h denies a confined
task a descriptor of them, detaching or updating a link, unlinking, renaming
or chmod'ing a pin, unmounting that bpffs), and makes the pins mode 0000:
bpf(2) gets no file-permission override for a confined task, so
BPF_OBJ_GET of a pin fails for it even as root.
"""

from __future__ import annotations

import ctypes as C
import logging
import os

from .. import abi
from ..errors import KernelError
from . import libbpf, system

log = logging.getLogger(__name__)


def _pins(root: str):
    yield root
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            yield os.path.join(dirpath, n)


def keys(b, obj, links, root: str) -> list[abi.BstOwnKey]:
    """The `own` entries for a loaded object, its links and its pins under root."""
    out = []
    m = b.bpf_object__next_map(obj, None)
    while m:
        fd = b.bpf_map__fd(m)
        if fd >= 0:
            out.append(abi.BstOwnKey(abi.BST_OWN_MAP, 0, libbpf.obj_id(fd)))
        m = b.bpf_object__next_map(obj, m)
    prog = b.bpf_object__next_program(obj, None)
    while prog:
        fd = b.bpf_program__fd(prog)
        if fd >= 0:  # a program left out (missing hook) has none
            out.append(abi.BstOwnKey(abi.BST_OWN_PROG, 0, libbpf.obj_id(fd)))
        prog = b.bpf_object__next_program(obj, prog)
    for link in links:
        out.append(abi.BstOwnKey(abi.BST_OWN_LINK, 0, libbpf.obj_id(b.bpf_link__fd(link))))
    dev = None
    for path in _pins(root):
        dev, ino = system.file_identity(path)
        out.append(abi.BstOwnKey(abi.BST_OWN_PIN, dev, ino))
    if dev is not None:
        out.append(abi.BstOwnKey(abi.BST_OWN_SB, dev, 1))
    return out


def protect(b, obj, links, root: str) -> int:
    """Fill `own` and make the pins mode 0000. Returns the number of entries."""
    entries = keys(b, obj, links, root)
    if len(entries) > abi.BST_MAX_OWN:
        raise KernelError(
            "record own objects", root, 28, f"{len(entries)} objects, the own map holds {abi.BST_MAX_OWN}"
        )
    fd = -1
    m = b.bpf_object__next_map(obj, None)
    while m:
        if b.bpf_map__name(m).decode() == "own":
            fd = b.bpf_map__fd(m)
        m = b.bpf_object__next_map(obj, m)
    if fd < 0:
        raise KernelError("record own objects", "own", 2, "the BPF object has no 'own' map")
    own = libbpf.Map(os.dup(fd), "own", abi.BstOwnKey, C.c_uint32)
    try:
        for k in entries:
            own.update(k, C.c_uint32(1))
    finally:
        own.close()
    for path in _pins(root):
        os.chmod(path, 0)
    log.debug("own objects: %d entries", len(entries))
    return len(entries)
