"""check, explain and fmt as an administrator uses them."""

import os

from tests.conftest import ROOT

NAMED = os.path.join(ROOT, "tests", "fixtures", "policies", "openbsd_usr_sbin_named")
CORPUS = os.path.join(ROOT, "tests", "fixtures", "policies", "corpus")


def test_check_summarises_what_is_enforced(run_cli):
    out = run_cli("check", NAMED, CORPUS, check=0).stdout
    assert f"{NAMED}: policy /usr/sbin/named (native): 77 rules, 45 enforced, 32 not enforceable" in out
    assert "memory protection is not mediated" in out and "mprotect:62" in out
    assert "enforced approximately: 'ask' cannot prompt from the kernel" in out
    assert "[detached: not confined]" in out


def test_check_directory_and_stats(run_cli):
    out = run_cli("check", "--stats", os.path.join(ROOT, "policies"), check=0).stdout
    assert "policy /usr/sbin/nginx" in out
    assert "states" in out and "compiled in" in out


def test_check_reports_every_error_with_location(run_cli, tmp_path):
    bad = tmp_path / "usr_bin_bad"
    bad.write_text(
        'Policy: /usr/bin/bad, Emulation: native\n'
        '\tnative-fsread: filename eq "/a" then allow\n'
        '\tnative-fsread: filename eq "/b" then deny[enoent]\n'
        '\tnative-fswrite: filename eq "/c then permit\n'
    )
    proc = run_cli("check", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:2:39: error: unknown action 'allow'" in proc.stderr
    assert f"{bad}:4:30: error: missing closing quote" in proc.stderr
    assert "2 errors; nothing was loaded" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_explain_names_the_deciding_rule(run_cli):
    out = run_cli("explain", NAMED, "fsread", "/etc/group", check=0).stdout
    assert f"permitted by {NAMED}:25:2: native-fsread: filename eq \"/etc/group\" then permit" in out
    assert "fsread rule 4 of 20" in out and "3 earlier rules did not match" in out
    out = run_cli("explain", NAMED, "fsread", "/etc/shadow", check=0).stdout
    assert "denied (EPERM): no rule matched" in out
    out = run_cli("explain", NAMED, "fsread", "/x/<non-existent filename>: y", check=0).stdout
    assert "denied (ENOENT) by" in out
    out = run_cli("explain", NAMED, "bind", "inet-[::1]:953", check=0).stdout
    assert 'sockaddr match "inet-*:953" then permit' in out
    out = run_cli("explain", NAMED, "mprotect", "x", check=0).stdout
    assert "not decided by bpfsystrace" in out
    out = run_cli("explain", NAMED, "mmap", "", check=0).stdout  # a mapping below 64 KiB
    assert "permitted by" in out and "native-mmap: permit" in out


def test_explain_says_what_an_exec_binding_does(run_cli, tmp_path):
    pol = tmp_path / "usr_bin_a"
    pol.write_text(
        'Policy: /usr/bin/a, Emulation: native\n'
        '\tnative-execve: filename eq "/usr/bin/b" then permit[inherit]\n'
        '\tnative-execve: filename eq "/usr/bin/c" then permit[detach]\n'
        '\tnative-execve: filename eq "/usr/bin/d" then permit\n'
    )
    out = run_cli("explain", str(pol), "execve", "/usr/bin/b", check=0).stdout
    assert "permit[inherit]: the program /usr/bin/b runs under this policy (/usr/bin/a's)" in out
    out = run_cli("explain", str(pol), "execve", "/usr/bin/c", check=0).stdout
    assert (
        "permit[detach]: the program /usr/bin/c, its children and what they execute are no "
        "longer confined" in out
    )
    out = run_cli("explain", str(pol), "execve", "/usr/bin/d", check=0).stdout
    assert "permit[" not in out.splitlines()[-1]
    out = run_cli("check", str(pol), check=0).stdout
    assert "approximately" not in out


def test_explain_a_call_nothing_enforces(run_cli):
    out = run_cli("explain", NAMED, "gettimeofday", "x", check=0).stdout
    assert "gettimeofday x: not decided by bpfsystrace: no LSM hook sees gettimeofday" in out
    assert "1 rule(s) for gettimeofday in this policy are kept but not enforced" in out


def test_fmt_normalises_and_round_trips(run_cli, tmp_path):
    messy = tmp_path / "p"
    messy.write_text(
        'Policy: /bin/x, Emulation: native   # header\n'
        '  native-fsread:   filename   eq "/a"->permit\n'
        '\tnative-fsread: ((filename eq "/b")) and (filename sub "c" or true) then deny[eacces] log\n'
    )
    out = run_cli("fmt", str(messy), check=0).stdout
    assert out == (
        'Policy: /bin/x, Emulation: native # header\n'
        '\tnative-fsread: filename eq "/a" then permit\n'
        '\tnative-fsread: filename eq "/b" and (filename sub "c" or true) then deny[eacces] log\n'
    )
    run_cli("fmt", "--write", str(messy), check=0)
    assert messy.read_text() == out
    assert run_cli("fmt", str(messy), check=0).stdout == out


def test_check_strict_rejects_a_rule_that_can_never_match(run_cli, tmp_path):
    pol = tmp_path / "usr_bin_y"
    pol.write_text(
        'Policy: /usr/bin/y, Emulation: native\n\tnative-fsread: filename eq "etc/hosts" then permit\n'
    )
    plain = run_cli("check", str(pol), check=0)
    assert plain.returncode == 0 and f"{pol}:2:2: warning: this rule can never match" in plain.stderr
    strict = run_cli("check", "--strict", str(pol), check=1)
    assert "1 warning(s) and --strict: rejected" in strict.stderr


def test_the_daemon_logs_info_and_a_reload_is_info():
    import argparse
    import logging

    from bpfsystrace.cli import daemon
    from bpfsystrace.service import reconciler

    logger = logging.getLogger("bpfsystrace")
    saved = logger.level
    try:
        daemon._daemon_logging(argparse.Namespace(debug=False))
        assert reconciler.log.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(saved)
