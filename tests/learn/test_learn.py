"""The policy writer of learn/suggest: generalisation, stable text, merge, checkability."""

import json
import os

from bpfsystrace import learn
from bpfsystrace.cli import learn as learn_cmd
from bpfsystrace.model import check
from bpfsystrace.observe import events, sinks
from bpfsystrace.policy import parse

OBS = {
    ("fsread", "/etc/passwd"),
    ("fsread", "/proc/1234/status"),
    ("fsread", "/proc/99"),
    ("fsread", "/usr/lib/a.so"),
    ("fsread", "/usr/lib/b.so"),
    ("fsread", "/usr/lib/c.so"),
    ("fsread", "/usr/lib/x/y"),
    ("fswrite", "/run/x.pid"),
    ("bind", "inet-[127.0.0.1]:0"),
    ("bind", "inet-[::1]:0"),
    ("bind", "inet-[127.0.0.1]:8080"),
    ("connect", "/dev/log"),
    ("execve", "/usr/bin/dash"),
    ("fsread", "/srv/$HOME/[x]*"),
}


def checked(text, name="t"):
    pols, _ = check.check([parse(text, name)])
    return pols


def test_policy_file_naming():
    assert learn.policy_filename("/usr/sbin/named") == "usr_sbin_named"


def test_generalise_sorted_and_stable():
    rules = [r.text() for r in learn.generalise(OBS, collapse=2)]
    assert rules == [
        'native-fsread: filename eq "/etc/passwd" then permit',
        'native-fsread: filename match "/srv/[$]HOME/\\\\[x\\\\]\\\\*" then permit',
        'native-fsread: filename match "/usr/lib/*" then permit',
        'native-fsread: filename re "^/proc/[0-9]+$" then permit',
        'native-fsread: filename re "^/proc/[0-9]+/status$" then permit',
        'native-fswrite: filename eq "/run/x.pid" then permit',
        'native-bind: sockaddr match "inet-*:0" then permit',
        'native-bind: sockaddr eq "inet-[127.0.0.1]:8080" then permit',
        'native-connect: sockaddr eq "/dev/log" then permit',
        'native-execve: filename eq "/usr/bin/dash" then permit',
    ]
    assert rules == [r.text() for r in learn.generalise(set(reversed(sorted(OBS))), 2)]


def test_no_collapse_and_no_ephemeral_keep_what_was_seen():
    rules = [r.text() for r in learn.generalise(OBS, collapse=0, ephemeral=False)]
    assert 'native-fsread: filename eq "/usr/lib/x/y" then permit' in rules
    assert 'native-bind: sockaddr eq "inet-[::1]:0" then permit' in rules


def test_learned_text_checks_and_permits_every_observation():
    rules = learn.generalise(OBS, collapse=2)
    text = learn.policy_text(
        "/usr/bin/srv", rules, learn.header("bpfsystrace learn -o x", "/sys/fs/cgroup/a", 0, 5, 14)
    )
    assert text.startswith("# Learned by bpfsystrace on 1970-01-01 00:00:00 UTC (5 s)")
    (pol,) = checked(text)
    fresh, denied = learn.new_observations(pol, OBS)
    assert not fresh and not denied


def test_merge_appends_after_hand_written_rules_and_keeps_denials():
    text = (
        "# hand-written\nPolicy: /usr/bin/srv, Emulation: native\n"
        "\tnative-fsread: filename eq \"/etc/shadow\" then deny[eacces]   # never\n"
        "\tnative-fsread: filename match \"/usr/lib/*\" then permit\n"
        "Policy: /usr/bin/other, Emulation: native\n\tnative-fsread: permit\n"
    )
    (pol, _) = checked(text)
    res = learn.merge_text(
        text,
        pol,
        {("fsread", "/etc/shadow"), ("fsread", "/usr/lib/a"), ("fsread", "/etc/hosts")},
        0,
        True,
        "merged",
    )
    lines = res.text.splitlines()
    assert lines[:4] == text.splitlines()[:4]
    assert lines[4:6] == ["\t# merged", '\tnative-fsread: filename eq "/etc/hosts" then permit']
    assert lines[6:] == text.splitlines()[4:]
    assert res.denied_by_hand == [("fsread", "/etc/shadow", "t:3:2")]
    checked(res.text)


