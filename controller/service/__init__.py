"""The controller service: `bpfsystrace daemon` (docs/operations.md).

config.py      the configuration file and options
reconciler.py  keeps configured and recorded attachments in force
events.py      the kernel's events to the journal, syslog and the log file
notify.py      sd_notify and the pid file
daemon.py      the main loop that runs them
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import Options, Spec, read_config
from .notify import running_pid

if TYPE_CHECKING:
    from .daemon import Daemon

__all__ = ["Daemon", "Options", "Spec", "read_config", "running_pid"]


def __getattr__(name: str):
    # The daemon pulls in prometheus_client and http.server: only `bpfsystrace daemon`
    # (and attach --foreground) pays for them, not every command (a second under TCG).
    if name == "Daemon":
        from .daemon import Daemon

        return Daemon
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
