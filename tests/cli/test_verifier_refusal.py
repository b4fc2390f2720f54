"""A kernel that has bpf in its LSM list but whose verifier refuses one of
our programs (what Linux 6.12 did before the return clamp): doctor and
attach name the program and the verifier's last lines, and call it a
bpfsystrace bug, not a locked-down kernel."""

import errno

import pytest

from bpfsystrace.errors import VerifierRefusal
from bpfsystrace.kernel import libbpf, loader, lsm, probe, refusal

# libbpf's messages on Linux 6.12.118 for the object before the clamp (abridged)
LOG_612 = """\
libbpf: prog 'bst_file_open': BPF program load failed: Invalid argument
libbpf: prog 'bst_file_open': -- BEGIN PROG LOAD LOG --
0: R1=ctx() R10=fp0
623: (6d) if r1 s> r9 goto pc+1       ; R1_w=-4095 R9_w=scalar(smin=smin32=-4095,smax=0x7fffffff)
624: (bf) r0 = r9                     ; R0_w=scalar(id=29,smin=smin32=-4095,smax=0x7fffffff)
625: (95) exit
At program exit the register R0 has smin=-4095 smax=2147483647 should have been in [-4095, 0]
processed 407 insns (limit 1000000) max_states_per_insn 2 total_states 32 peak_states 32 mark_read 11
-- END PROG LOAD LOG --
libbpf: prog 'bst_file_open': failed to load: -22
libbpf: failed to load object '/usr/lib/bpfsystrace/bpfsystrace.bpf.o'""".splitlines()


@pytest.fixture
def refused(monkeypatch):
    monkeypatch.setattr(lsm, "active_lsms", lambda: ["lockdown", "capability", "bpf"])
    monkeypatch.setattr(libbpf, "recent_messages", list(LOG_612))


def test_the_refused_program_and_the_verifiers_words(refused):
    assert refusal.verifier_refusal(LOG_612) == (
        "bst_file_open",
        [
            "0: R1=ctx() R10=fp0",
            "623: (6d) if r1 s> r9 goto pc+1       ; R1_w=-4095 R9_w=scalar(smin=smin32=-4095,smax=0x7fffffff)",
            "624: (bf) r0 = r9                     ; R0_w=scalar(id=29,smin=smin32=-4095,smax=0x7fffffff)",
            "625: (95) exit",
            "At program exit the register R0 has smin=-4095 smax=2147483647 should have been in [-4095, 0]",
        ],
    )
    assert refusal.verifier_refusal(["libbpf: prog 'x': failed to load: -1"]) is None


def test_a_refusal_is_a_bug_report_not_a_locked_down_kernel(refused):
    with pytest.raises(VerifierRefusal) as e:
        refusal.explain_load_failure(errno.EINVAL, "/x.o")
    text = e.value.render()
    assert "verifier refused bpfsystrace's program bst_file_open (EINVAL)" in text
    assert "this is a bug in bpfsystrace, not a locked-down kernel" in text
    assert "should have been in [-4095, 0]" in text
    assert "locked-down kernel)" not in text and "lsm=" not in text
    assert e.value.exit_code == 3


def test_doctor_shows_it(refused, monkeypatch):
    def load(load=False):
        refusal.explain_load_failure(errno.EINVAL, "/x.o")

    monkeypatch.setattr(loader, "open_kernel", load)
    monkeypatch.setattr(loader, "is_loaded", lambda: False)
    c = probe._try_load()
    assert not c.ok and "bug in bpfsystrace" in c.detail and "R0 has smin=-4095" in c.detail
    assert "report it" in c.fix


def test_a_refusal_before_the_verifier_is_still_the_hosts(monkeypatch):
    """This machine's kernel: EPERM before any verifier log."""
    monkeypatch.setattr(lsm, "active_lsms", lambda: ["bpf"])
    monkeypatch.setattr(libbpf, "recent_messages", ["libbpf: prog 'bst_file_open': failed to load: -1"])
    with pytest.raises(Exception) as e:
        refusal.explain_load_failure(errno.EPERM, "/x.o")
    assert not isinstance(e.value, VerifierRefusal)
    assert "sandboxed or locked-down" in e.value.render()


def test_another_architecture_is_refused_by_name(monkeypatch):
    """The build and the package are x86-64 only; doctor and attach say so
    rather than skip the calls decided by x86-64 system call numbers."""
    import platform

    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    first = probe.checks(try_load=False)[0]
    assert (first.name, first.ok, first.detail) == ("architecture", False, "aarch64")
    assert "x86-64 only" in first.fix
