"""run and watch on the host: what they refuse before touching the kernel."""

import shutil

TRUE = shutil.which("true")


def test_run_without_a_command(run_cli):
    proc = run_cli("run", "--", check=2)
    assert "no command given: bpfsystrace run [OPTIONS] -- CMD [ARGS...]" in proc.stderr


def test_run_learn_needs_an_output_directory(run_cli):
    assert "--mode learn needs -o DIR" in run_cli("run", "--mode", "learn", "--", TRUE, check=2).stderr


def test_run_unknown_command(run_cli):
    assert "no-such-cmd-xyz: command not found" in run_cli("run", "--", "no-such-cmd-xyz", check=2).stderr


def test_run_says_before_starting_that_the_default_denies_the_exec(run_cli, tmp_path):
    proc = run_cli("run", "--", TRUE, check=2)
    assert (
        f"{TRUE} has no policy, so it runs under the default policy (deny), which denies "
        f"its exec" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    other = tmp_path / "bin_other"
    other.write_text(
        "Policy: /bin/other-xyz, Emulation: native\n\tnative-fsread: filename eq \"/etc/motd\" then permit\n"
    )
    proc = run_cli("run", "--policy", other, "--", TRUE, check=2)
    assert f"{TRUE} has no policy in {other}, so it runs under the default" in proc.stderr
    # a default policy whose execve rules deny it: said the same way, with its rule
    default = tmp_path / "default"
    default.write_text(
        "Policy: /nonexistent-default, Emulation: native\n"
        f'\tnative-execve: filename eq "{TRUE}" then deny[eacces]\n'
    )
    proc = run_cli("run", "--default", default, "--", TRUE, check=2)
    assert f"denied (EACCES) by {default}:2:2" in proc.stderr


def test_help_has_examples(run_cli):
    for cmd in ("run", "watch", "diff"):
        out = run_cli(cmd, "--help", check=0).stdout
        assert "examples:\n  bpfsystrace " + cmd in out, cmd
    assert "--dry-run" in run_cli("reload", "--help", check=0).stdout
