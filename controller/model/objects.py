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


def raw(addr: str) -> str:
    """raw-[ADDR]: a raw socket's address (its port field is no port)."""
    return inet(addr, 0).rsplit(":", 1)[0].replace("inet-", "raw-", 1)


def unix(path: str) -> str:
    """A unix socket address: its path, or @name for an abstract one."""
    return "@" + path[1:] if path.startswith("\0") else path


def family(number: int) -> str:
    return f"family({number})"


# systrace's translators (print_sockdom, print_socktype, print_signame), as
# bpf/names.bpf.h renders them; Linux names signals 1-31 that systrace's table left out.
SOCK_DOMAINS = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6"}
SOCK_TYPES = {1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM", 5: "SOCK_SEQPACKET"}
# sockproto: the protocol the socket got (protocol 0 resolved by the family:
# tcp for an inet stream), named as /etc/protocols names it for AF_INET and
# AF_INET6; any other number, and every protocol of another family (AF_PACKET's
# is an ethertype in network byte order), is "proto(N)".
INET_PROTOCOLS = {
    0: "ip",
    1: "icmp",
    2: "igmp",
    6: "tcp",
    17: "udp",
    58: "ipv6-icmp",
    132: "sctp",
    136: "udplite",
    255: "raw",
    262: "mptcp",
}
SIGNALS = (
    "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD "
    "CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
).split()


def sockproto(domain: int, protocol: int) -> str:
    if domain in (2, 10) and protocol in INET_PROTOCOLS:
        return INET_PROTOCOLS[protocol]
    return f"proto({protocol})"


def socket_args(domain: int, type_: int, protocol: int) -> str:
    """socket's object: "sockdom\\0socktype\\0sockproto"."""
    return "\0".join(
        (
            SOCK_DOMAINS.get(domain, f"AF_UNKNOWN({domain})"),
            SOCK_TYPES.get(type_, f"SOCK_UNKNOWN({type_})"),
            sockproto(domain, protocol),
        )
    )


def signame(sig: int) -> str:
    return "SIG" + SIGNALS[sig - 1] if 1 <= sig <= len(SIGNALS) else f"<unknown>: {sig}"


def kill(pidname: str, sig: int) -> str:
    """kill's object: "pidname\\0signame" (pidname: the target's executable path)."""
    return f"{pidname}\0{signame(sig)}"
