"""What `explain` accepts: an operation name and an object the kernel could render.

The reference evaluator (model/reference.py) takes any string; a person typing a
command line needs to hear about a typo, an object of the wrong kind, and
the path the kernel will actually see (symbolic links resolved, as d_path
renders them: /lib/x on a merged-/usr host is /usr/lib/x).
"""

from __future__ import annotations

import os
import stat

from ..errors import UsageError
from ..model import lint, syscalls

# operations whose object the kernel renders after following the last symbolic link
_FOLLOWS_LAST = {"fsread", "fswrite", "execve", "truncate", "chmod", "chown", "chroot", "stat"}


def operation(name: str) -> tuple[str, str | None]:
    """(operation to evaluate, note) for a systrace name; UsageError for a typo."""
    if name in syscalls.OPERATIONS:
        return name, None
    ops = syscalls.ops_of(name)
    if ops:
        return ops[0].name, f"{name} is decided as {ops[0].name}"
    if syscalls.known(name):
        return name, None  # known to systrace, not decided: explain says why
    near = syscalls.near(name)
    raise UsageError(
        f"unknown operation {name!r}"
        + (f" (did you mean {near}?)" if near else "")
        + "; operations: "
        + ", ".join(syscalls.OPERATIONS)
    )


def object_for(op_name: str, value: str) -> tuple[str, str | None]:
    """(object as the kernel renders it, note) or UsageError when it cannot be one."""
    o = syscalls.OPERATIONS.get(op_name)
    if o is None:
        return value, None
    if o.arg == "filename":
        if not value.startswith("/"):
            raise UsageError(
                f"{op_name} {value}: a filename is an absolute path, "
                f"e.g. bpfsystrace explain POLICY {op_name} /etc/hosts"
            )
        return _kernel_path(op_name, value)
    if o.arg == "sockaddr":
        if lint.SOCKADDR.match(value) or value == "":
            return value, None
        if value.startswith("/"):
            try:
                mode = os.stat(value).st_mode
            except OSError:
                return value, None  # a unix socket path not yet bound
            if not stat.S_ISSOCK(mode):
                raise UsageError(
                    f"{op_name} {value}: {value} exists and is not a unix socket; "
                    f"a sockaddr is inet-[ADDR]:PORT, raw-[ADDR] (a raw socket), a unix socket "
                    f"path, @abstract or family(N) (for a file, ask fsread or fswrite)"
                )
            return value, None
        raise UsageError(
            f"{op_name} {value}: not a socket address; write inet-[127.0.0.1]:53, "
            f"inet-[::1]:53, raw-[127.0.0.1] (a raw socket), a unix socket path, @abstract or family(N)"
        )
    if o.arg in ("uid", "gid") and not value.isdigit():
        raise UsageError(f"{op_name} {value}: the kernel sees a numeric {o.arg}, e.g. {op_name} 70")
    return value, None


def _kernel_path(op_name: str, value: str) -> tuple[str, str | None]:
    parent, last = os.path.split(value.rstrip("/") or "/")
    if op_name in _FOLLOWS_LAST and os.path.lexists(value):
        real = os.path.realpath(value)
    else:
        real = os.path.join(os.path.realpath(parent), last) if last else "/"
    real = os.path.normpath(real) if real != "/" else real
    if real == value:
        return value, None
    return real, (
        f"the kernel sees {real}, not {value}: it renders the path with symbolic "
        f"links resolved (on this host), and that path is what rules match"
    )
