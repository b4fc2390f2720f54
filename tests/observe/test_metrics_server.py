"""The daemon's metrics endpoint (observe/metrics.serve) on the host: what it serves
without a kernel, and that it answers one request at a time (no thread per scrape)."""

import socket
import threading
import urllib.request

from bpfsystrace.observe import metrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scrapes_are_served_one_at_a_time_without_a_thread_each(monkeypatch):
    monkeypatch.setattr(metrics, "READ_TIMEOUT_S", 1)
    port = _free_port()
    before = threading.active_count()
    server = metrics.serve(f"127.0.0.1:{port}", metrics.KernelCollector())
    try:
        # a client that connects and sends nothing holds the one handler (a second at most
        # here), not a new thread
        idle = socket.create_connection(("127.0.0.1", port))
        for _ in range(5):
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
            assert "bpfsystrace_build_info{" in body and "bpfsystrace_programs_loaded 0.0" in body
            assert threading.active_count() == before + 1  # the server's own thread only
        idle.close()
    finally:
        server.shutdown()
