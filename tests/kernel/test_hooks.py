"""Complete mediation on the booted kernel (issue 31): every LSM hook it has
is in bpfsystrace's table (kernel/hook_table.py), and `check --hooks` prints
each with its class. tests/abi/test_hooks_table.py checks the table itself.
"""

import json
import os

from bpfsystrace.kernel import hooks, loader
from tests.conftest import cli


def test_no_hook_of_this_kernel_is_missing_from_the_table():
    names = hooks.kernel_hooks()  # /sys/kernel/btf/vmlinux: the booted kernel's
    assert len(names) > 200, sorted(names)
    assert hooks.unclassified(names) == [], f"Linux {os.uname().release}"


def test_every_program_of_the_object_sits_on_a_decided_hook_of_this_kernel():
    names = hooks.kernel_hooks()
    for prog, sec in loader.object_contents().programs.items():
        hook = sec.split("/", 1)[1]
        if (prog in loader.OPTIONAL_PROGRAMS or prog in loader.NEWER_HOOK_PROGRAMS) and hook not in names:
            continue  # left out on kernels without it (loader.skipped_programs, absent_programs)
        assert hook in names, (prog, sec)
        assert hooks.classify(hook).cls == hooks.DECIDED, (prog, sec)


def test_check_hooks_prints_a_row_for_each_hook():
    names = hooks.kernel_hooks()
    out = cli("check", "--hooks", check=0).stdout
    rows = {}
    for line in out.splitlines()[:-1]:
        hook, cls, text = line.split(None, 2)
        assert hook not in rows, line
        rows[hook] = cls
        assert text, line
    assert set(rows) == names
    assert all(rows[n] == hooks.classify(n).cls for n in names)
    counts = hooks.counts(names)
    assert out.splitlines()[-1].startswith(f"{len(names)} LSM hooks in Linux {os.uname().release}: ")
    assert f"{counts['OPEN']} OPEN" in out.splitlines()[-1]
    doc = json.loads(cli("check", "--hooks", "--json", check=0).stdout)
    assert {r["hook"] for r in doc["hooks"]} == names
    assert doc["unclassified"] == [] and doc["counts"] == counts
