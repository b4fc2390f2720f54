"""Attachments cannot nest: one cgroup's policies in force inside another's."""

from __future__ import annotations

from ..errors import TargetError
from ..kernel import maps
from ..state import load_attachment


def check_nesting(k, cgpath: str, cgid: int) -> None:
    """TargetError if `cgpath` is inside, or holds, a cgroup that is already attached."""
    for other_id in maps.gens_by_target(k):
        if other_id == cgid:
            continue
        meta = load_attachment(other_id)
        other = meta.cgroup if meta else f"cgroup id {other_id}"
        if meta and (
            cgpath.startswith(meta.cgroup.rstrip("/") + "/")
            or meta.cgroup.startswith(cgpath.rstrip("/") + "/")
        ):
            raise TargetError(
                f"{cgpath} is nested with the already attached {other}; "
                f"attachments cannot nest (detach {other} first)"
            )
