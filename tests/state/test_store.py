"""The attachment records in RUN_DIR: versioned, read back exactly, refused when foreign."""

import dataclasses
import json
import os
import stat

import pytest

from bpfsystrace import attachments
from bpfsystrace.errors import EXIT_USAGE, StateError
from bpfsystrace.state import atomic, store

NAMED = "/etc/systrace/usr_sbin_named"


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    d = tmp_path / "run"
    monkeypatch.setattr(store, "RUN_DIR", str(d))
    return d


def meta(cgid=4242, gen=3):
    m = store.Attachment(
        "/sys/fs/cgroup/bst-a.slice",
        cgid,
        gen,
        "deny",
        [{"binary": "/usr/sbin/named", "file": NAMED, "line": 1, "identity": [8, 1234]}],
        [
            {
                "policy": 0,
                "op": "fsread",
                "action": "permit",
                "errno": 0,
                "implicit": False,
                "generated": False,
                "where": f"{NAMED}:2:2",
                "text": 'native-fsread: filename eq "/etc/named.conf" then permit',
            }
        ],
        None,
        1764892800.5,
        [NAMED],
        "deny",
        "none",
        "ab" * 32,
        "cd" * 16,
        2,
        1,
        "a reload failed",
        {"/usr/sbin/named\tfsread\tpermit": 7},
        "audit",
        [[NAMED, "Policy: /usr/sbin/named\n"]],
    )
    return m


def write_json(run_dir, name, d):
    path = os.path.join(run_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(d, f)


def test_round_trip_keeps_every_field_and_writes_the_schema_version(run_dir):
    m = meta()
    m.save()
    m.save_generation()
    with open(run_dir / "4242.json") as f:
        on_disk = json.load(f)
    assert on_disk["schema"] == store.SCHEMA == 1
    assert store.load_attachment(4242) == m
    assert store.generation(3) == m
    assert store.all_attachments() == [m]
    assert attachments.load_attachment(4242) == m
    assert attachments.RUN_DIR == str(run_dir)  # the re-export follows the store
    assert sorted(os.listdir(run_dir)) == ["4242.json", "gens"]  # no temporary file left
    assert os.listdir(run_dir / "gens") == ["3.json"]


def test_a_file_without_schema_version_is_version_1_if_its_fields_are(run_dir):
    """What bpfsystrace wrote before the version existed, on a running system."""
    m = meta()
    write_json(run_dir, "4242.json", m.__dict__)
    assert store.load_attachment(4242) == m


def test_version_1_is_exactly_the_fields_of_the_record():
    """Adding or renaming a field of Attachment means a new schema version."""
    assert {f.name for f in dataclasses.fields(store.Attachment)} == store.V1_FIELDS


def test_a_future_version_is_refused_with_what_to_do(run_dir):
    write_json(run_dir, "4242.json", {"schema": 2, **meta().__dict__, "new": 1})
    with pytest.raises(StateError) as e:
        store.load_attachment(4242)
    path = str(run_dir / "4242.json")
    text = e.value.render()
    assert text.startswith(
        f"{path}: cannot read this attachment state: it has schema "
        f"version 2, this bpfsystrace reads version 1; it was written by "
        f"another version of bpfsystrace\nhint: detach it with the version"
    )
    assert f"remove {path}" in text and "bpftool map dump pinned" in text
    assert e.value.exit_code == EXIT_USAGE
    with pytest.raises(StateError):
        store.all_attachments()


@pytest.mark.parametrize("schema", [None, 1])
def test_unknown_or_renamed_fields_are_refused_not_read_as_nothing(run_dir, schema):
    d = dict(meta().__dict__)
    d["policy_files"] = d.pop("sources")  # a field renamed
    if schema is not None:
        d["schema"] = schema
    write_json(run_dir, "gens/3.json", d)
    with pytest.raises(
        StateError,
        match=r"unknown fields policy_files; missing fields "
        r"sources \(schema version 1 has other fields\)",
    ):
        store.generation(3)


def test_what_is_not_a_record_is_still_nothing(run_dir):
    assert store.load_attachment(1) is None  # no file
    os.makedirs(run_dir)
    (run_dir / "1.json").write_text("{trunc")
    assert store.load_attachment(1) is None  # not JSON
    write_json(run_dir, "2.json", [1, 2])
    with pytest.raises(StateError, match="not a JSON object"):
        store.load_attachment(2)


def test_status_names_a_foreign_state_file(run_dir, run_cli):
    write_json(run_dir, "4242.json", {"schema": 2, **meta().__dict__})
    proc = run_cli("status", env={"BPFSYSTRACE_RUN_DIR": str(run_dir)}, check=EXIT_USAGE)
    assert proc.stderr.startswith(
        f"bpfsystrace: error: {run_dir}/4242.json: cannot read this attachment state: it has schema version 2"
    )
    assert "Traceback" not in proc.stderr


def test_write_atomic_replaces_keeping_the_mode_and_leaves_no_temporary_file(tmp_path):
    p = tmp_path / "policy"
    atomic.write_atomic(str(p), "one\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~umask
    os.chmod(p, 0o640)
    atomic.write_atomic(str(p), "two\n")
    assert p.read_text() == "two\n"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["policy"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
    p = tmp_path / "policy"
    p.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        atomic.write_atomic(str(p), "\udcff", encoding="utf-8")
    assert p.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["policy"]
