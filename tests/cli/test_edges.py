"""Issue 17: bad input ends in one clear message, a documented exit code, no traceback."""

import os
import re

import pytest

from tests.conftest import ROOT

NAMED = os.path.join(ROOT, "policies", "usr_sbin_named")
GOOD = 'Policy: /usr/bin/true, Emulation: native\n\tnative-fsread: filename eq "/x" then permit\n'


def no_traceback(proc):
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
    return proc


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "holds no policy: no 'Policy:' header"),
        ("# only a comment\n\n   # another\n", "holds no policy: no 'Policy:' header"),
        (
            "Policy: /usr/bin/true, Emulation: native\n# no rules\n",
            "error: the policy for /usr/bin/true has no rules",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "attach"])
def test_a_file_that_confines_nothing_is_an_error(run_cli, tmp_path, text, message, command):
    f = tmp_path / "p"
    f.write_text(text)
    args = ["check", f] if command == "check" else ["attach", "--cgroup", "bst-none.slice", "--policy", f]
    proc = no_traceback(run_cli(*args))
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert "1 error; nothing was loaded" in proc.stderr
    assert not os.path.exists("/sys/fs/bpf/bpfsystrace")


def test_a_directory_with_an_empty_file_is_refused_as_a_whole(run_cli, tmp_path):
    (tmp_path / "a").write_text(GOOD)
    (tmp_path / "b").write_text("")
    proc = no_traceback(run_cli("check", tmp_path))
    assert proc.returncode == 1
    assert f"{tmp_path}/b:1:1: error: {tmp_path}/b holds no policy" in proc.stderr


def test_a_detached_policy_needs_no_rules(run_cli, tmp_path):
    f = tmp_path / "p"
    f.write_text("Policy: /usr/bin/true, Emulation: native\n\tdetached\n")
    run_cli("check", f, check=0)


def test_a_binary_file_is_one_error_and_no_raw_bytes(run_cli):
    proc = no_traceback(run_cli("check", "/bin/true"))
    assert proc.returncode == 1
    assert proc.stderr.count("error:") == 1
    assert "/bin/true:1:1: error: not a text policy file" in proc.stderr
    assert "\x7fELF" not in proc.stderr and "\ufffd" not in proc.stderr


def test_fmt_of_a_directory_or_a_missing_file(run_cli, tmp_path):
    proc = no_traceback(run_cli("fmt", tmp_path))
    assert proc.returncode == 2
    assert f"fmt {tmp_path}: is a directory; fmt takes one policy file" in proc.stderr
    proc = no_traceback(run_cli("fmt", tmp_path / "missing"))
    assert proc.returncode == 2
    assert f"no such policy file: {tmp_path}/missing" in proc.stderr


def test_explain_of_an_empty_file(run_cli, tmp_path):
    f = tmp_path / "empty"
    f.write_text("")
    proc = no_traceback(run_cli("explain", f, "fsread", "/etc/passwd"))
    assert proc.returncode == 1
    assert "holds no policy" in proc.stderr


def test_fmt_keeps_every_comment(run_cli, tmp_path):
    f = tmp_path / "p"
    f.write_text(
        "# header comment\n\n\n"
        "Policy: /usr/bin/true, Emulation: native\n"
        "   # own-line comment\n"
        '  native-fsread:  filename eq "/x#y" ->permit   # trailing comment\n'
        "native-fswrite: true then deny[eperm] # why\n"
    )
    out = run_cli("fmt", f, check=0).stdout
    assert out == (
        "# header comment\n\n"
        "Policy: /usr/bin/true, Emulation: native\n"
        "\t# own-line comment\n"
        '\tnative-fsread: filename eq "/x#y" then permit # trailing comment\n'
        "\tnative-fswrite: true then deny[eperm] # why\n"
    )
    run_cli("fmt", "-w", f, check=0)
    assert f.read_text() == out
    assert run_cli("fmt", f, check=0).stdout == out  # idempotent


def test_fmt_w_of_the_shipped_policies_loses_no_line(run_cli, tmp_path):
    for name in os.listdir(os.path.join(ROOT, "policies")):
        src = open(os.path.join(ROOT, "policies", name)).read()
        out = run_cli("fmt", os.path.join(ROOT, "policies", name), check=0).stdout
        comments = [ln.strip() for ln in src.splitlines() if ln.strip().startswith("#")]
        assert comments == [ln.strip() for ln in out.splitlines() if ln.strip().startswith("#")]


def test_a_policy_for_a_missing_program_warns_at_check(run_cli, tmp_path):
    f = tmp_path / "p"
    f.write_text(GOOD.replace("/usr/bin/true", "/usr/bin/no-such-program"))
    proc = run_cli("check", f, check=0)
    assert (
        f"{f}:1:1: warning: /usr/bin/no-such-program does not exist on this host; this "
        f"policy applies to nothing until it does"
    ) in proc.stderr


def test_default_names_its_valid_values(run_cli):
    proc = no_traceback(run_cli("attach", "--cgroup", "x.slice", "--policy", NAMED, "--default", "allow"))
    assert proc.returncode == 2
    assert "--default allow: not a policy file; the default is 'deny'" in proc.stderr
    assert "'permit'" in proc.stderr


def test_too_many_exact_rules_name_the_real_cause(run_cli, tmp_path):
    f = tmp_path / "p"
    rules = "".join(f'\tnative-fswrite: filename eq "/srv/f{i}" then permit\n' for i in range(44000))
    f.write_text("Policy: /usr/bin/true, Emulation: native\n" + rules)
    proc = no_traceback(run_cli("check", f))
    assert proc.returncode == 1
    # 44000 rules x 6 operations, plus one "no rule matched" per policy and operation
    m = re.search(r"compile to (\d+) rule records", proc.stderr)
    assert m and int(m.group(1)) > 264000, proc.stderr
    assert "an fsread rule decides fsread and stat: two" in proc.stderr
    assert "the kernel's map holds 262144" in proc.stderr
    assert proc.stderr.count("error:") == 1


def test_too_many_automaton_states_name_the_real_cause_once(run_cli, tmp_path):
    f = tmp_path / "p"
    rules = "".join(f'\tnative-fsread: filename eq "/{i:04d}{"x" * 60}" then permit\n' for i in range(4000))
    f.write_text("Policy: /usr/bin/true, Emulation: native\n" + rules)
    proc = no_traceback(run_cli("check", f))
    assert proc.returncode == 1
    assert (
        "error: fsread and stat (fsread rules) of /usr/bin/true need more than 200000 "
        "automaton states, the limit per operation of one policy"
    ) in proc.stderr
    assert "hint: the 4000 rules compare 260000 characters of exact strings" in proc.stderr
    assert "lines )" not in proc.stderr
    assert proc.stderr.count("error:") == 1
