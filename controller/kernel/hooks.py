"""Complete mediation: the class of every LSM hook of the kernel.

The kernel's own list of LSM hooks (a BPF stub `bpf_lsm_<hook>` in its BTF
for each) is the checklist (design: "Security model"). hook_table.py holds
the judgement of each, one line per hook; this module reads it into Hook
records and compares it with a kernel's list. A hook of the kernel that the
table does not name is unclassified: a door nobody has judged
(`bpfsystrace check --hooks` exits 1, tests/kernel/test_hooks.py fails).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import hook_table, lsm

DECIDED = "DECIDED"  # a bpfsystrace program decides it (SEC("lsm/<hook>") in bpf/)
OPEN = "OPEN"  # not decided, and a confined task can use it: a door still open
HARMLESS = "HARMLESS"  # a confined task cannot reach anything outside its policy through it
NOT_ATTACHABLE = "NOT_ATTACHABLE"  # no BPF program can decide it
CLASSES = (DECIDED, OPEN, HARMLESS, NOT_ATTACHABLE)

# bpf_lsm_* functions that are BPF-LSM's own machinery, not hooks
# (kernel/bpf/bpf_lsm.c, fs/bpf_fs_kfuncs.c): no program attaches to them.
NOT_HOOKS = frozenset(
    {
        "find_cgroup_shim",
        "func_proto",
        "get_retval_range",
        "has_d_inode_locked",
        "hook_returns_errno",
        "init",
        "is_sleepable_hook",
        "is_trusted",
        "verify_prog",
    }
)


@dataclass(frozen=True, slots=True)
class Hook:
    """One LSM hook and its class. `what`: for DECIDED the operation(s) and
    object our program decides, otherwise why; `call`: for OPEN the
    systrace-style name (native-fcntl) a future rule would use."""

    name: str
    cls: str
    what: str
    call: str = ""

    def text(self) -> str:
        """What check --hooks prints after the class."""
        return f"{self.call}: {self.what}" if self.call else self.what


def parse(text: str) -> tuple[tuple[Hook, ...], list[str]]:
    """hook_table.TABLE's lines -> (the hooks, the names given more than once).
    A line of another shape is a bug of the table: ValueError."""
    rows: list[Hook] = []
    seen: set[str] = set()
    twice: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or parts[1] not in CLASSES:
            raise ValueError(f"hook_table.TABLE line {n}: not 'HOOK CLASS TEXT': {line!r}")
        name, cls, what = parts
        call = ""
        if cls == OPEN:
            call, sep, what = what.partition(": ")
            if not sep or not call.startswith("native-"):
                raise ValueError(f"hook_table.TABLE line {n}: OPEN needs 'native-CALL: road': {line!r}")
        if name in seen:
            twice.append(name)
        seen.add(name)
        rows.append(Hook(name, cls, what.strip(), call))
    return tuple(rows), twice


TABLE, DUPLICATES = parse(hook_table.TABLE)
BY_NAME = {h.name: h for h in TABLE}


def kernel_hooks(btf_path: str | None = None) -> set[str]:
    """The LSM hooks of a kernel, read from its BTF (default: the running
    kernel's, /sys/kernel/btf/vmlinux) or from a vmlinux file: every
    `bpf_lsm_<hook>` but BPF-LSM's own functions (NOT_HOOKS). OSError when
    the file cannot be read."""
    names = lsm.bpf_lsm_names(btf_path)
    if names is None:
        raise OSError(f"cannot read BTF from {btf_path or lsm.VMLINUX_BTF}")
    return names - NOT_HOOKS


def classify(hook: str) -> Hook | None:
    """The table's entry for a hook, None if the table does not know it."""
    return BY_NAME.get(hook)


def unclassified(hooks) -> list[str]:
    """The hooks (names) the table does not know, sorted."""
    return sorted(h for h in hooks if h not in BY_NAME)


def counts(hooks) -> dict[str, int]:
    """{class: how many of these hooks}, every class named, unclassified ones left out."""
    out = dict.fromkeys(CLASSES, 0)
    for h in hooks:
        if h in BY_NAME:
            out[BY_NAME[h].cls] += 1
    return out
