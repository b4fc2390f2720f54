"""attach, detach, status: put policies in force on a cgroup and look at them."""
from __future__ import annotations

import argparse
import sys
import time

from .. import attachments, daemon
from . import service
from ..errors import EXIT_OK
from ..kernel import probe


def _say(msg: str) -> None:
    print(f"bpfsystrace: {msg}", file=sys.stderr)


class Attach:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "attach", help="enforce policies on a cgroup and its descendants",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Compile the policies, load the BPF-LSM programs (once per boot) and enforce
the policies on every process in the cgroup and in all its descendant cgroups,
including ones created later. Returns only once the kernel enforces; the
enforcement stays after this command exits (it is pinned under
/sys/fs/bpf/bpfsystrace). Attaching to a cgroup that is already attached
replaces its policies atomically.

Which policy applies: the one whose 'Policy:' header names the executable a
process runs (compared by file identity, so links and bind mounts count).
Every other process in the cgroup gets --default. Executing a binary that has
a policy is always allowed and switches the process to that policy, so a
service manager can fork, move the child into the cgroup and exec the daemon.""",
            epilog="""\
examples:
  bpfsystrace attach --cgroup named.slice --policy policies/usr_sbin_named
  bpfsystrace attach --cgroup system.slice/named.service --policy /etc/systrace/ --default permit
  bpfsystrace attach --cgroup named.slice --policy policies/ --foreground --log-format json
  bpfsystrace attach --cgroup named.slice --policy policies/ --mode audit   # report, do not deny""")
        p.add_argument("--cgroup", required=True, metavar="CGROUP",
                       help="cgroup v2 path relative to the cgroup2 mount (named.slice, "
                            "system.slice/named.service) or absolute")
        p.add_argument("--policy", action="append", required=True, metavar="FILE|DIR",
                       help="policy file or directory of policy files (repeatable)")
        p.add_argument("--default", default="deny", metavar="deny|permit|FILE",
                       help="policy for processes whose executable has none (default: deny, "
                            "i.e. every file open, bind, connect and exec they try is denied and logged)")
        p.add_argument("--manager", default="auto", metavar="auto|none|PATH",
                       help="service manager binary whose forked children may prepare a service "
                            "inside the cgroup before exec'ing it (auto: PID 1 if it is systemd)")
        p.add_argument("--mode", choices=("enforce", "audit"), default="enforce",
                       help="enforce (default): deny what the policies deny; audit (complain "
                            "mode): decide and count as usual, report every denial as "
                            "'audit deny' but permit it (see 'bpfsystrace suggest')")
        p.add_argument("--foreground", action="store_true",
                       help="stay running as the controller service for this attachment "
                            "(like 'bpfsystrace daemon': follow the cgroup, reload on changes and "
                            "SIGHUP, log events to syslog and standard output, serve metrics)")
        service.add_service_options(p)
        p.set_defaults(run=run_attach)


def run_attach(args) -> int:
    if args.foreground:
        return service.run_foreground(args)
    meta = attachments.attach(args.cgroup, args.policy, args.default, args.manager,
                              progress=lambda m: _say(m + " ...") if args.verbose else None,
                              mode=args.mode)
    n = len(meta.policies)
    verb = "auditing (denials are reported, not enforced)" if meta.mode == "audit" else "enforcing"
    _say(f"{verb} on {meta.cgroup} (generation {meta.gen}): {n} polic{'y' if n == 1 else 'ies'}"
         f", default {meta.default}")
    for op, hook in sorted(probe.missing_hooks().items()):
        _say(f"warning: this kernel has no {hook} hook: {op} is NOT enforced here "
             f"(every {op} call is permitted; Linux 6.0 or later enforces it)")
    return EXIT_OK


class Detach:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser("detach", help="stop enforcing on a cgroup",
                           description="Remove the policies of a cgroup; once nothing is "
                                       "attached the BPF programs are unloaded.")
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--cgroup", metavar="CGROUP", help="the cgroup given to attach")
        g.add_argument("--all", action="store_true", help="detach every cgroup and unload")
        p.set_defaults(run=run_detach)


def run_detach(args) -> int:
    for cg in attachments.detach(args.cgroup, everything=args.all):
        _say(f"detached {cg}")
    return EXIT_OK


class Status:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser("status", help="list attachments and decision counts",
                           description="List every attached cgroup, its policies and how many "
                                       "decisions each permitted and denied (exact kernel counts).")
        p.add_argument("--rules", action="store_true", help="also show hits per rule")
        p.set_defaults(run=run_status)


def run_status(args) -> int:
    targets, counters = attachments.status()
    if not targets:
        print("nothing attached")
        return EXIT_OK
    for t in targets:
        _print_target(t, args.rules)
    pid = daemon.running_pid()
    print(f"controller: bpfsystrace daemon running (pid {pid})" if pid else
          "controller: not running (enforcement does not need it; without it events wait in "
          "the kernel buffer, cgroups recreated are not followed, files are not reloaded)")
    if counters and any(counters):
        names = ("lost events", "path errors", "too long", "inconsistent maps",
                 "no memory", "service manager passes", "exec transitions",
                 "learn repeats", "execs inheriting a policy", "execs detached",
                 "not a name (disconnected or detached)", "own objects protected",
                 "execs entering a policy")
        print("kernel counters: " + ", ".join(f"{n} {c}" for n, c in zip(names, counters) if c))
    return EXIT_OK


def _print_target(t, show_rules: bool) -> None:
    m = t.meta
    if m is None:
        print(f"cgroup id {t.cgroup_id}: generation {t.gen} (no metadata in "
              f"{attachments.RUN_DIR})")
        return
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m.attached_at))
    gone = "" if t.exists else "  [cgroup directory is gone]"
    mode = "" if m.mode == "enforce" else f", mode {m.mode}"
    print(f"{m.cgroup} (id {t.cgroup_id}), generation {t.gen}{mode}, attached {when}{gone}")
    names = [p["binary"] for p in m.policies] + [f"default ({m.default})"]
    for idx, name in enumerate(names):
        allowed = denied = 0
        for rid, hits in t.hits.items():
            if rid < len(m.rules) and m.rules[rid]["policy"] == idx:
                if attachments.rule_action(m, m.rules[rid]) != "permit":
                    denied += hits
                else:
                    allowed += hits
        verdict = "would be denied (audit mode: permitted)" if m.mode == "audit" else "denied"
        src = f" ({m.policies[idx]['file']})" if idx < len(m.policies) else ""
        missing = " [binary not found]" if idx < len(m.policies) and not m.policies[idx]["identity"] else ""
        print(f"  {name}{src}{missing}: {allowed} allowed, {denied} {verdict}")
        if show_rules:
            for rid, r in enumerate(m.rules):
                if r["policy"] == idx:
                    print(f"      {t.hits.get(rid, 0):>8}  {r['op']:<8} {r['where'] or '-'}  {r['text']}")
    if len(m.policies) == 1:
        print(f"  processes running {m.policies[0]['binary']} are under its policy; "
              f"every other process in the cgroup gets the default ({m.default})")
    if m.manager:
        print(f"  service manager {m.manager}: its children may prepare and exec a service")
