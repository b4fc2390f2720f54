#!/usr/bin/env bash
# Provisioning, phase 1 (as root): put bpf in the kernel's list of active LSMs.
#
# Reads the LSMs the running kernel uses, in order, appends bpf and writes
# lsm=<that list> into GRUB_CMDLINE_LINUX through a drop-in under
# /etc/default/grub.d (sourced after /etc/default/grub; 99- so that it comes
# after the image's own drop-ins), then runs update-grub. Keeping the existing
# list matters: lsm= replaces it, so lsm=bpf alone would turn AppArmor off.
# The Vagrantfile reboots the box after this script (`reboot: true`).
#
# LSM_FILE, GRUB_D and UPDATE_GRUB exist for the host test
# (tests/vagrant/test_provisioning.py); the box uses the defaults.
set -euo pipefail

LSM_FILE=${LSM_FILE:-/sys/kernel/security/lsm}
GRUB_D=${GRUB_D:-/etc/default/grub.d}
UPDATE_GRUB=${UPDATE_GRUB:-update-grub}
DROPIN=$GRUB_D/99-bpfsystrace-lsm.cfg

say() { echo "enable-bpf-lsm: $*"; }
die() { echo "enable-bpf-lsm: $*" >&2; exit 1; }

[ -r "$LSM_FILE" ] || die "cannot read $LSM_FILE (is securityfs mounted?)"
current=$(tr -d '[:space:]' < "$LSM_FILE")
[[ $current =~ ^[a-z0-9_]+(,[a-z0-9_]+)*$ ]] || die "unexpected LSM list in $LSM_FILE: '$current'"

case ",$current," in
*,bpf,*)
	say "bpf is already an active LSM ($current): nothing to change"
	exit 0
	;;
esac

lsm=$current,bpf
mkdir -p "$GRUB_D"
cat > "$DROPIN.tmp" <<CFG
# Written by bpfsystrace's vagrant/enable-bpf-lsm.sh: the LSMs this kernel ran
# with, plus bpf (BPF-LSM), which bpfsystrace needs.
GRUB_CMDLINE_LINUX="\${GRUB_CMDLINE_LINUX:-} lsm=$lsm"
CFG
mv "$DROPIN.tmp" "$DROPIN"
say "wrote $DROPIN: lsm=$lsm"
$UPDATE_GRUB
say "the next boot enables BPF-LSM"
