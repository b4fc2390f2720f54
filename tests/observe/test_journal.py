"""The event journal: one consumer writes, every reader sees every event (issue 17)."""

import json
import os

import pytest

from bpfsystrace import attachments
from bpfsystrace.kernel import system
from bpfsystrace.observe import events, journal
from bpfsystrace.state import store


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "DIR", str(tmp_path / "journal"))
    monkeypatch.setattr(store, "RUN_DIR", str(tmp_path / "run"))
    return tmp_path


def ev(gen=1, policy=0, rule=0, obj="/etc/x", err=1):
    return events.Event(10**9, 5, 5, 1, 0, "srv", 9, 9, gen, policy, rule, "fsread", err, obj, False)


def generation(gen, binary, where):
    meta = attachments.Attachment(
        system.resolve_cgroup("bst-a.slice"),
        9,
        gen,
        "deny",
        [{"binary": binary, "file": "/p", "line": 1, "identity": None}],
        [
            {
                "policy": 0,
                "op": "fsread",
                "action": "deny",
                "errno": 1,
                "implicit": False,
                "where": where,
                "text": 'native-fsread: filename eq "/etc/x" then deny',
            },
            {
                "policy": 0,
                "op": "fsread",
                "action": "deny",
                "errno": 1,
                "implicit": True,
                "where": "",
                "text": "no rule matched (deny)",
            },
        ],
        None,
        0.0,
    )
    meta.save_generation()
    return meta


def test_every_reader_sees_every_event(dirs):
    w = journal.Writer.acquire()
    assert journal.Writer.acquire() is None  # one consumer at a time
    for i in range(5):
        w.write(ev(obj=f"/f{i}"))
    w.flush()
    first = [d["obj"] for d in journal.Reader().read()]
    second = [d["obj"] for d in journal.Reader().read()]
    assert first == second == [f"/f{i}" for i in range(5)]
    w.close()
    w = journal.Writer.acquire()  # released: the next one continues seq
    w.write(ev(obj="/f5"))
    w.close()
    seqs = [d["seq"] for d in journal.Reader().read()]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert [d["obj"] for d in journal.Reader(after=4).read()] == ["/f4", "/f5"]


def test_rotation_is_bounded_and_loses_nothing_a_reader_follows(dirs, monkeypatch):
    monkeypatch.setattr(journal, "MAX_BYTES", 2000)
    w = journal.Writer.acquire()
    follower = journal.Reader()
    seen = []
    for i in range(60):
        w.write(ev(obj=f"/file-{i}"))
        w.flush()
        seen += [d["obj"] for d in follower.read()]
    w.close()
    seen += [d["obj"] for d in follower.read()]
    files = sorted(os.listdir(journal.DIR))
    assert files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3"]
    assert all(os.path.getsize(os.path.join(journal.DIR, f)) < 2600 for f in files)
    assert seen == [f"/file-{i}" for i in range(60)]  # the follower missed none
    kept = [d["seq"] for d in journal.Reader().read()]
    assert kept == list(range(kept[0], 61))  # the oldest rotated away, in order


def test_events_name_the_generation_that_decided_them(dirs):
    """After a reload (gen 1 -> 2) an event of gen 1 still names gen 1's policy and rule."""
    generation(1, "/usr/bin/old", "/p:2:2")
    generation(2, "/usr/bin/new", "/p:7:2")
    w = journal.Writer.acquire()
    d1 = w.write(ev(gen=1, rule=0))
    d2 = w.write(ev(gen=2, rule=1))
    w.close()
    assert d1["policy"] == "/usr/bin/old" and d1["rule"] == "/p:2:2"
    assert "policy: /usr/bin/old, filters: 1," in d1["line"] and "rule: /p:2:2" in d1["line"]
    assert d2["policy"] == "/usr/bin/new" and d2["rule"] == "no rule matched (deny)"
    assert "rule_where" not in d2
    assert (d1["policy_id"], d1["rule_id"], d2["rule_id"]) == (0, 0, 1)  # ids kept as extras
    json.dumps(d1)


def test_a_journal_record_is_the_event_again(dirs):
    w = journal.Writer.acquire()
    d = w.write(ev(gen=3, policy=2, rule=7))
    w.close()
    assert journal.to_event(d) == ev(gen=3, policy=2, rule=7)


def test_log_reads_the_journal_with_filters(run_cli, dirs):
    generation(1, "/usr/bin/old", "/p:2:2")
    w = journal.Writer.acquire()
    for i in range(3):
        w.write(ev(gen=1, obj=f"/a{i}"))
    w.write(ev(gen=9, obj="/unknown-gen"))
    w.close()
    env = {"BPFSYSTRACE_JOURNAL_DIR": journal.DIR, "BPFSYSTRACE_RUN_DIR": attachments.RUN_DIR}
    out = run_cli("log", env=env, check=0).stdout.splitlines()
    assert len(out) == 4 and "filename: /a0" in out[0]
    assert run_cli("log", env=env, check=0).stdout.splitlines() == out  # nothing consumed
    js = [
        json.loads(x)
        for x in run_cli("log", "--json", "--policy", "/usr/bin/old", env=env, check=0).stdout.splitlines()
    ]
    assert [d["obj"] for d in js] == ["/a0", "/a1", "/a2"]
    last = json.loads(run_cli("log", "--json", "-n", "1", env=env, check=0).stdout)
    assert last["obj"] == "/unknown-gen" and last["seq"] == 4
    assert last["policy"] == "generation 9 policy 0"
    assert run_cli("log", "--after", "3", env=env, check=0).stdout.count("\n") == 1
    assert run_cli("log", "--cgroup", "bst-a.slice", env=env, check=0).stdout.count("\n") == 3
