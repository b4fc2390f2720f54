"""The controller service: `bpfsystrace daemon` (docs/operations.md).

config.py      the configuration file and options
reconciler.py  keeps configured and recorded attachments in force
events.py      the kernel's events to the journal, syslog and the log file
notify.py      sd_notify and the pid file
daemon.py      the main loop that runs them
"""

from .config import Options, Spec, read_config
from .daemon import Daemon
from .notify import running_pid

__all__ = ["Daemon", "Options", "Spec", "read_config", "running_pid"]
