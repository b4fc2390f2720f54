"""Error classes, diagnostics and exit codes: the one place they are defined.

Every error a user can cause is a subclass of BpfsystraceError. Its docstring
explains it, `exit_code` is what the CLI returns, and `msgid` (the class name)
goes into logs. Anything else that escapes is a bug (exit 70, traceback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Exit codes (docs/errors.md lists them; tests/cli checks them).
EXIT_OK = 0
EXIT_POLICY = 1  # policy rejected (parse/check/compile)
EXIT_USAGE = 2  # bad command line
EXIT_UNSUPPORTED = 3  # host cannot do BPF-LSM enforcement
EXIT_KERNEL = 4  # a kernel operation failed
EXIT_INTERNAL = 70  # a bug
EXIT_SIGNAL_BASE = 128


@dataclass(frozen=True, slots=True)
class Coord:
    """A position in a policy file; prints as file:line:col."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a policy, at a coordinate, with optional hints.

    `source` is the text of the offending line (for the caret display) and
    `length` how many columns to underline.
    """

    coord: Coord
    message: str
    severity: str = "error"  # "error" or "warning"
    source: str | None = None
    length: int = 1
    hints: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        lines = [f"{self.coord}: {self.severity}: {self.message}"]
        if self.source is not None:
            src = self.source.rstrip("\n").expandtabs(1)
            lines.append(src)
            col = max(self.coord.column, 1)
            lines.append(" " * (col - 1) + "^" + "~" * max(self.length - 1, 0))
        lines.extend(f"hint: {h}" for h in self.hints)
        return "\n".join(lines)


class BpfsystraceError(Exception):
    """An error the user can act on."""

    exit_code = 2

    @property
    def msgid(self) -> str:
        return type(self).__qualname__

    def render(self) -> str:
        return str(self)


class UsageError(BpfsystraceError):
    """The command line does not make sense."""

    exit_code = EXIT_USAGE


class NeedsRoot(UsageError):
    """The command changes or reads kernel state that only root may touch."""

    def __init__(self, what: str):
        super().__init__(f"{what} needs root (CAP_SYS_ADMIN and CAP_BPF); run it with sudo")


def require_root(what: str) -> None:
    import os

    if os.geteuid() != 0:
        raise NeedsRoot(what)


class PolicyError(BpfsystraceError):
    """One or more policies were rejected; carries every diagnostic found."""

    exit_code = EXIT_POLICY
    partial: Any = None  # a syntax error's: the file as far as it parsed (pipeline.parse_all)

    def __init__(self, diagnostics):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def render(self) -> str:
        n = sum(1 for d in self.diagnostics if d.severity == "error")
        body = "\n".join(d.render() for d in self.diagnostics)
        return f"{body}\n{n} error{'s' if n != 1 else ''}; nothing was loaded"


class UnsupportedKernel(BpfsystraceError):
    """This host cannot enforce policies with BPF-LSM."""

    exit_code = EXIT_UNSUPPORTED
    what = "this host cannot enforce policies"  # the first words of render()

    def __init__(self, reason: str, hint: str | None = None):
        self.reason = reason
        self.hint = hint
        super().__init__(reason)

    def render(self) -> str:
        text = f"{self.what}: {self.reason}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class MissingObject(UnsupportedKernel):
    """This installation lacks its compiled BPF object (not a kernel problem)."""

    what = "this installation of bpfsystrace has no BPF object"


class VerifierRefusal(UnsupportedKernel):
    """The kernel can load BPF-LSM programs, but its verifier refused one of ours: a bug."""

    what = "bpfsystrace's programs do not load on this kernel"


class KernelError(BpfsystraceError):
    """A kernel operation (bpf(2), mount, cgroup access) failed."""

    exit_code = EXIT_KERNEL

    def __init__(self, op: str, obj: str, err: int, hint: str | None = None):
        import os

        self.op, self.obj, self.errno = op, obj, err
        self.hint = hint
        msg = f"{op} {obj}: {os.strerror(err) if err > 0 else 'failed'}"
        if err > 0:
            import errno as _errno

            msg += f" ({_errno.errorcode.get(err, err)})"
        super().__init__(msg)

    def render(self) -> str:
        text = str(self)
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class TargetError(BpfsystraceError):
    """The target cgroup or attachment does not exist or is unusable."""

    exit_code = EXIT_USAGE


class StateError(BpfsystraceError):
    """A file under /run/bpfsystrace that this version cannot read (another version wrote it)."""

    exit_code = EXIT_USAGE

    def __init__(self, path: str, why: str):
        self.path, self.why = path, why
        super().__init__(
            f"{path}: cannot read this attachment state: {why}; it was written "
            f"by another version of bpfsystrace"
        )

    def render(self) -> str:
        # the targets map's pin (kernel/loader.py's MAP_DIR; errors.py imports nothing)
        return (
            f"{self}\nhint: detach it with the version of bpfsystrace that attached it; "
            f"or, once 'bpftool map dump pinned /sys/fs/bpf/bpfsystrace/maps/targets' "
            f"shows that its cgroup is no longer a target, remove {self.path}"
        )
