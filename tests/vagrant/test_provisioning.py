"""The Vagrant box's provisioning scripts and the test command's native switch.

`vagrant validate` (a step of scripts/test) checks the Vagrantfile itself; the
box cannot boot here, so these tests run the phase-1 script against a fake LSM
list and GRUB directory, and check that scripts/test refuses an unknown mode.
"""

import os
import subprocess

from tests.conftest import ROOT

ENABLE = os.path.join(ROOT, "vagrant", "enable-bpf-lsm.sh")


def enable_bpf_lsm(tmp_path, lsm_list):
    lsm = tmp_path / "lsm"
    lsm.write_text(lsm_list)
    grub_d = tmp_path / "grub.d"
    marker = tmp_path / "update-grub-ran"
    proc = subprocess.run(
        ["bash", ENABLE],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "LSM_FILE": str(lsm), "GRUB_D": str(grub_d), "UPDATE_GRUB": f"touch {marker}"},
    )
    return proc, grub_d / "99-bpfsystrace-lsm.cfg", marker


def test_bpf_is_appended_to_the_running_kernels_lsm_list(tmp_path):
    proc, dropin, marker = enable_bpf_lsm(tmp_path, "lockdown,capability,landlock,yama,apparmor\n")
    assert proc.returncode == 0, proc.stderr
    assert marker.exists(), "update-grub was not run"
    # /etc/default/grub sets GRUB_CMDLINE_LINUX first; the drop-in appends to it
    out = subprocess.run(
        ["sh", "-c", f'GRUB_CMDLINE_LINUX="console=ttyS0"; . {dropin}; printf %s "$GRUB_CMDLINE_LINUX"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "console=ttyS0 lsm=lockdown,capability,landlock,yama,apparmor,bpf"


def test_nothing_changes_when_bpf_is_already_active(tmp_path):
    proc, dropin, marker = enable_bpf_lsm(tmp_path, "lockdown,capability,landlock,yama,bpf\n")
    assert proc.returncode == 0, proc.stderr
    assert "already an active LSM" in proc.stdout
    assert not dropin.exists() and not marker.exists()


def test_an_unreadable_or_strange_lsm_list_fails(tmp_path):
    proc, dropin, marker = enable_bpf_lsm(tmp_path, "lockdown capability;reboot\n")
    assert proc.returncode == 1 and "unexpected LSM list" in proc.stderr
    assert not dropin.exists() and not marker.exists()


def test_scripts_test_refuses_an_unknown_kernel_test_mode():
    proc = subprocess.run(
        [os.path.join(ROOT, "scripts", "test")],
        capture_output=True,
        text=True,
        env={**os.environ, "BPFSYSTRACE_KERNEL_TESTS": "skip"},
        timeout=30,
    )
    assert proc.returncode == 2
    assert "'vm' (the default) or 'native'" in proc.stderr