def test_write_policies_new_merge_and_refuse(tmp_path):
    out = str(tmp_path / "p")
    comment = learn.header("c", "cg", 0, 1, 1)
    w = learn.write_policies(out, {"/usr/bin/srv": {("fsread", "/a")}}, False, False, 0, True, comment)
    assert [x.path for x in w] == [os.path.join(out, "usr_bin_srv")]
    try:
        learn.write_policies(out, {"/usr/bin/srv": {("fsread", "/b")}}, False, False, 0, True, comment)
        raise AssertionError("overwrote without --merge/--force")
    except Exception as e:  # UsageError
        assert "--merge" in str(e)
    w = learn.write_policies(
        out, {"/usr/bin/srv": {("fsread", "/b"), ("fsread", "/a")}}, True, False, 0, True, comment
    )
    assert w[0].merged and w[0].added == 1
    text = open(os.path.join(out, "usr_bin_srv")).read()
    assert text.index('"/a"') < text.index('"/b"')


def test_since_parsing():
    assert learn_cmd.parse_since("10m", now=1000.0) == 400.0
    assert learn_cmd.parse_since("1970-01-01T00:01:00") == 60.0
    assert learn_cmd.parse_since(None) == 0.0


def test_audit_event_json_and_line():
    ev = events.Event(0, 5, 5, 1, 0, "srv", 9, 9, 1, 0, 3, "fsread", 1, "/etc/x", False, audit=True)
    assert not ev.denied and ev.action == "audit_deny"
    d = sinks.event_dict(ev, None)
    assert d["action"] == "audit_deny" and d["time"].endswith("Z")
    assert d["line"].startswith("audit deny user: ") and "errno: EPERM" in d["line"]
    json.dumps(d)


def test_suggest_from_json_log(run_cli, tmp_path):
    log = tmp_path / "events.json"
    recs = [
        {
            "time": "2026-11-29T04:00:00Z",
            "cgroup": "/sys/fs/cgroup/a",
            "op": "fsread",
            "obj": "/etc/hosts",
            "action": "audit_deny",
            "policy_name": "/usr/bin/srv",
        },
        {
            "time": "2026-11-29T04:00:01Z",
            "cgroup": "/sys/fs/cgroup/a",
            "op": "fsread",
            "obj": "/etc/deny",
            "action": "deny",
            "policy_name": "/usr/bin/srv",
        },
        {
            "time": "2020-01-01T00:00:00Z",
            "cgroup": "/sys/fs/cgroup/a",
            "op": "fsread",
            "obj": "/old",
            "action": "audit_deny",
            "policy_name": "/usr/bin/srv",
        },
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in recs) + "not json\n")
    out = run_cli("suggest", "--from", str(log), "--since", "2026-01-01", check=0).stdout
    assert 'native-fsread: filename eq "/etc/hosts" then permit' in out
    assert "/etc/deny" not in out and "/old" not in out
    assert "Policy: /usr/bin/srv, Emulation: native" in out
    out = run_cli("suggest", "--from", str(log), "--since", "2026-01-01", "--denied", check=0).stdout
    assert "/etc/deny" in out
    d = tmp_path / "pol"
    run_cli("suggest", "--from", str(log), "-o", str(d), check=0)
    run_cli("check", str(d / "usr_bin_srv"), check=0)


def test_audit_decisions_are_labelled_audit_deny():
    from bpfsystrace import attachments

    rules = [{"policy": 0, "op": "fsread", "errno": 0}, {"policy": 0, "op": "fsread", "errno": 1}]
    meta = attachments.Attachment(
        "/sys/fs/cgroup/a", 9, 1, "deny", [{"binary": "/usr/bin/srv"}], rules, None, 0.0
    )
    assert attachments.decisions(meta, {0: 3, 1: 2}) == {
        ("/usr/bin/srv", "fsread", "permit"): 3,
        ("/usr/bin/srv", "fsread", "deny"): 2,
    }
    meta.mode = "audit"
    assert attachments.decisions(meta, {0: 3, 1: 2})[("/usr/bin/srv", "fsread", "audit_deny")] == 2
    meta.mode = "learn"
    assert attachments.decisions(meta, {1: 2}) == {("/usr/bin/srv", "fsread", "permit"): 2}


