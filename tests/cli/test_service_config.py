"""The daemon's configuration and service commands, as an administrator meets them on the host."""

import os

import pytest

from bpfsystrace import service
from bpfsystrace.errors import UsageError
from tests.cli.test_host import host_can_enforce


def write(tmp_path, text):
    p = tmp_path / "bpfsystrace.conf"
    p.write_text(text)
    return str(p)


def test_config_is_read_with_paths_relative_to_it(tmp_path):
    conf = write(
        tmp_path,
        "[daemon]\nmetrics-address = 127.0.0.1:9479\nlog-format = json\n"
        "log-file = /var/log/bst.json\n\n"
        "[attach named]\ncgroup = named.slice\npolicy = policies/a\n  /etc/b\n"
        "default = permit\ncreate = no\n",
    )
    opts = service.read_config(conf)
    assert (opts.metrics_address, opts.log_format, opts.log_file, opts.syslog) == (
        "127.0.0.1:9479",
        "json",
        "/var/log/bst.json",
        True,
    )
    (spec,) = opts.specs
    assert spec == service.Spec(
        "named", "named.slice", [str(tmp_path / "policies/a"), "/etc/b"], "permit", "auto", False
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("[daemon]\nmetrics = 1\n", "unknown setting 'metrics'"),
        ("[attach x]\ncgroup = a.slice\n", "needs 'cgroup =' and 'policy ='"),
        ("[deamon]\n", "unknown section [deamon]"),
        ("[daemon]\nsyslog = maybe\n", "syslog = maybe: say yes or no"),
        ("[daemon]\nlog-format = xml\n", "log-format = xml: text or json"),
        ("no section\n", "File contains no section headers"),
    ],
)
def test_config_errors_name_the_file_and_the_setting(tmp_path, text, message):
    conf = write(tmp_path, text)
    with pytest.raises(UsageError) as e:
        service.read_config(conf)
    assert message in str(e.value) and conf in str(e.value)


def test_daemon_with_a_missing_config_exits_2(run_cli):
    proc = run_cli("daemon", "--config", "/nonexistent/bpfsystrace.conf")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot read configuration /nonexistent/bpfsystrace.conf" in proc.stderr


def test_daemon_on_a_host_that_cannot_enforce_exits_3(run_cli, tmp_path):
    if host_can_enforce():
        pytest.skip("this host can enforce: the daemon is tested in tests/kernel")
    proc = run_cli("daemon", "--no-syslog")
    assert proc.returncode == 3, proc.stderr
    assert "this host cannot enforce policies" in proc.stderr and "Traceback" not in proc.stderr
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace")


def test_reload_with_nothing_attached(run_cli):
    proc = run_cli("reload", "--cgroup", "named.slice")
    assert proc.returncode == 2 and "is not attached" in proc.stderr


def test_help_teaches_the_service(run_cli):
    out = run_cli("daemon", "--help", check=0).stdout
    for words in ("[attach named]", "SIGHUP", "AUTHPRIV", "--metrics-address", "created again"):
        assert words in out
    assert "--foreground" in run_cli("attach", "--help", check=0).stdout


def test_systemd_unit_verifies_and_example_config_reads(tmp_path):
    """systemd/bpfsystrace.service passes systemd-analyze verify; the example config loads."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import ROOT

    exe = os.path.join(os.path.dirname(sys.executable), "bpfsystrace")
    unit = open(os.path.join(ROOT, "systemd", "bpfsystrace.service")).read()
    assert "ExecStart=/usr/bin/bpfsystrace daemon --config" in unit
    (tmp_path / "bpfsystrace.service").write_text(unit.replace("/usr/bin/bpfsystrace", exe))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian package systemd) is needed to check the unit"
    proc = subprocess.run(
        [analyze, "verify", "--man=no", "bpfsystrace.service"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    opts = service.read_config(os.path.join(ROOT, "systemd", "bpfsystrace.conf"))
    assert [s.cgroup for s in opts.specs] == ["named.slice"] and opts.specs[0].create
