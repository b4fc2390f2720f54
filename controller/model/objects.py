"""Object strings as the kernel side renders them (bpf/render.bpf.h).

Rules match these strings, so explain, learn and the tests build them here:
paths as resolved absolute paths, socket addresses as systrace prints them.
"""
from __future__ import annotations

import socket


def inet(addr: str, port: int) -> str:
    """inet-[ADDR]:PORT for an IPv4 or IPv6 address, in glibc's inet_ntop text."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    packed = socket.inet_pton(family, addr)
    return f"inet-[{socket.inet_ntop(family, packed)}]:{port}"


def unix(path: str) -> str:
    """A unix socket address: its path, or @name for an abstract one."""
    return "@" + path[1:] if path.startswith("\0") else path


def family(number: int) -> str:
    return f"family({number})"
