"""The controller service: keeps attachments in force and reports what they decide.

Enforcement never depends on this process: the programs, maps and links are
pinned in bpffs. The daemon adds what the kernel cannot do alone:

* attachments from its configuration are made (or adopted, when the pinned
  state already enforces the same policy files: no gap, nothing duplicated);
* every attachment recorded in /run/bpfsystrace is *followed*: when its cgroup
  is removed and created again (systemd does this on every service restart)
  the new cgroup gets the same policy generation within one tick (0.2 s);
* policies are reloaded atomically on SIGHUP and when a policy file changes
  (checked every second, as systrace rereads changed policies; reloaded once the
  files stayed unchanged for one check); a policy that
  does not compile leaves the old one in force, and says why;
* the kernel's event ring buffer is drained to syslog and the log file;
  lost events are counted by the kernel and reported here;
* Prometheus metrics are served from the kernel's counters.
"""

from __future__ import annotations

import configparser
import ctypes as C
import fcntl
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from . import attachments
from .errors import BpfsystraceError, TargetError, UsageError
from .kernel import libbpf, loader, maps, system
from .observe import events, journal, metrics, sinks

log = logging.getLogger(__name__)

TICK_S = 0.2  # cgroup follow and signal latency
CHECK_EVERY_S = 1.0  # policy file changes, lost events, pending cgroups
PID_FILE = "daemon.pid"
LOST_FILE = "lost-reported"  # lost-event count already reported (survives restarts)


@dataclass
class Spec:
    """One attachment the configuration asks for."""

    name: str
    cgroup: str
    policies: list[str]
    default: str = "deny"
    manager: str = "auto"
    create: bool = False  # make the cgroup if missing, so nothing ever runs in it unconfined
    mode: str = "enforce"  # or audit: report denials, permit them


@dataclass
class Options:
    specs: list[Spec] = field(default_factory=list)
    metrics_address: str | None = None
    syslog: bool = True
    syslog_socket: str = sinks.DEFAULT_SYSLOG_SOCKET
    log_file: str | None = None
    log_format: str = "text"


_BOOL = {
    "yes": True,
    "true": True,
    "on": True,
    "1": True,
    "no": False,
    "false": False,
    "off": False,
    "0": False,
}


def read_config(path: str) -> Options:
    """The daemon's configuration file (INI; docs/operations.md shows one)."""
    cp = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as f:
            cp.read_file(f)
    except OSError as e:
        raise UsageError(f"cannot read configuration {path}: {e.strerror}") from None
    except configparser.Error as e:
        raise UsageError(f"{path}: {e}") from None
    opts = Options()
    for section in cp.sections():
        sec = cp[section]
        where = f"{path} [{section}]"
        if section == "daemon":
            known = {"metrics-address", "syslog", "syslog-socket", "log-file", "log-format"}
            _no_unknown(sec, known, where)
            opts.metrics_address = sec.get("metrics-address") or None
            val = sec.get("syslog", "yes").lower()
            if val not in _BOOL:
                raise UsageError(f"{where}: syslog = {val}: say yes or no")
            opts.syslog = _BOOL[val]
            opts.syslog_socket = sec.get("syslog-socket", opts.syslog_socket)
            opts.log_file = sec.get("log-file") or None
            opts.log_format = sec.get("log-format", "text")
            if opts.log_format not in ("text", "json"):
                raise UsageError(f"{where}: log-format = {opts.log_format}: text or json")
        elif section.startswith("attach "):
            _no_unknown(sec, {"cgroup", "policy", "default", "manager", "create", "mode"}, where)
            if "cgroup" not in sec or "policy" not in sec:
                raise UsageError(
                    f"{where}: needs 'cgroup =' and 'policy =' (one or more "
                    f"files or directories, one per line)"
                )
            base = os.path.dirname(os.path.abspath(path))
            pols = [os.path.join(base, p) for p in sec["policy"].split()]
            default = sec.get("default", "deny")
            if default not in ("deny", "permit"):
                default = os.path.join(base, default)
            create = sec.get("create", "yes").lower()
            if create not in _BOOL:
                raise UsageError(f"{where}: create = {create}: say yes or no")
            mode = sec.get("mode", "enforce")
            if mode not in ("enforce", "audit"):
                raise UsageError(f"{where}: mode = {mode}: enforce or audit")
            opts.specs.append(
                Spec(
                    section[7:].strip(),
                    sec["cgroup"],
                    pols,
                    default,
                    sec.get("manager", "auto"),
                    _BOOL[create],
                    mode,
                )
            )
        else:
            raise UsageError(f"{path}: unknown section [{section}] (expected [daemon] or [attach NAME])")
    return opts


