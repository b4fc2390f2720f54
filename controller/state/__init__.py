"""What bpfsystrace keeps on disk beside the kernel's state: RUN_DIR (/run/bpfsystrace).

store: the versioned attachment records (Attachment, <cgroup id>.json, gens/);
lock: the flock of RUN_DIR that serialises every writer; atomic: the one
write-temp-then-rename. RUN_DIR itself is store.RUN_DIR (read it there, at
call time: tests move it).
"""

from .atomic import write_atomic
from .lock import locked
from .store import SCHEMA, Attachment, all_attachments, decode, encode, forget, generation, load_attachment

__all__ = [
    "SCHEMA",
    "Attachment",
    "all_attachments",
    "decode",
    "encode",
    "forget",
    "generation",
    "load_attachment",
    "locked",
    "write_atomic",
]
