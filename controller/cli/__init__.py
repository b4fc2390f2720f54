"""bpfsystrace command line: main(argv) -> exit code.

Each command is a class with add_parser(subparsers), which sets its handler: cmd_<name>(args) -> int.
This is the only place that catches broadly, prints errors and picks exit
codes (bpfsystrace.errors lists them; docs/errors.md documents them).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from .. import errors
from . import attach, check, daemon, diff, doctor, learn, log, run, watch

COMMANDS = (
    run.RunCommand,
    attach.AttachCommand,
    attach.DetachCommand,
    attach.StatusCommand,
    daemon.ReloadCommand,
    daemon.DaemonCommand,
    log.LogCommand,
    learn.LearnCommand,
    learn.SuggestCommand,
    watch.WatchCommand,
    check.CheckCommand,
    check.ExplainCommand,
    check.FmtCommand,
    diff.DiffCommand,
    doctor.DoctorCommand,
)

EPILOG = """\
typical use:
  bpfsystrace check policies/usr_sbin_named          validate a policy, list what is enforced
  bpfsystrace explain policies/usr_sbin_named fsread /etc/group   which rule decides, and why
  bpfsystrace doctor                                 can this host enforce?
  bpfsystrace attach --cgroup named.slice --policy policies/usr_sbin_named
  bpfsystrace status                                 what is attached, allowed/denied counts
  bpfsystrace reload --all                           re-read changed policy files, swap atomically
  bpfsystrace daemon --config /etc/bpfsystrace/bpfsystrace.conf   follow, reload, syslog, metrics
  bpfsystrace log --follow                           denials as systrace logged them
  bpfsystrace learn --cgroup web.slice --duration 300 -o policies/   write policies by watching
  bpfsystrace attach --cgroup web.slice --policy policies/ --mode audit   report, do not deny
  bpfsystrace suggest --from events.json -o policies/ --merge   rules for the audit denials
  bpfsystrace detach --cgroup named.slice

exit codes: 0 ok, 1 policy rejected, 2 usage or target error, 3 host cannot enforce,
4 kernel operation failed, 70 internal error, 128+N killed by signal N.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bpfsystrace",
        description="Enforce OpenBSD systrace policies on Linux with BPF-LSM programs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--version",
        action="version",
        version=version_text(),
        help="show the version and the kernel ABI, and exit",
    )
    _global_options(p, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        cmd.add_parser(sub)
    for sp in sub.choices.values():  # `bpfsystrace check --debug` works too
        _global_options(sp.add_argument_group("global options"), argparse.SUPPRESS)
    return p


def version_text() -> str:
    """'bpfsystrace 0.1.0 (kernel ABI 5)': the ABI the BPF object must carry."""
    from .. import __version__, abi

    return f"bpfsystrace {__version__} (kernel ABI {abi.BST_ABI_VERSION})"


def _global_options(p, default) -> None:
    # SUPPRESS: an option given before the subcommand is not reset by the subparser
    p.add_argument("--debug", action="store_true", default=default, help="show debug logging and tracebacks")
    p.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="show progress and info messages"
    )


class _Signal(BaseException):  # like KeyboardInterrupt: no `except Exception` may swallow it
    def __init__(self, signum):
        self.signum = signum


def _on_signal(signum, _frame):
    raise _Signal(signum)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = getattr(args, "debug", False)
    args.verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="bpfsystrace: %(levelname)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return errors.EXIT_USAGE
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        return args.handler(args)
    except errors.BpfsystraceError as e:
        logging.getLogger("bpfsystrace").debug("%s", e.msgid, exc_info=args.debug)
        print(
            f"bpfsystrace: error: {e.render()}" if not isinstance(e, errors.PolicyError) else e.render(),
            file=sys.stderr,
        )
        return e.exit_code
    except KeyboardInterrupt:
        return errors.EXIT_SIGNAL_BASE + signal.SIGINT
    except _Signal as s:
        return errors.EXIT_SIGNAL_BASE + s.signum
    except BrokenPipeError:
        return errors.EXIT_OK
    except PermissionError as e:  # a file only root may touch (the command did not ask first)
        logging.getLogger("bpfsystrace").debug("permission", exc_info=args.debug)
        where = f" ({e.filename})" if e.filename else ""
        print(
            f"bpfsystrace: error: {args.command} needs root: permission denied{where}; run it with sudo",
            file=sys.stderr,
        )
        return errors.EXIT_USAGE
    except Exception:
        import traceback

        traceback.print_exc()
        print(
            "bpfsystrace: internal error (a bug); please report it with the traceback above", file=sys.stderr
        )
        return errors.EXIT_INTERNAL
