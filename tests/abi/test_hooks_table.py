"""Complete mediation (issue 31): kernel/hook_table.py classifies every LSM hook.

The table and the BPF object agree (a hook with a program is DECIDED and a
DECIDED hook has a program); every hook of Debian's 6.1 and 6.12 kernels and
of this host is classified (the Debian kernels' lists are read from the
vmlinux files the VM tests cache: where they are absent that part is not run
here, and tests/kernel/test_hooks.py checks the booted kernel in the VM); no
hook is listed twice; every entry that is not DECIDED says why.
"""

import contextlib
import io
import json
import os
import re

import pytest

from bpfsystrace.kernel import hooks, loader, lsm
from tests.conftest import ROOT

VM_CACHE = os.path.expanduser("~/.cache/bpfsystrace/vm")
DEBIAN = {"6.1": "6.1.0-57-amd64", "6.12": "6.12.118+deb12-amd64"}


def attached_hooks() -> set[str]:
    """The hooks of the SEC("lsm/...") programs: from the built object through
    libbpf (as the loader reads it), else from the sources."""
    try:
        sections = loader.object_contents().programs.values()
    except Exception:  # no object built here: read bpf/*.bpf.h
        bpf = os.path.join(ROOT, "bpf")
        sections = [
            m
            for f in sorted(os.listdir(bpf))
            if f.endswith((".h", ".c"))
            for m in re.findall(r'^SEC\("(lsm(?:\.s)?/\w+)"\)', open(os.path.join(bpf, f)).read(), re.M)
        ]
    return {s.split("/", 1)[1] for s in sections}


def test_attached_hooks_are_decided_and_decided_hooks_have_a_program():
    attached = attached_hooks()
    assert len(attached) > 30
    decided = {h.name for h in hooks.TABLE if h.cls == hooks.DECIDED}
    assert attached - decided == set(), "hooks with a program that the table does not say are DECIDED"
    assert decided - attached == set(), "DECIDED hooks without a program in bpf/"


def test_the_optional_hooks_are_decided():
    for hook in lsm.OPTIONAL_HOOKS.values():
        assert hooks.classify(hook).cls == hooks.DECIDED, hook


def test_no_hook_twice_and_every_line_is_a_hook_with_a_class():
    assert hooks.DUPLICATES == []
    assert len(hooks.BY_NAME) == len(hooks.TABLE)
    for h in hooks.TABLE:
        assert re.fullmatch(r"[a-z0-9_]+", h.name), h
        assert h.cls in hooks.CLASSES, h
        assert h.name not in hooks.NOT_HOOKS, h
    with pytest.raises(ValueError):
        hooks.parse("file_open  MAYBE  who knows\n")
    with pytest.raises(ValueError):
        hooks.parse("file_fcntl  OPEN  F_SETOWN with no call name\n")
    assert hooks.parse("a HARMLESS x\na HARMLESS y\n")[1] == ["a"]


def test_every_entry_says_what_or_why():
    for h in hooks.TABLE:
        assert len(h.what) >= 10, f"{h.name}: its {h.cls} entry says too little: {h.what!r}"
        if h.cls == hooks.OPEN:
            assert re.fullmatch(r"native-\w+(, native-\w+)*", h.call), h
        else:
            assert h.call == "", h


@pytest.mark.parametrize("series", sorted(DEBIAN))
def test_every_hook_of_debian_kernels_is_classified(series):
    path = os.path.join(VM_CACHE, DEBIAN[series], "vmlinux")
    if not os.path.exists(path):
        pytest.skip(
            f"{path} is not cached here (tests/vm fetches it); tests/kernel/test_hooks.py checks the VM"
        )
    names = hooks.kernel_hooks(path)
    assert len(names) > 200
    assert hooks.unclassified(names) == []


def _btf(tmp_path, names):
    p = tmp_path / "vmlinux"
    p.write_bytes(b"\0".join([b"junk"] + [n.encode() for n in names] + [b""]))
    return str(p)


def test_kernel_hooks_reads_the_stubs_and_leaves_out_bpf_lsm_itself(tmp_path):
    btf = _btf(
        tmp_path, ["bpf_lsm_file_open", "bpf_lsm_verify_prog", "bpf_lsm_new_hook", "bpf_lsm_", "xfile"]
    )
    assert hooks.kernel_hooks(btf) == {"file_open", "new_hook"}
    assert hooks.unclassified({"file_open", "new_hook"}) == ["new_hook"]
    assert hooks.counts({"file_open", "inode_readlink", "new_hook"})[hooks.DECIDED] == 1
    assert hooks.counts({"file_open", "inode_readlink", "new_hook"})[hooks.OPEN] == 1
    with pytest.raises(OSError):
        hooks.kernel_hooks(str(tmp_path / "absent"))


def _check(*argv):
    from bpfsystrace.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", *argv])
    return code, out.getvalue(), err.getvalue()


def test_check_hooks_prints_one_row_per_hook_and_fails_on_an_unknown_one(tmp_path):
    known = _btf(tmp_path, ["bpf_lsm_file_open", "bpf_lsm_inode_readlink", "bpf_lsm_init"])
    code, out, _ = _check("--hooks", "--btf", known)
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split()[:2] == ["file_open", "DECIDED"]
    assert rows[1].split()[:3] == ["inode_readlink", "OPEN", "native-readlink:"]
    assert rows[2].startswith("2 LSM hooks in ") and "0 UNCLASSIFIED" in rows[2]
    (tmp_path / "new").mkdir()
    unknown = _btf(tmp_path / "new", ["bpf_lsm_file_open", "bpf_lsm_brand_new"])
    code, out, err = _check("--hooks", "--btf", unknown)
    assert code == 1
    assert out.splitlines()[0].split()[:2] == ["brand_new", "UNCLASSIFIED"]
    assert "brand_new" in err
    code, out, _ = _check("--hooks", "--json", "--btf", unknown)
    doc = json.loads(out)
    assert code == 1 and doc["unclassified"] == ["brand_new"]
    assert {r["hook"]: r["class"] for r in doc["hooks"]} == {
        "brand_new": "UNCLASSIFIED",
        "file_open": "DECIDED",
    }
