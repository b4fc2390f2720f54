"""The attachment records in RUN_DIR (/run/bpfsystrace): versioned JSON files.

The kernel keeps the decisions (pinned maps and links); these files keep,
beside it, what each attachment means to a person: which files the policies
came from and what every rule id is. Both live until reboot or detach, so any
later command (status, the daemon) can explain an event.

    RUN_DIR/<cgroup id>.json    the attachment in force on that cgroup
    RUN_DIR/gens/<gen>.json     what each of the last GENS_KEPT generations meant

Each file is one JSON object: "schema" (SCHEMA) and the fields of Attachment.
A file without "schema" (written before it existed) is read as version 1 if
its fields are exactly those of version 1; any other file is refused with a
StateError that says what to do, never read as "not attached".
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field

from ..errors import StateError
from .atomic import write_atomic

RUN_DIR = os.environ.get("BPFSYSTRACE_RUN_DIR", "/run/bpfsystrace")
GENS_KEPT = 32  # generations whose meaning is kept for events still waiting

SCHEMA = 1  # bump it (and teach decode the old one) when a field changes
V1_FIELDS = frozenset(
    (
        "cgroup",
        "cgroup_id",
        "gen",
        "default",
        "policies",
        "rules",
        "manager",
        "attached_at",
        "sources",
        "default_spec",
        "manager_spec",
        "fingerprint",
        "nonce",
        "reloads",
        "reload_failures",
        "last_error",
        "carried",
        "mode",
        "texts",
    )
)


@dataclass
class Attachment:
    cgroup: str
    cgroup_id: int
    gen: int
    default: str
    policies: list[dict]  # {binary, file, line, identity}
    rules: list[dict]  # per rule id: {policy, op, action, errno, implicit, where, text}
    manager: str | None
    attached_at: float
    # what reload needs: the arguments attach was given, and a digest of the files they named
    sources: list[str] = field(default_factory=list)
    default_spec: str = "deny"
    manager_spec: str = "auto"
    fingerprint: str = ""
    nonce: str = ""  # unique per install: proves which process wrote the generation
    reloads: int = 0
    reload_failures: int = 0
    last_error: str = ""
    # decisions counted by generations that reloads replaced: "policy\top\taction" -> count
    carried: dict = field(default_factory=dict)
    # enforce: deny what the policy denies; audit: count and report it, permit it;
    # learn: permit everything, report each new (executable, operation, object) once
    mode: str = "enforce"
    # the text of every policy file compiled into this generation, [[path, text], ...]
    # (the --default FILE last): what 'reload --dry-run' compares the files on disk with
    texts: list = field(default_factory=list)

    @property
    def path(self) -> str:
        return os.path.join(RUN_DIR, f"{self.cgroup_id}.json")

    def save(self, data: str | None = None) -> None:
        """Write the record (data: encode(self) when the caller has it already)."""
        os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
        write_atomic(self.path, data if data is not None else encode(self))

    def save_generation(self, data: str | None = None) -> None:
        """Also keep this generation's meaning under gens/GEN.json: events it decided
        may still wait in the kernel's buffer after a reload replaced it."""
        d = os.path.join(RUN_DIR, "gens")
        os.makedirs(d, mode=0o755, exist_ok=True)
        write_atomic(os.path.join(d, f"{self.gen}.json"), data if data is not None else encode(self))
        names = sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
        for n in names[:-GENS_KEPT]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(d, n))

    def policy_name(self, idx: int) -> str:
        if 0 <= idx < len(self.policies):
            return self.policies[idx]["binary"]
        return f"default ({self.default})"


def encode(meta: Attachment) -> str:
    return json.dumps({"schema": SCHEMA, **meta.__dict__}, separators=(",", ":"))  # dumps: the C encoder


def decode(d, path: str) -> Attachment:
    """One file's JSON object -> Attachment, or StateError if this version cannot read it."""
    if not isinstance(d, dict):
        raise StateError(path, "it is not a JSON object")
    d = dict(d)
    version = d.pop("schema", None)
    if version is not None and version != SCHEMA:
        raise StateError(path, f"it has schema version {version!r}, this bpfsystrace reads version {SCHEMA}")
    keys = set(d)
    if keys != V1_FIELDS:
        unknown, missing = sorted(keys - V1_FIELDS), sorted(V1_FIELDS - keys)
        what = "; ".join(
            ([f"unknown fields {', '.join(unknown)}"] if unknown else [])
            + ([f"missing fields {', '.join(missing)}"] if missing else [])
        )
        raise StateError(
            path,
            f"{'no schema version and ' if version is None else ''}"
            f"{what} (schema version {SCHEMA} has other fields)",
        )
    return Attachment(**d)


def _read(path: str) -> Attachment | None:
    """The record in `path`; None if there is none (or it is not JSON)."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    return decode(d, path)


def load_attachment(cgid: int) -> Attachment | None:
    return _read(os.path.join(RUN_DIR, f"{cgid}.json"))


def generation(gen: int) -> Attachment | None:
    """What generation `gen` meant when it was installed (also a replaced one)."""
    meta = _read(os.path.join(RUN_DIR, "gens", f"{gen}.json"))
    return meta if meta is not None and meta.gen == gen else None


def all_attachments() -> list[Attachment]:
    """Every attachment recorded in RUN_DIR (live or not)."""
    out: list[Attachment] = []
    try:
        names = os.listdir(RUN_DIR)
    except FileNotFoundError:
        return out
    for n in sorted(names):
        if n.endswith(".json") and n[:-5].isdigit():
            meta = load_attachment(int(n[:-5]))
            if meta:
                out.append(meta)
    return out


def forget(cgid: int) -> None:
    """Remove the record of cgroup `cgid` (detach)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(RUN_DIR, f"{cgid}.json"))
