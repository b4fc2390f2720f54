"""doctor: can this host enforce, and if not, why and what to do."""
from __future__ import annotations

from ..errors import EXIT_OK, EXIT_UNSUPPORTED
from ..kernel import probe


class Doctor:
    @staticmethod
    def add_parser(sub):
        p = sub.add_parser("doctor", help="check whether this host can enforce policies",
                           description="Check privileges, kernel BTF, the active LSM list and "
                                       "cgroup v2, then try to load the BPF-LSM programs. "
                                       "Exit 0 when the host can enforce, 3 when it cannot.")
        p.add_argument("--no-load", action="store_true", help="skip the test load")
        p.set_defaults(run=run)


def run(args) -> int:
    results = probe.checks(try_load=not args.no_load)
    for c in results:
        print(f"{('warn' if c.warn else 'ok  ') if c.ok else 'FAIL'}  {c.name:<20} {c.detail}")
        if (not c.ok or c.warn) and c.fix:
            print(f"      fix: {c.fix}")
    ok = all(c.ok for c in results)
    bad = [c.name for c in results if not c.ok]
    if ok:
        print("this host can enforce bpfsystrace policies")
    elif bad == ["BPF object"]:
        print("this installation of bpfsystrace lacks its BPF object (the kernel was not tested)")
    else:
        print("this host cannot enforce bpfsystrace policies")
    return EXIT_OK if ok else EXIT_UNSUPPORTED
