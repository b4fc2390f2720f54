"""attach, detach, status: put policies in force on a cgroup and look at them."""

from __future__ import annotations

import argparse
import os
import sys
import time

from .. import attachments, service
from ..errors import EXIT_KERNEL, EXIT_OK, require_root
from ..kernel import loader, lsm, system
from . import daemon


def _say(msg: str) -> None:
    print(f"bpfsystrace: {msg}", file=sys.stderr)


class AttachCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "attach",
            help="enforce policies on a cgroup and its descendants",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            description="""\
Compile the policies, load the BPF-LSM programs (once per boot) and enforce
the policies on every process in the cgroup and in all its descendant cgroups,
including ones created later. Returns only once the kernel enforces; the
enforcement stays after this command exits (it is pinned under
/sys/fs/bpf/bpfsystrace). Attaching to a cgroup that is already attached
replaces its policies atomically.

Which policy applies: the one whose 'Policy:' header names the executable a
process runs (compared by file identity, so links and bind mounts count, or
by its path, so a package upgrade keeps it). Every other process in the
cgroup gets --default. The caller's execve rules decide every exec; a
permitted exec of a binary that has a policy switches the process to it. A
process that came in from outside and has not exec'd there (a service
manager's child, a shell, cgexec) may exec a binary that has a policy: that
is how the daemon enters it (docs/enforcement.md).""",
            epilog="""\
examples:
  bpfsystrace attach --cgroup named.slice --policy policies/usr_sbin_named
  bpfsystrace attach --cgroup system.slice/named.service --policy /etc/systrace/ --default permit
  bpfsystrace attach --cgroup named.slice --policy policies/ --foreground --log-format json
  bpfsystrace attach --cgroup named.slice --policy policies/ --mode audit   # report, do not deny""",
        )
        p.add_argument(
            "--cgroup",
            required=True,
            metavar="CGROUP",
            help="cgroup v2 path relative to the cgroup2 mount (named.slice, "
            "system.slice/named.service) or absolute",
        )
        p.add_argument(
            "--policy",
            action="append",
            required=True,
            metavar="FILE|DIR",
            help="policy file or directory of policy files (repeatable)",
        )
        p.add_argument(
            "--default",
            default="deny",
            metavar="deny|permit|FILE",
            help="policy for processes whose executable has none (default: deny, "
            "i.e. every file open, bind, connect and exec they try is denied and logged)",
        )
        p.add_argument(
            "--manager",
            default="auto",
            metavar="auto|none|PATH",
            help="service manager binary whose forked children may prepare a service "
            "inside the cgroup before exec'ing it (auto: PID 1 if it is systemd)",
        )
        p.add_argument(
            "--mode",
            choices=("enforce", "audit"),
            default="enforce",
            help="enforce (default): deny what the policies deny; audit (complain "
            "mode): decide and count as usual, report every denial as "
            "'audit deny' but permit it (see 'bpfsystrace suggest')",
        )
        p.add_argument(
            "--foreground",
            action="store_true",
            help="stay running as the controller service for this attachment "
            "(like 'bpfsystrace daemon': follow the cgroup, reload on changes and "
            "SIGHUP, log events to syslog and standard output, serve metrics)",
        )
        daemon.add_service_options(p)
        p.set_defaults(handler=cmd_attach)


def cmd_attach(args) -> int:
    require_root("attach")
    if args.foreground:
        return daemon.run_foreground(args)
    meta = attachments.attach(
        args.cgroup,
        args.policy,
        args.default,
        args.manager,
        progress=lambda m: _say(m + " ...") if args.verbose else None,
        mode=args.mode,
    )
    n = len(meta.policies)
    verb = "auditing (denials are reported, not enforced)" if meta.mode == "audit" else "enforcing"
    _say(
        f"{verb} on {meta.cgroup} (generation {meta.gen}): {n} polic{'y' if n == 1 else 'ies'}"
        f", default {meta.default}"
    )
    for op, hook in sorted(lsm.missing_hooks().items()):
        _say(f"warning: {lsm.not_enforced(op, hook)}")
    return EXIT_OK


class DetachCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "detach",
            help="stop enforcing on a cgroup",
            description="Remove the policies of a cgroup; once nothing is "
            "attached the BPF programs are unloaded. A cgroup that "
            "is not attached is an error (exit 2); --all with "
            "nothing attached says so and exits 0.",
            epilog="examples:\n  bpfsystrace detach --cgroup named.slice\n  bpfsystrace detach --all",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--cgroup", metavar="CGROUP", help="the cgroup given to attach")
        g.add_argument("--all", action="store_true", help="detach every cgroup and unload")
        p.set_defaults(handler=cmd_detach)


def cmd_detach(args) -> int:
    require_root("detach")
    removed = attachments.detach(args.cgroup, everything=args.all)
    for cg in removed:
        _say(f"detached {cg}")
    if not removed:
        _say("nothing attached")
    return EXIT_OK


class StatusCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "status",
            help="list attachments and decision counts",
            description="List every attached cgroup, its policies and how many "
            "decisions each permitted and denied (exact kernel "
            "counts). Without root, what is recorded in "
            f"{attachments.RUN_DIR} is shown without counts. Exit 0; "
            "exit 4 when attachments are recorded but the kernel "
            "state (pinned programs and maps) is gone.",
            epilog="examples:\n  bpfsystrace status\n"
            "  bpfsystrace status --rules        hits of every rule that "
            "has hits or was written in a policy\n"
            "  bpfsystrace status --rules --all  also the implicit rows "
            "that never matched",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--rules",
            action="store_true",
            help="also show hits per rule (rules written in a policy, and implicit "
            "ones that decided something)",
        )
        p.add_argument(
            "--all", action="store_true", help="with --rules: every row, also implicit rules without hits"
        )
        p.set_defaults(handler=cmd_status)


def cmd_status(args) -> int:
    if os.geteuid() != 0:
        return _status_unprivileged()
    targets, counters = attachments.status()
    lost = attachments.lost_state(targets)
    if not targets and not lost:
        print("nothing attached")
        return EXIT_OK
    for t in targets:
        _print_target(t, args.rules, args.all)
    if lost:
        _print_lost(lost)
    pid = service.running_pid()
    print(
        f"controller: bpfsystrace daemon running (pid {pid})"
        if pid
        else "controller: not running (enforcement does not need it; without it events wait in "
        "the kernel buffer, cgroups recreated are not followed, files are not reloaded)"
    )
    if counters and any(counters):
        names = (
            "lost events",
            "path errors",
            "too long",
            "inconsistent maps",
            "no memory",
            "exempt launcher passes",
            "exec transitions",
            "learn repeats",
            "execs inheriting a policy",
            "execs detached",
            "not a name (disconnected or detached)",
            "own objects protected",
            "execs entering a policy",
            "programs found by path",
            "clones into a cgroup denied",
            "insecure execs killed",
        )
        print("kernel counters: " + ", ".join(f"{n} {c}" for n, c in zip(names, counters, strict=False) if c))
    return EXIT_KERNEL if lost else EXIT_OK


def _print_lost(lost) -> None:
    for m in lost:
        print(
            f"{m.cgroup} (id {m.cgroup_id}), generation {m.gen}: NOT ENFORCED: recorded in "
            f"{attachments.RUN_DIR} but its kernel state is gone "
            f"({attachments.lost_reason()})"
        )
    print(
        f"error: {len(lost)} attachment(s) recorded but not enforced: the pinned BPF programs "
        f"or maps under {loader.PIN_ROOT} were removed. The daemon re-attaches from its "
        f"configuration; without it run 'bpfsystrace reload --all' (or attach again)"
    )


def _status_unprivileged() -> int:
    metas = attachments.all_attachments()
    if not metas:
        print(
            f"nothing attached (as recorded in {attachments.RUN_DIR}; "
            f"'sudo bpfsystrace status' asks the kernel)"
        )
        return EXIT_OK
    for m in metas:
        names = ", ".join([p["binary"] for p in m.policies] + [f"default ({m.default})"])
        mode = "" if m.mode == "enforce" else f", mode {m.mode}"
        print(f"{m.cgroup} (id {m.cgroup_id}), generation {m.gen}{mode}: {names}")
    print(
        "(recorded in " + attachments.RUN_DIR + "; decision counts and whether the kernel "
        "still enforces need root: sudo bpfsystrace status)"
    )
    return EXIT_OK


def _program_files(pol: dict, files: list[tuple[int, int]]) -> str:
    """Which files a policy applies to now: the kernel's exes entries, against
    the file at the policy's path today (a package upgrade renames a new one
    over it; the kernel adds it at its first exec, docs/enforcement.md)."""
    try:
        now = system.file_identity(pol["binary"])
    except OSError:
        now = None
    known = ", ".join(f"{dev >> 20}:{dev & 0xFFFFF} inode {ino}" for dev, ino in sorted(files)) or "none yet"
    if now is None:
        return f"applies to: {known}; nothing is at {pol['binary']} now (a file installed there gets it at its exec)"
    if now in files:
        return f"applies to: {known}; {pol['binary']} is inode {now[1]} (in force)"
    return (
        f"applies to: {known}; {pol['binary']} is now inode {now[1]}, a new file (an upgrade): "
        f"it gets this policy at its next exec"
    )


def _print_target(t, show_rules: bool, every_row: bool = False) -> None:
    m = t.meta
    if m is None:
        print(f"cgroup id {t.cgroup_id}: generation {t.gen} (no metadata in {attachments.RUN_DIR})")
        return
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m.attached_at))
    gone = "" if t.exists else "  [cgroup directory is gone]"
    mode = "" if m.mode == "enforce" else f", mode {m.mode}"
    print(f"{m.cgroup} (id {t.cgroup_id}), generation {t.gen}{mode}, attached {when}{gone}")
    print(f"  kernel memory: {t.memory} bytes (DFA tables, rules, hit counters)")
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
        if idx < len(m.policies):
            print(f"      {_program_files(m.policies[idx], (t.programs or {}).get(idx, []))}")
        if show_rules:
            for rid, r in enumerate(m.rules):
                hits = t.hits.get(rid, 0)
                if r["policy"] == idx and (hits or r["where"] or every_row):
                    print(f"      {hits:>8}  {r['op']:<8} {r['where'] or '-'}  {r['text']}")
    if len(m.policies) == 1:
        print(
            f"  processes running {m.policies[0]['binary']} are under its policy; "
            f"every other process in the cgroup gets the default ({m.default})"
        )
    if m.manager:
        print(f"  service manager {m.manager}: its children may prepare and exec a service")
