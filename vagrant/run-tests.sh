#!/usr/bin/env bash
# Provisioning, phase 2 (as root, after the reboot): check that the kernel now
# runs BPF-LSM, install the project from the synced folder and run its whole
# test suite natively: host tests, the Vagrantfile check, and every kernel test
# on this kernel instead of the micro-VM (BPFSYSTRACE_KERNEL_TESTS=native).
# Exits non-zero when anything fails, which fails `vagrant up`/`vagrant provision`.
set -euo pipefail

SRC=${BPFSYSTRACE_SRC:-/vagrant}

say() { echo "run-tests: $*"; }
die() { echo "run-tests: $*" >&2; exit 1; }

lsm=$(cat /sys/kernel/security/lsm)
case ",$lsm," in
*,bpf,*) say "active LSMs: $lsm" ;;
*) die "bpf is not in the active LSM list ($lsm) after the reboot; kernel command line: $(cat /proc/cmdline)" ;;
esac

cd "$SRC"
scripts/setup

# The packages scripts/setup installs start their system services on Ubuntu.
# The kernel tests bind 127.0.0.1:53, ::1:53 and 953 (which named holds) and
# start their own Prometheus: stop the system's copies in this test box.
for unit in named.service prometheus.service; do
	systemctl disable --now "$unit" >/dev/null 2>&1 || true    # absent units are fine
done
# The daemon tests start their own rsyslogd with a configuration under /tmp;
# Ubuntu's AppArmor profile for rsyslogd only allows the system's paths. Put
# that one profile in complain mode in this box (now and at every boot).
profile=/etc/apparmor.d/usr.sbin.rsyslogd
if [ -f "$profile" ] && command -v apparmor_parser >/dev/null; then
	mkdir -p /etc/apparmor.d/force-complain
	ln -sf "$profile" /etc/apparmor.d/force-complain/
	apparmor_parser -r -C "$profile" || say "could not put $profile in complain mode"
fi

say "make test (kernel tests natively)"
BPFSYSTRACE_KERNEL_TESTS=native make test
