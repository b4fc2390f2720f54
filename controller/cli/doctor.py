"""doctor: can this host enforce, and if not, why and what to do."""

from __future__ import annotations

import argparse
import os

from .. import attachments
from ..errors import EXIT_KERNEL, EXIT_OK, EXIT_UNSUPPORTED
from ..kernel import loader, probe


class DoctorCommand:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser(
            "doctor",
            help="check whether this host can enforce policies",
            description="Check privileges, kernel BTF, the active LSM list and "
            "cgroup v2, then try to load the BPF-LSM programs, and "
            "whether every recorded attachment is still enforced. "
            "Exit 0 when the host can enforce, 3 when it cannot, 4 "
            "when attachments are recorded but their kernel state "
            "is gone.",
            epilog="examples:\n  sudo bpfsystrace doctor\n"
            "  sudo bpfsystrace doctor --no-load   # do not try a load",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--no-load", action="store_true", help="skip the test load")
        p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args) -> int:
    lost = attachments.lost_state() if os.geteuid() == 0 else []
    results = probe.checks(try_load=not args.no_load)
    if lost:
        results.append(
            probe.Check(
                "attachments",
                False,
                f"{len(lost)} recorded in {attachments.RUN_DIR} but NOT ENFORCED: "
                + ", ".join(m.cgroup for m in lost)
                + f" ({attachments.lost_reason()})",
                f"the daemon re-attaches them by itself; without it: bpfsystrace reload --all "
                f"(the pins under {loader.PIN_ROOT} were removed by someone outside every target)",
            )
        )
    for c in results:
        print(f"{('warn' if c.warn else 'ok  ') if c.ok else 'FAIL'}  {c.name:<20} {c.detail}")
        if (not c.ok or c.warn) and c.fix:
            print(f"      fix: {c.fix}")
    ok = all(c.ok for c in results[: len(results) - bool(lost)])
    bad = [c.name for c in results[: len(results) - bool(lost)] if not c.ok]
    if lost and ok:
        print("this host can enforce, but it does not enforce every recorded attachment: see above")
        return EXIT_KERNEL
    if ok:
        print("this host can enforce bpfsystrace policies")
    elif bad == ["BPF object"]:
        print("this installation of bpfsystrace lacks its BPF object (the kernel was not tested)")
    else:
        print("this host cannot enforce bpfsystrace policies")
    return EXIT_OK if ok else EXIT_UNSUPPORTED
