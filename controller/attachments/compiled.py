"""What attach compiles: the fingerprint of its files, and a small cache of compiled text."""

from __future__ import annotations

import hashlib
import logging
import os

from ..compile import pipeline

log = logging.getLogger(__name__)

_compiled: dict = {}  # (fingerprint, ...) -> (policies, records): the same text again
_COMPILED_KEEP = 4  # a daemon swapping between a few policy versions compiles each once


def fingerprint(sources: list[str], default: str) -> str:
    """Digest of every policy file the sources name (directories are listed anew)."""
    h = hashlib.sha256()
    paths = list(sources) + ([default] if default not in ("deny", "permit") else [])
    for path in pipeline.policy_files(paths):
        h.update(os.path.abspath(path).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()


def compile_cached(policy_paths, default, fp):
    """(policies, records) of the files; compiled once per fingerprint (of the last few)."""
    key = (fp, default, tuple(policy_paths))
    if key not in _compiled:
        policies, warnings = pipeline.load_policies(policy_paths)
        for w in warnings:
            log.warning("%s", w.render().splitlines()[0])
        recs = pipeline.compile_all(policies, pipeline.load_default(default))
        while len(_compiled) >= _COMPILED_KEEP:
            del _compiled[next(iter(_compiled))]
        _compiled[key] = (policies, recs)
    return _compiled[key]