def test_observer_names_executables_by_identity_and_keeps_interpreter_reads():
    from bpfsystrace.kernel import system

    dash = system.file_identity("/bin/sh")
    launcher = (1, 12345)

    def ev(ident, op, obj, interp=False, pid=999999):
        return events.Event(
            0,
            pid,
            pid,
            1,
            0,
            "x",
            9,
            9,
            1,
            0,
            0,
            op,
            0,
            obj,
            False,
            learn=True,
            interp=interp,
            exe_dev=ident[0],
            exe_ino=ident[1],
        )

    obs = learn.Observer()
    obs.add(ev(launcher, "execve", "/bin/sh"))  # names dash by identity
    obs.add(ev(dash, "fsread", "/lib64/ld-linux-x86-64.so.2", interp=True))
    obs.add(ev(dash, "fsread", "/etc/passwd"))
    obs.add(ev((1, 777), "fsread", "/x", interp=True))  # a script: never ran itself
    named, unnamed = obs.policies()
    assert named == {
        os.path.realpath("/bin/sh"): {("fsread", "/lib64/ld-linux-x86-64.so.2"), ("fsread", "/etc/passwd")}
    }
    assert len(unnamed) == 1 and "1 operations" in unnamed[0]


def test_learned_rename_link_and_setuid_rules_check_and_permit_what_was_seen():
    obs = {
        ("rename", "/var/spool/a.tmp\0/var/spool/a"),
        ("link", "/srv/x\0/srv/y"),
        ("unlink", "/var/spool/a"),
        ("setuid", "70"),
        ("stat", "/etc/hosts"),
        ("socket", "AF_INET\0SOCK_DGRAM\0udp"),
        ("kill", "/usr/sbin/nginx\0SIGHUP"),
    }
    rules = learn.generalise(obs, collapse=1)
    texts = [r.text() for r in rules]
    assert (
        'native-rename: filename eq "/var/spool/a.tmp" and filename[1] eq "/var/spool/a" then permit'
    ) in texts
    assert 'native-link: filename eq "/srv/x" and filename[1] eq "/srv/y" then permit' in texts
    assert 'native-setuid: uid eq "70" then permit' in texts
    assert (
        'native-socket: sockdom eq "AF_INET" and socktype eq "SOCK_DGRAM" and sockproto eq "udp" then permit'
    ) in texts
    assert 'native-kill: pidname eq "/usr/sbin/nginx" and signame eq "SIGHUP" then permit' in texts
    (pol,) = checked(learn.policy_text("/usr/bin/srv", rules, ["# t"]))
    fresh, denied = learn.new_observations(pol, obs)
    assert not fresh and not denied
    fresh, _ = learn.new_observations(pol, {("rename", "/var/spool/a.tmp\0/etc/passwd")})
    assert fresh


def test_stat_of_what_is_read_needs_no_rule_of_its_own():
    obs = {
        ("stat", "/srv/a"),
        ("fsread", "/srv/a"),
        ("stat", "/srv/only-stat"),
        ("fsread", "/srv/x/1"),
        ("fsread", "/srv/x/2"),
        ("fsread", "/srv/x/4"),
        ("stat", "/srv/x/3"),
    }
    texts = [r.text() for r in learn.generalise(obs, collapse=2)]
    assert texts == [
        'native-fsread: filename eq "/srv/a" then permit',
        'native-fsread: filename match "/srv/x/*" then permit',
        'native-stat: filename eq "/srv/only-stat" then permit',
    ]
    (pol,) = checked(learn.policy_text("/usr/bin/srv", learn.generalise(obs, 2), ["# t"]))
    fresh, denied = learn.new_observations(pol, obs)
    assert not fresh and not denied


def test_a_newline_in_an_observed_name_stays_inside_one_rule_line():
    obs = {("fsread", "/srv/a\n\tnative-fsread: true then permit"), ("fsread", "/srv/b")}
    rules = learn.generalise(obs)
    text = learn.policy_text(
        "/usr/bin/srv", rules, learn.header("learn\n-o x", "/sys/fs/cgroup/a\nb", 0, 5, 2)
    )
    assert 'native-fsread: filename match "/srv/a??native-fsread: true then permit" then permit' in text
    assert "# command: learn\\n-o x" in text
    assert len(text.splitlines()) == 4 + 1 + 2  # header, Policy:, two rules
    (pol,) = checked(text)
    fresh, denied = learn.new_observations(pol, obs)
    assert not fresh and not denied
