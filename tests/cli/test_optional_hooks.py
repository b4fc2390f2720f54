"""A kernel without task_fix_setgroups (Linux < 6.0): setgroups is not
enforced there, and check, doctor and the loader say so."""

from bpfsystrace.kernel import loader, lsm, probe


def _btf(tmp_path, names):
    p = tmp_path / "vmlinux"
    p.write_bytes(b"\0".join([b"junk"] + [n.encode() for n in names] + [b""]))
    return str(p)


def test_missing_hook_is_found_in_btf(tmp_path):
    assert lsm.missing_hooks(_btf(tmp_path, ["bpf_lsm_task_fix_setgroups", "bpf_lsm_userns_create"])) == {}
    assert lsm.missing_hooks(_btf(tmp_path, ["bpf_lsm_task_fix_setuid", "bpf_lsm_userns_create"])) == {
        "setgroups": "task_fix_setgroups"
    }
    assert lsm.missing_hooks(_btf(tmp_path, ["bpf_lsm_task_fix_setgroups"])) == {"unshare": "userns_create"}
    assert lsm.missing_hooks(str(tmp_path / "absent")) == {}


def test_check_doctor_and_loader_say_setgroups_is_not_enforced(run_cli, tmp_path, monkeypatch):
    btf = _btf(tmp_path, ["bpf_lsm_file_open"])
    monkeypatch.setattr(lsm, "VMLINUX_BTF", btf)
    c = probe.hooks_check()
    assert c.ok and c.warn and "setgroups is NOT enforced here" in c.detail
    assert loader.skipped_programs() == {
        "bst_task_fix_setgroups": "setgroups",
        "bst_userns_create": "unshare",
    }
    assert "unshare is NOT enforced here" in c.detail and "Linux 6.1 or later" in c.fix
    pol = tmp_path / "usr_bin_x"
    pol.write_text('Policy: /usr/bin/x, Emulation: native\n\tnative-setgroups: permit\n')
    import contextlib
    import io

    from bpfsystrace.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["check", str(pol)]) == 0
    assert "no task_fix_setgroups hook: setgroups is NOT enforced here" in err.getvalue()
    assert "(Linux 6.0 or later enforces it)" in err.getvalue()
    assert "1 setgroups rule(s)" in err.getvalue()
