"""The daemon's configuration: the INI file (docs/operations.md) and the options."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field

from ..errors import UsageError
from ..observe import sinks


@dataclass
class Spec:
    """One attachment the configuration asks for."""

    name: str
    cgroup: str
    policies: list[str]
    default: str = "deny"
    manager: str = "auto"
    create: bool = False  # make the cgroup if missing, so nothing ever runs in it unconfined
    mode: str = "enforce"  # or audit: report denials, permit them


@dataclass
class Options:
    specs: list[Spec] = field(default_factory=list)
    metrics_address: str | None = None
    syslog: bool = True
    syslog_socket: str = sinks.DEFAULT_SYSLOG_SOCKET
    log_file: str | None = None
    log_format: str = "text"


_BOOL = {
    "yes": True,
    "true": True,
    "on": True,
    "1": True,
    "no": False,
    "false": False,
    "off": False,
    "0": False,
}


def read_config(path: str) -> Options:
    """The daemon's configuration file (INI; docs/operations.md shows one)."""
    cp = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as f:
            cp.read_file(f)
    except OSError as e:
        raise UsageError(f"cannot read configuration {path}: {e.strerror}") from None
    except configparser.Error as e:
        raise UsageError(f"{path}: {e}") from None
    opts = Options()
    for section in cp.sections():
        sec = cp[section]
        where = f"{path} [{section}]"
        if section == "daemon":
            known = {"metrics-address", "syslog", "syslog-socket", "log-file", "log-format"}
            _no_unknown(sec, known, where)
            opts.metrics_address = sec.get("metrics-address") or None
            val = sec.get("syslog", "yes").lower()
            if val not in _BOOL:
                raise UsageError(f"{where}: syslog = {val}: say yes or no")
            opts.syslog = _BOOL[val]
            opts.syslog_socket = sec.get("syslog-socket", opts.syslog_socket)
            opts.log_file = sec.get("log-file") or None
            opts.log_format = sec.get("log-format", "text")
            if opts.log_format not in ("text", "json"):
                raise UsageError(f"{where}: log-format = {opts.log_format}: text or json")
        elif section.startswith("attach "):
            _no_unknown(sec, {"cgroup", "policy", "default", "manager", "create", "mode"}, where)
            if "cgroup" not in sec or "policy" not in sec:
                raise UsageError(
                    f"{where}: needs 'cgroup =' and 'policy =' (one or more "
                    f"files or directories, one per line)"
                )
            base = os.path.dirname(os.path.abspath(path))
            pols = [os.path.join(base, p) for p in sec["policy"].split()]
            default = sec.get("default", "deny")
            if default not in ("deny", "permit"):
                default = os.path.join(base, default)
            create = sec.get("create", "yes").lower()
            if create not in _BOOL:
                raise UsageError(f"{where}: create = {create}: say yes or no")
            mode = sec.get("mode", "enforce")
            if mode not in ("enforce", "audit"):
                raise UsageError(f"{where}: mode = {mode}: enforce or audit")
            opts.specs.append(
                Spec(
                    section[7:].strip(),
                    sec["cgroup"],
                    pols,
                    default,
                    sec.get("manager", "auto"),
                    _BOOL[create],
                    mode,
                )
            )
        else:
            raise UsageError(f"{path}: unknown section [{section}] (expected [daemon] or [attach NAME])")
    return opts


def _no_unknown(sec, known, where):
    for key in sec:
        if key not in known:
            raise UsageError(f"{where}: unknown setting '{key}' (known: {', '.join(sorted(known))})")
