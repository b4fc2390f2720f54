"""bpfsystrace diff as an administrator uses it: exit 0 same, 1 different, 2 trouble."""

import os

from tests.conftest import ROOT

NAMED = os.path.join(ROOT, "policies", "usr_sbin_named")


def _variant(tmp_path, name, text):
    d = tmp_path / name
    d.mkdir()
    (d / "usr_sbin_named").write_text(text)
    return d


def test_reformatted_and_reordered_policy_decides_the_same(run_cli, tmp_path):
    text = open(NAMED).read()
    lines = text.splitlines()
    rules = [ln for ln in lines if ln.startswith("\tnative-fsread: filename eq")]
    # swap two non-overlapping eq rules, re-indent, drop comments, add one
    swapped = [ln for ln in lines if not ln.lstrip().startswith("#")]
    i, j = swapped.index(rules[0]), swapped.index(rules[1])
    swapped[i], swapped[j] = "    " + rules[1].strip(), rules[0].replace("\t", "  ")
    new = _variant(tmp_path, "new", "# edited by hand\n" + "\n".join(swapped) + "\n")
    proc = run_cli("diff", NAMED, new / "usr_sbin_named", check=0)
    assert proc.stdout.strip() == "no difference in decisions"


def test_a_changed_rule_prints_examples_and_both_rules(run_cli, tmp_path):
    text = open(NAMED).read()
    edited = text.replace(
        'native-fsread: filename eq "/etc/hosts" then permit',
        'native-fsread: filename eq "/etc/hosts" then deny[enoent]',
    )
    edited = edited.replace('native-bind: sockaddr match "inet-*:53" then permit', "", 1)
    assert edited != text
    new = _variant(tmp_path, "new", edited)
    proc = run_cli("diff", os.path.dirname(NAMED) + "/usr_sbin_named", str(new), check=1)
    out = proc.stdout
    assert '/usr/sbin/named: fsread\n  permitted -> denied: "/etc/hosts"' in out
    assert f"old: permitted by {NAMED}:" in out
    assert 'new: denied (ENOENT) by ' + str(new / "usr_sbin_named") in out
    assert '/usr/sbin/named: bind\n  permitted -> denied: "inet-:53"' in out  # shortest
    assert out.rstrip().endswith("decide differently")


def test_policy_on_one_side_is_compared_with_the_default(run_cli, tmp_path):
    empty = tmp_path / "only"
    empty.mkdir()
    (empty / "bin_true").write_text(
        "Policy: /bin/true, Emulation: native\n\tnative-fsread: filename eq \"/etc/motd\" then permit\n"
    )
    proc = run_cli("diff", NAMED, empty, check=1)
    assert "/usr/sbin/named: policy only in OLD (in NEW its processes get the default, deny)" in proc.stdout
    assert '/bin/true: fsread\n  denied -> permitted: "/etc/motd"' in proc.stdout
    assert "old: denied (EPERM) by the default policy (deny)" in proc.stdout
    same = run_cli("diff", "--default", "permit", empty, empty, check=0)
    assert "no difference" in same.stdout


def test_trouble_exits_2(run_cli, tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("Policy: /bin/x, Emulation: native\n\tnative-fsread: filename eq \"/a\" then allow\n")
    proc = run_cli("diff", NAMED, bad, check=2)
    assert f"{bad}:2:" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("diff", NAMED, tmp_path / "missing", check=2)
    assert "no such policy file or directory" in proc.stderr