def _no_unknown(sec, known, where):
    for key in sec:
        if key not in known:
            raise UsageError(f"{where}: unknown setting '{key}' (known: {', '.join(sorted(known))})")


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) about our state; nothing when not run by systemd."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(path)
            s.send(state.encode())
    except OSError as e:
        log.debug("sd_notify(%s): %s", state, e)


class Daemon:
    def __init__(self, opts: Options):
        self.opts = opts
        self.sinks: list[tuple[str, Any]] = []  # ("syslog", sinks.Syslog) / ("file", sinks.LogFile)
        self.syslog: sinks.Syslog | None
        if opts.syslog:
            self.syslog = sinks.Syslog(opts.syslog_socket)
            self.sinks.append(("syslog", self.syslog))
        else:
            self.syslog = None
        if opts.log_file:
            self.sinks.append(("file", sinks.LogFile(opts.log_file, opts.log_format)))
        self.pending: dict[str, Spec] = {}
        self.journal: journal.Writer | None = None  # the ring buffer's one consumer
        self.journal_err = ""
        self.gone: set[int] = set()  # attachments whose cgroup is missing (logged once)
        self.bad_fp: dict[int, str] = {}  # fingerprints that failed to reload (logged once)
        self.settling: dict[int, str] = {}  # changed fingerprints waiting one check to settle
        self.lost_seen: int | None = None
        self.lost_alarm = False  # kernel state lost, CRIT logged (once per episode)
        self.relost_err: dict[int, str] = {}  # re-attach failures (logged once each)
        self.rb: libbpf.RingBuffer | None = None
        self.rb_ino: int | None = None
        self.kernel: loader.Kernel | None = None
        self.stop = False
        self.hup = False
        self.server: Any = None  # metrics.serve's server while the exporter runs
        self.pidfd: int | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def run(self) -> int:
        self._claim_pidfile()
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            loader.open_kernel(load=True).close()  # a host that cannot enforce: say so, exit 3
            for spec in self.opts.specs:
                self._ensure(spec)
            if self.opts.metrics_address:
                self.server = metrics.serve(self.opts.metrics_address, metrics.KernelCollector(self.sinks))
                log.info("serving metrics on http://%s/metrics", self.opts.metrics_address)
            self._open_events()
            log.info(
                "running: %d attachment(s) followed, %d waiting for their cgroup",
                len(attachments.all_attachments()),
                len(self.pending),
            )
            sd_notify("READY=1")
            next_check = 0.0
            while not self.stop:
                self._drain()
                if self.hup:
                    self.hup = False
                    self._reload_all(forced=True)
                self._follow()
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + CHECK_EVERY_S
                    self._periodic()
            self._drain(final=True)
            sd_notify("STOPPING=1")
            log.info("stopping; the attachments stay in force (pinned in %s)", loader.PIN_ROOT)
            return 0
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            self._close()

    def _on_signal(self, signum, _frame):
        if signum == signal.SIGHUP:
            self.hup = True
        else:
            self.stop = True

    def _claim_pidfile(self) -> None:
        os.makedirs(attachments.RUN_DIR, mode=0o755, exist_ok=True)
        path = os.path.join(attachments.RUN_DIR, PID_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode().strip() or "?"
            os.close(fd)
            raise UsageError(
                f"another bpfsystrace daemon (pid {other}) is running; "
                f"'bpfsystrace reload' or SIGHUP makes it reload"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.pidfd = fd

    def _close(self) -> None:
        try:
            if self.server is not None:
                self.server.shutdown()
            if self.rb is not None:
                self.rb.close()
            if self.kernel is not None:
                self.kernel.close()
            for _, s in self.sinks:
                s.close()
            if self.journal is not None:
                self.journal.close()
        finally:
            self._release_pidfile()

    def _release_pidfile(self) -> None:
        """No stale pid file: it is unlinked while we still hold its lock."""
        if self.pidfd is None:
            return
        try:
            os.unlink(os.path.join(attachments.RUN_DIR, PID_FILE))
            os.rmdir(attachments.RUN_DIR)  # only when empty
        except OSError:
            pass
        os.close(self.pidfd)
        self.pidfd = None

    # --- attachments -----------------------------------------------------------------------
    def _ensure(self, spec: Spec) -> None:
        """Attach as configured, or adopt the pinned state when it is the same policy."""
        cgpath = system.resolve_cgroup(spec.cgroup)
        if spec.create and not os.path.isdir(cgpath):
            try:
                os.makedirs(cgpath)
                log.info(
                    "[attach %s] created cgroup %s, to confine it before anything runs in it",
                    spec.name,
                    cgpath,
                )
            except OSError as e:
                log.error("[attach %s] cannot create cgroup %s: %s", spec.name, cgpath, e.strerror)
        try:
            cgid = system.cgroup_id(cgpath)
        except TargetError:
            if spec.name not in self.pending:
                log.warning(
                    "[attach %s] cgroup %s does not exist yet: it will be confined as soon as it appears",
                    spec.name,
                    spec.cgroup,
                )
            self.pending[spec.name] = spec
            return
        self.pending.pop(spec.name, None)
        meta = attachments.load_attachment(cgid) if loader.is_loaded() else None
        if meta is not None and self._same(meta, spec):
            try:
                fp = attachments.fingerprint(meta.sources, meta.default_spec)
            except (BpfsystraceError, OSError):
                fp = None
            if fp == meta.fingerprint and self._is_live(cgid, meta.gen):
                log.info(
                    "[attach %s] adopted %s (generation %d): already enforcing these policies",
                    spec.name,
                    cgpath,
                    meta.gen,
                )
                return
        meta = attachments.attach(cgpath, spec.policies, spec.default, spec.manager, mode=spec.mode)
        log.info(
            "[attach %s] " + ("auditing" if spec.mode == "audit" else "enforcing") + " on %s (generation %d)",
            spec.name,
            meta.cgroup,
            meta.gen,
        )

    @staticmethod
    def _same(meta, spec) -> bool:
        default = spec.default if spec.default in ("deny", "permit") else os.path.abspath(spec.default)
        return (
            meta.sources == [os.path.abspath(p) for p in spec.policies]
            and meta.default_spec == default
            and meta.manager_spec == spec.manager
            and meta.mode == spec.mode
        )

    def _is_live(self, cgid: int, gen: int) -> bool:
        k = loader.open_kernel()
        try:
            t = k.targets.lookup(C.c_uint64(cgid))
            return t is not None and t.gen == gen
        finally:
            k.close()

    def _follow(self) -> None:
        """Cgroups removed and created again get their policies back."""
        for meta in attachments.all_attachments():
            try:
                cur = system.cgroup_id(meta.cgroup)
            except OSError:
                if meta.cgroup_id not in self.gone:
                    self.gone.add(meta.cgroup_id)
                    log.warning(
                        "cgroup %s is gone; its policies apply again as soon as it is created again",
                        meta.cgroup,
                    )
                continue
            if cur == meta.cgroup_id:
                self.gone.discard(meta.cgroup_id)
                continue
            old_id = meta.cgroup_id
            try:
                attachments.retarget(meta, cur)
            except BpfsystraceError as e:
                log.error("cannot confine the new %s: %s", meta.cgroup, e.render())
                continue
            self.gone.discard(old_id)
            log.warning(
                "cgroup %s was created again (id %d -> %d): generation %d enforced on it",
                meta.cgroup,
                old_id,
                cur,
                meta.gen,
            )

    def _periodic(self) -> None:
        self._check_kernel_state()
        for spec in list(self.pending.values()):
            self._ensure_logged(spec)
        self._reload_all(forced=False)
        self._check_lost()
        self._check_events_map()
        try:
            attachments.reap(self.kernel)  # replaced generations past their grace period
        except BpfsystraceError as e:
            log.error("removing replaced policy generations: %s", e.render())

    def _check_kernel_state(self) -> None:
        """Attachments recorded but no longer in the kernel (pins removed): CRIT, re-attach."""
        try:
            with attachments.locked():
                lost = attachments.lost_state()
                reason = attachments.lost_reason() if lost else ""
        except BpfsystraceError as e:
            log.error("cannot read the kernel state: %s", e.render())
            return
        if not lost:
            self.lost_alarm = False
            return
        if not self.lost_alarm:
            self.lost_alarm = True
            log.critical(
                "kernel state lost: %d attachment(s) recorded in %s are NOT ENFORCED "
                "(%s): %s; re-attaching from their policy files",
                len(lost),
                attachments.RUN_DIR,
                reason,
                ", ".join(m.cgroup for m in lost),
            )
            if self.syslog is not None:
                self.syslog.send(
                    f"CRIT: enforcement lost on {', '.join(m.cgroup for m in lost)} ({reason}); re-attaching",
                    priority=sinks.LOG_AUTHPRIV | sinks.LOG_CRIT,
                )
        for meta in lost:
            if attachments.load_attachment(meta.cgroup_id) is None or not os.path.isdir(meta.cgroup):
                continue  # detached meanwhile, or the cgroup is gone (_follow says so)
            try:
                new = attachments.reload(meta, allow_drop=True)
            except BpfsystraceError as e:
                msg = e.render()
                if self.relost_err.get(meta.cgroup_id) != msg:
                    self.relost_err[meta.cgroup_id] = msg
                    log.critical("cannot re-attach %s: %s", meta.cgroup, msg)
                continue
            self.relost_err.pop(meta.cgroup_id, None)
            log.critical("re-attached %s (generation %d): enforced again", new.cgroup, new.gen)

    def _ensure_logged(self, spec: Spec) -> None:
        try:
            self._ensure(spec)
        except BpfsystraceError as e:
            log.error("[attach %s] %s", spec.name, e.render())

    def _reload_all(self, forced: bool) -> None:
        if forced:
            sd_notify("RELOADING=1")
            for spec in self.opts.specs:
                if spec.name in self.pending:
                    self._ensure_logged(spec)
        for meta in attachments.all_attachments():
            if not meta.sources:
                continue
            try:
                fp = attachments.fingerprint(meta.sources, meta.default_spec)
            except (BpfsystraceError, OSError) as e:
                fp = f"unreadable: {e}"
            if not forced and (fp == meta.fingerprint or self.bad_fp.get(meta.cgroup_id) == fp):
                self.settling.pop(meta.cgroup_id, None)
                continue
            if not forced and self.settling.get(meta.cgroup_id) != fp:
                # changed since the last check: reload once the files have stayed the
                # same for one more check, so that a file being written is not read
                # half-way (and reloaded again when the writer finishes)
                self.settling[meta.cgroup_id] = fp
                continue
            self.settling.pop(meta.cgroup_id, None)
            why = "SIGHUP" if forced else "policy files changed"
            try:
                new = attachments.reload(meta)
            except BpfsystraceError as e:
                self.bad_fp[meta.cgroup_id] = fp
                log.error(
                    "reload of %s (%s) refused, the previous policies stay in force: %s",
                    meta.cgroup,
                    why,
                    e.render(),
                )
                continue
            self.bad_fp.pop(meta.cgroup_id, None)
            log.warning("reloaded %s (%s): generation %d -> %d", meta.cgroup, why, meta.gen, new.gen)
        if forced:
            sd_notify("READY=1")

    # --- events ----------------------------------------------------------------------------
    def _open_events(self) -> None:
        """(Re)open the pinned ring buffer: after `detach --all` and a new attach it is a new one."""
        path = os.path.join(loader.MAP_DIR, "events")
        try:
            ino = os.stat(path).st_ino
        except FileNotFoundError:
            ino = None
        if ino == self.rb_ino and (self.rb is not None or ino is None):
            return
        if self.rb is not None:
            self._drain(final=True)
            self.rb.close()
            if self.kernel is not None:
                self.kernel.close()
            self.rb = self.kernel = None
        self.rb_ino = ino
        self.lost_seen = None
        if ino is None or not loader.is_loaded():
            return
        self.kernel = kernel = loader.open_kernel()
        self.rb = libbpf.RingBuffer(kernel.events_fd, self._on_event)
        self._check_lost()

    def _check_events_map(self) -> None:
        try:
            self._open_events()
        except BpfsystraceError as e:
            log.error("cannot open the event ring buffer: %s", e.render())

    def _consumer(self) -> bool:
        """Hold the journal's consumer role (a `bpfsystrace log` may have it for a moment)."""
        if self.journal is None:
            try:
                self.journal = journal.Writer.acquire()
                self.journal_err = ""
            except (BpfsystraceError, OSError) as e:
                msg = e.render() if hasattr(e, "render") else str(e)
                if msg != self.journal_err:
                    self.journal_err = msg
                    log.error("cannot open the event journal in %s: %s", journal.DIR, msg)
        return self.journal is not None

    def _drain(self, final: bool = False) -> None:
        if self.rb is None or not self._consumer() or self.journal is None:
            time.sleep(TICK_S)
            return
        self.rb.poll(0 if final else int(TICK_S * 1000))
        self.journal.flush()

    def _on_event(self, data: bytes) -> None:
        ev = events.decode(data)
        j = self.journal
        if j is None:  # cannot happen: _drain polls only while it holds the journal
            return
        d = j.write(ev)
        meta = j.meta(ev.gen)  # the generation that decided, even if replaced
        line = d["line"]
        if self.syslog is not None:
            self.syslog.send(line)
        for name, sink in self.sinks:
            if name == "file":
                sink.write(ev, meta)

    def _check_lost(self) -> None:
        """Report events the kernel dropped since the last report (also before we started)."""
        if self.kernel is None:
            return
        try:
            lost = maps.counters(self.kernel)[0]
        except BpfsystraceError:
            return
        path = os.path.join(attachments.RUN_DIR, LOST_FILE)
        if self.lost_seen is None:
            try:
                with open(path) as f:
                    ino, seen = (int(x) for x in f.read().split())
                self.lost_seen = seen if ino == self.rb_ino and seen <= lost else 0
            except (OSError, ValueError):
                self.lost_seen = 0
        if lost > self.lost_seen:
            msg = (
                f"{lost - self.lost_seen} events lost: the kernel ring buffer was full "
                f"({lost} since the programs were loaded); decisions were not affected, "
                f"counts in 'bpfsystrace status' and the metrics stay exact"
            )
            log.warning("%s", msg)
            if self.syslog is not None:
                self.syslog.send(msg)
            self.lost_seen = lost
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{self.rb_ino} {lost}\n")
            os.replace(tmp, path)


def running_pid() -> int | None:
    """The pid of the running daemon, if any."""
    path = os.path.join(attachments.RUN_DIR, PID_FILE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # nobody holds it
        except BlockingIOError:
            pass
        txt = os.read(fd, 32).decode().strip()
        return int(txt) if txt.isdigit() else None
    finally:
        os.close(fd)
