"""daemon, reload: run the controller service, replace policies in force."""

from __future__ import annotations

import argparse
import logging
import sys

from .. import attachments, service
from ..errors import EXIT_OK, EXIT_POLICY, BpfsystraceError, PolicyError, TargetError, require_root
from ..kernel import system


def add_service_options(p) -> None:
    """Options shared by `daemon` and `attach --foreground`."""
    g = p.add_argument_group("service options")
    g.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help="serve Prometheus metrics on http://HOST:PORT/metrics (e.g. 127.0.0.1:9479)",
    )
    g.add_argument(
        "--no-syslog",
        dest="syslog",
        action="store_false",
        default=None,
        help="do not send events to syslog (default: AUTHPRIV.WARNING to /dev/log)",
    )
    g.add_argument("--syslog-socket", metavar="PATH", help="the syslog socket (default /dev/log)")
    g.add_argument(
        "--log-file", metavar="FILE|-", help="also append every event to FILE ('-': standard output)"
    )
    g.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="format of --log-file: systrace's text lines (default) or JSON lines",
    )


def options_from(args, base: service.Options | None = None) -> service.Options:
    opts = base or service.Options()
    if args.metrics_address:
        opts.metrics_address = args.metrics_address
    if args.syslog is not None:
        opts.syslog = args.syslog
    if args.syslog_socket:
        opts.syslog_socket = args.syslog_socket
    if args.log_file:
        opts.log_file = args.log_file
    if args.log_format:
        opts.log_format = args.log_format
    return opts


class DaemonCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "daemon",
            help="run the controller service (follow cgroups, reload, log, metrics)",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Keep attachments in force and report what they decide, until SIGTERM.

* Attaches what the configuration file lists ([attach NAME] sections), or
  adopts it when the pinned state already enforces the same policy files.
* Follows every attachment (also those made with 'bpfsystrace attach'): a
  cgroup removed and created again, as systemd does when a service restarts,
  is confined again within 0.2 s.
* Reloads policies atomically on SIGHUP, on 'bpfsystrace reload', and when a
  policy file changes; a policy that fails to compile leaves the old one in
  force and the error is logged.
* Sends every denial and every 'log' rule match to syslog (AUTHPRIV.WARNING)
  in systrace's format, optionally to a file as text or JSON lines; reports
  events lost when the kernel's buffer was full.
* Serves Prometheus metrics read from the kernel's counters.

Enforcement does not depend on this process: kill it and every decision
stays the same; start it again and it carries on from the pinned state.""",
            epilog="""\
configuration file (INI), e.g. /etc/bpfsystrace/bpfsystrace.conf:
  [daemon]
  metrics-address = 127.0.0.1:9479
  log-file = /var/log/bpfsystrace.json
  log-format = json
  [attach named]
  cgroup = system.slice/named.service
  policy = /etc/bpfsystrace/policies/usr_sbin_named
  default = deny

examples:
  bpfsystrace daemon --config /etc/bpfsystrace/bpfsystrace.conf
  bpfsystrace daemon --metrics-address 127.0.0.1:9479 --log-file - --log-format json
  systemctl reload bpfsystrace      (SIGHUP: reload every policy)""",
        )
        p.add_argument("--config", metavar="FILE", help="configuration file (see below)")
        add_service_options(p)
        p.set_defaults(handler=cmd_daemon)


def _daemon_logging(args) -> None:
    """A service logs what it does (start, reloads, stop) at INFO, which the other
    commands print only with -v: the daemon shows INFO and above."""
    if not args.debug:
        logging.getLogger("bpfsystrace").setLevel(logging.INFO)


def cmd_daemon(args) -> int:
    require_root("daemon")
    _daemon_logging(args)
    base = service.read_config(args.config) if args.config else None
    return service.Daemon(options_from(args, base)).run()


def run_foreground(args) -> int:
    """attach --foreground: the daemon, for this one attachment."""
    _daemon_logging(args)
    spec = service.Spec(
        args.cgroup,
        args.cgroup,
        args.policy,
        args.default,
        args.manager,
        mode=getattr(args, "mode", "enforce"),
    )
    opts = options_from(args, service.Options(specs=[spec]))
    if opts.log_file is None:
        opts.log_file = "-"
    return service.Daemon(opts).run()


class ReloadCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "reload",
            help="re-read the policy files of attachments and swap them in atomically",
            description="Compile the policy files an attachment was made from again and replace "
            "the policies in force with one map update. If anything fails (a syntax "
            "error, a missing or empty file, a policy in force that the files no "
            "longer hold) the old policies stay in force and the error is "
            "printed (exit 1). The running daemon notices by itself.",
            epilog="examples:\n  bpfsystrace reload --all\n  bpfsystrace reload --cgroup named.slice\n"
            "  bpfsystrace reload --cgroup named.slice --allow-drop   # a policy file was "
            "removed on purpose\n"
            "  bpfsystrace reload --cgroup named.slice --dry-run   # what would change "
            "(as 'bpfsystrace diff')",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--cgroup", metavar="CGROUP", help="the cgroup given to attach")
        g.add_argument("--all", action="store_true", help="every attachment")
        p.add_argument(
            "--allow-drop",
            action="store_true",
            help="accept a new generation that lacks a policy in force (a policy "
            "file removed or emptied on purpose); without it such a reload is "
            "refused and the old generation stays",
        )
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="swap nothing: print what the reload would change in decisions, as "
            "'bpfsystrace diff' does (exit 0 nothing, 1 changes, 2 trouble)",
        )
        p.set_defaults(handler=cmd_reload)


def cmd_reload(args) -> int:
    require_root("reload")
    metas = attachments.all_attachments()
    if not args.all:
        path = system.resolve_cgroup(args.cgroup)
        metas = [m for m in metas if m.cgroup == path]
        if not metas:
            raise TargetError(f"{path} is not attached")
    if not metas:
        print("nothing attached")
        return EXIT_OK
    if args.dry_run:
        from . import diff

        return diff.dry_run(metas)
    status = EXIT_OK
    for meta in metas:
        try:
            new = attachments.reload(meta, allow_drop=args.allow_drop)
        except PolicyError as e:
            print(e.render(), file=sys.stderr)
            print(
                f"bpfsystrace: {meta.cgroup}: reload refused, generation {meta.gen} stays in force",
                file=sys.stderr,
            )
            status = EXIT_POLICY
            continue
        except BpfsystraceError as e:
            print(
                f"bpfsystrace: error: {meta.cgroup}: {e.render()}\nbpfsystrace: "
                f"generation {meta.gen} stays in force",
                file=sys.stderr,
            )
            status = max(status, e.exit_code)
            continue
        print(f"bpfsystrace: {new.cgroup}: generation {meta.gen} -> {new.gen}", file=sys.stderr)
    return status
