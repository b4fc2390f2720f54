"""Attach, reload, detach and list: the kernel's state plus what it means.

    compiled  the fingerprint of an attachment's files; compiled text cached
    nesting   attachments cannot nest
    install   attach, reload, retarget (under the lock of state/)
    remove    detach (replaced generations go at the swap: kernel/maps.py grace())
    query     status, lost state, what rule hits mean (decisions)

What each attachment means is kept by state/ (the records in RUN_DIR); its
names are re-exported here for the commands and the daemon.
"""

from ..state import Attachment, all_attachments, generation, load_attachment, locked, store
from .compiled import fingerprint
from .install import MODES, DropRefused, attach, reload, retarget
from .query import TargetStatus, decisions, lost_reason, lost_state, rule_action, status
from .remove import detach

GENS_KEPT = store.GENS_KEPT

__all__ = [
    "MODES",
    "Attachment",
    "DropRefused",
    "GENS_KEPT",
    "RUN_DIR",
    "TargetStatus",
    "all_attachments",
    "attach",
    "decisions",
    "detach",
    "fingerprint",
    "generation",
    "load_attachment",
    "locked",
    "lost_reason",
    "lost_state",
    "reload",
    "retarget",
    "rule_action",
    "status",
]


def __getattr__(name: str):
    if name == "RUN_DIR":  # read where it is kept, at each use (tests move it)
        return store.RUN_DIR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
