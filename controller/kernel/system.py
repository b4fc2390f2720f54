"""Facts about the running system: mounts, cgroups, file identities.

No BPF here: this is what the loader and the probe need to know about the
host, read from /proc and the file systems.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

from ..errors import KernelError, TargetError

BPFFS = "/sys/fs/bpf"
SECURITYFS = "/sys/kernel/security"


@dataclass(frozen=True, slots=True)
class Mount:
    mount_id: int
    major: int
    minor: int
    point: str
    fstype: str


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) + 1 and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


_parsed: tuple[str, list] = ("", [])


def mounts() -> list[Mount]:
    """Mounts of this mount namespace, in /proc/self/mountinfo order."""
    global _parsed
    with open("/proc/self/mountinfo") as f:
        text = f.read()
    if text == _parsed[0]:  # parsed already (reloads ask several times a second)
        return list(_parsed[1])
    out = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        major, minor = fields[2].split(":")
        out.append(Mount(int(fields[0]), int(major), int(minor), _unescape(fields[4]), right.split()[0]))
    _parsed = (text, out)
    return list(out)


def mounted(point: str, fstype: str) -> bool:
    return any(m.point == point and m.fstype == fstype for m in mounts())


def mount_fs(fstype: str, point: str) -> None:
    """mount -t fstype fstype point (for bpffs and securityfs)."""
    libc = ctypes.CDLL(None, use_errno=True)
    os.makedirs(point, exist_ok=True)
    if libc.mount(fstype.encode(), point.encode(), fstype.encode(), 0, None) != 0:
        raise KernelError(f"mount {fstype} on", point, ctypes.get_errno())


def ensure_mounted(fstype: str, point: str) -> None:
    if not mounted(point, fstype):
        mount_fs(fstype, point)


def cgroup2_root() -> str:
    """Where the unified (v2) cgroup hierarchy is mounted."""
    candidates = [m.point for m in mounts() if m.fstype == "cgroup2"]
    if not candidates:
        raise TargetError(
            "no cgroup2 file system is mounted; bpfsystrace needs the unified "
            "cgroup hierarchy (mount -t cgroup2 none /sys/fs/cgroup)"
        )
    for preferred in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if preferred in candidates:
            return preferred
    return candidates[0]


def resolve_cgroup(name: str) -> str:
    """A cgroup name relative to the cgroup2 mount, or an absolute path -> path."""
    root = cgroup2_root()
    if name.startswith("/") and (name == root or name.startswith(root.rstrip("/") + "/")):
        path = name
    elif name.startswith("/sys/") or name.startswith("/proc/"):
        # an absolute path outside the cgroup2 mount: never join it to the root again
        raise TargetError(
            f"{name} is not in the cgroup v2 hierarchy, which is mounted at "
            f"{root} on this host"
            + (
                " (a hybrid layout: the directories beside it are cgroup v1 or tmpfs)"
                if root != "/sys/fs/cgroup"
                else ""
            )
            + f"; give a cgroup under {root}, e.g. --cgroup "
            f"{os.path.basename(name.rstrip('/'))}"
        )
    else:
        path = os.path.join(root, name.lstrip("/"))
    path = os.path.normpath(path)
    if not path.startswith(root.rstrip("/") + "/"):
        raise TargetError(
            f"cgroup {name!r} is the cgroup2 root or outside it ({root}); "
            f"confining every process on the host is not supported"
        )
    return path


def cgroup_id(path: str) -> int:
    """The kernel's cgroup id (the cgroup directory's inode number)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise TargetError(f"cgroup {path} does not exist" + _hybrid_hint(path)) from None
    return st.st_ino


def _hybrid_hint(path: str) -> str:
    """On a hybrid layout (v2 at /sys/fs/cgroup/unified), a directory made under
    /sys/fs/cgroup is on tmpfs or a v1 hierarchy: not something a v2 cgroup id names."""
    root = cgroup2_root()
    if root == "/sys/fs/cgroup" or not path.startswith(root.rstrip("/") + "/"):
        return ""
    rel = os.path.relpath(path, root)
    other = os.path.join("/sys/fs/cgroup", rel)
    made = f"; {other} exists but is not a cgroup v2 directory" if os.path.isdir(other) else ""
    return (
        f" (this host has a hybrid cgroup layout: cgroup v2 is mounted at {root}"
        f"{made}: create it with mkdir {path})"
    )


def kernel_dev(major: int, minor: int) -> int:
    """dev_t as the kernel stores it in super_block.s_dev."""
    return (major << 20) | minor


def file_identity(path: str) -> tuple[int, int]:
    """(kernel dev of the superblock, inode) of the file `path` resolves to.

    The device comes from mountinfo (it shows sb->s_dev), not from stat(),
    because overlayfs and btrfs report other devices to stat()."""
    real = os.path.realpath(path)
    st = os.stat(real)
    best = None
    for m in mounts():
        p = m.point.rstrip("/") + "/"
        if real == m.point or real.startswith(p) or m.point == "/":
            if best is None or len(m.point) >= len(best.point):
                best = m
    if best is None:
        raise TargetError(f"cannot find the mount of {real}")
    return kernel_dev(best.major, best.minor), st.st_ino
