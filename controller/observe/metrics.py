"""Prometheus metrics, read from the kernel's per-CPU maps at scrape time.

Nothing here is sampled from events: decision counts are the kernel's own rule
hit counters (exact even when the event ring buffer overflows), summed over
CPUs when Prometheus scrapes. Counts of generations that a reload replaced are
carried in the attachment's metadata, so `bpfsystrace_decisions_total` never
goes backwards across reloads; `bpfsystrace_rule_hits_total` is per rule of the
generation in force and starts again from zero when a reload replaces it.
"""

from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from .. import __version__, abi, attachments
from ..errors import BpfsystraceError
from ..kernel import libbpf, loader

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 10  # the exporter drops a client that sends no request within this

FAIL_CLOSED = {
    abi.BST_CNT_PATH_ERROR: "path_error",
    abi.BST_CNT_TOO_LONG: "name_too_long",
    abi.BST_CNT_MAP_MISSING: "inconsistent_maps",
    abi.BST_CNT_NO_MEMORY: "no_memory",
    abi.BST_CNT_DISCONNECTED: "not_a_name",
}


class KernelCollector:
    """A prometheus_client collector; `sinks` are the daemon's log sinks (for their counts)."""

    def __init__(self, sinks=()):
        self.sinks = sinks  # (name, sink) pairs: their sent/dropped counts are exported

    def describe(self):
        return []  # no fixed set of series: collect() reads the maps

    def collect(self):
        decisions = CounterMetricFamily(
            "bpfsystrace_decisions",
            "Decisions of the LSM programs by attached cgroup, policy, "
            "operation and action: permit, deny, or audit_deny (audit mode: the policy denies, "
            "the kernel permitted) (exact kernel counts, kept across reloads)",
            labels=["cgroup", "policy", "operation", "action"],
        )
        rule_hits = CounterMetricFamily(
            "bpfsystrace_rule_hits",
            "Decisions per rule of the policy generation in force "
            "(rule: file:line, or 'implicit' for systrace's default deny)",
            labels=["cgroup", "policy", "operation", "action", "rule"],
        )
        reloads = CounterMetricFamily("bpfsystrace_reloads", "Successful policy reloads", labels=["cgroup"])
        failures = CounterMetricFamily(
            "bpfsystrace_reload_failures",
            "Reloads refused (the old policy stayed in force)",
            labels=["cgroup"],
        )
        generation = GaugeMetricFamily(
            "bpfsystrace_policy_generation", "Generation number of the policies in force", labels=["cgroup"]
        )
        attached = GaugeMetricFamily("bpfsystrace_attached_cgroups", "Cgroups with policies attached")
        lost = CounterMetricFamily(
            "bpfsystrace_events_lost",
            "Events dropped because the kernel ring buffer was full (decisions were not affected)",
        )
        fail_closed = CounterMetricFamily(
            "bpfsystrace_fail_closed",
            "Requests denied because the kernel side could not decide them normally",
            labels=["reason"],
        )
        transitions = CounterMetricFamily(
            "bpfsystrace_exec_transitions", "Execs into a binary with its own policy"
        )
        bindings = CounterMetricFamily(
            "bpfsystrace_exec_bindings",
            "Execs by permit[inherit] (the program keeps its caller's "
            "policy) and permit[detach] (it leaves confinement)",
            labels=["binding"],
        )
        own = CounterMetricFamily(
            "bpfsystrace_own_object_denials",
            "Confined tasks' attempts to reach bpfsystrace's own maps, programs, links or pins (all denied)",
        )
        by_path = CounterMetricFamily(
            "bpfsystrace_programs_found_by_path",
            "Execs of a new file at a policy's path (a package upgrade): the policy followed the path",
        )
        clone_cgroup = CounterMetricFamily(
            "bpfsystrace_clone_into_cgroup_denials",
            "Confined tasks' clone3(CLONE_INTO_CGROUP) to a cgroup outside their target (denied)",
        )
        insecure = CounterMetricFamily(
            "bpfsystrace_insecure_execs_killed",
            "Execs into another policy killed before they ran: the caller passed loader variables (LD_PRELOAD)",
        )
        up = GaugeMetricFamily("bpfsystrace_programs_loaded", "1 when the LSM programs are loaded and pinned")
        targets, counters = self._read()
        up.add_metric([], 1 if loader.is_loaded() else 0)
        attached.add_metric([], len(targets))
        for t in targets:
            m = t.meta
            if m is None:
                continue
            totals = {tuple(k.split("\t")): v for k, v in m.carried.items()}
            for key, n in attachments.decisions(m, t.hits).items():
                totals[key] = totals.get(key, 0) + n
            for (pol, op, action), n in sorted(totals.items()):
                decisions.add_metric([m.cgroup, pol, op, action], n)
            for rid, r in enumerate(m.rules):
                rule_hits.add_metric(
                    [
                        m.cgroup,
                        m.policy_name(r["policy"]),
                        r["op"],
                        attachments.rule_action(m, r),
                        "implicit" if r["implicit"] else (r["where"] or f"rule {rid}"),
                    ],
                    t.hits.get(rid, 0),
                )
            reloads.add_metric([m.cgroup], m.reloads)
            failures.add_metric([m.cgroup], m.reload_failures)
            generation.add_metric([m.cgroup], t.gen)
        if counters:
            lost.add_metric([], counters[abi.BST_CNT_LOST_EVENTS])
            transitions.add_metric([], counters[abi.BST_CNT_EXEC_TRANSITION])
            bindings.add_metric(["inherit"], counters[abi.BST_CNT_EXEC_INHERIT])
            bindings.add_metric(["detach"], counters[abi.BST_CNT_EXEC_DETACH])
            own.add_metric([], counters[abi.BST_CNT_OWN_OBJECT])
            by_path.add_metric([], counters[abi.BST_CNT_EXE_BY_PATH])
            clone_cgroup.add_metric([], counters[abi.BST_CNT_CLONE_CGROUP])
            insecure.add_metric([], counters[abi.BST_CNT_INSECURE_EXEC])
            for idx, reason in FAIL_CLOSED.items():
                fail_closed.add_metric([reason], counters[idx])
        yield from (
            decisions,
            rule_hits,
            reloads,
            failures,
            generation,
            attached,
            lost,
            fail_closed,
            transitions,
            bindings,
            own,
            by_path,
            clone_cgroup,
            insecure,
            up,
        )
        logged = CounterMetricFamily("bpfsystrace_events_logged", "Events written, by sink", labels=["sink"])
        dropped = CounterMetricFamily(
            "bpfsystrace_events_log_dropped", "Events a sink could not write", labels=["sink"]
        )
        for name, sink in self.sinks:
            logged.add_metric([name], getattr(sink, "sent", getattr(sink, "written", 0)))
            dropped.add_metric([name], sink.dropped)
        yield logged
        yield dropped
        info = InfoMetricFamily("bpfsystrace_build", "Version of bpfsystrace and its kernel ABI")
        info.add_metric(
            [], {"version": __version__, "abi": str(abi.BST_ABI_VERSION), "libbpf": _libbpf_version()}
        )
        yield info

    def _read(self):
        try:
            return attachments.status()
        except BpfsystraceError as e:
            log.warning("metrics: cannot read the kernel maps: %s", e)
            return [], []


def _libbpf_version() -> str:
    try:
        return libbpf.version()
    except Exception:  # noqa: BLE001 - a label must never break a scrape
        return "unknown"


def serve(address: str, collector: KernelCollector):
    """Start the exporter on HOST:PORT in a thread; returns the server (shutdown() stops it).

    One request at a time: prometheus_client's own server starts a thread per
    request, and on a slow host, where a scrape takes longer than the scrape
    interval, those threads piled up (50 in the VM) and starved the daemon's
    own loop of the interpreter: reloads and logging stalled. Here a slow
    scrape makes the next one wait in the listen queue (the scraper times it
    out), and a client that sends nothing is dropped after READ_TIMEOUT_S.
    """
    import socket
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app

    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    ProcessCollector(registry=reg)

    class Server(WSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Handler(WSGIRequestHandler):
        timeout = READ_TIMEOUT_S

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # no access log on stderr (the daemon's log is for what matters)

    server = make_server(host, int(port), make_wsgi_app(reg), Server, handler_class=Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
