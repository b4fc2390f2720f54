"""Counts and lists in the docs that the code defines: a test keeps them from drifting."""

import os
import re

from bpfsystrace import errors
from bpfsystrace.kernel import loader
from bpfsystrace.model import syscalls
from tests.conftest import ROOT


def doc(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def test_program_counts():
    n = len(loader.object_contents().programs)
    assert f"{n} BPF-LSM programs" in doc("docs/architecture.md")
    assert f"the {n} attached programs ({n - len(loader.OPTIONAL_PROGRAMS)} without" in doc(
        "docs/architecture.md"
    )
    assert f"Programs: {n} LSM programs ({n - len(loader.OPTIONAL_PROGRAMS)} where" in doc(
        "docs/enforcement.md"
    )
    for name in ("docs/architecture.md", "docs/enforcement.md"):
        assert not re.search(r"\b(six|twenty-\w+) (BPF-)?LSM programs", doc(name)), name


def test_every_exit_code_is_in_errors_md():
    text = doc("docs/errors.md")
    for name in dir(errors):
        if name.startswith("EXIT_") and name != "EXIT_SIGNAL_BASE":
            assert f"\n| {getattr(errors, name)} |" in text, name
    assert "| 128+N |" in text


def test_operations_and_limits_match_the_code():
    from bpfsystrace import abi
    from bpfsystrace.compile import records

    text = doc("docs/policy-language.md")
    assert f"({len(syscalls.OPERATIONS)} operations)" in text
    assert f"{records.MAX_STATES_PER_DFA:,}" in text
    for cap in (abi.BST_MAX_RULES, abi.BST_MAX_STATES, abi.BST_MAX_CELLS):
        assert f"{cap:,}" in text


def test_no_doc_cites_a_file_the_repo_lacks():
    for name in os.listdir(os.path.join(ROOT, "docs")):
        text = doc(os.path.join("docs", name))
        for cited in re.findall(r"\b([a-z_-]+\.md)\b", text):
            assert os.path.exists(os.path.join(ROOT, "docs", cited)) or os.path.exists(
                os.path.join(ROOT, cited)
            ), (name, cited)


def test_the_settings_list_names_every_setting():
    import inspect

    from bpfsystrace import service

    src = inspect.getsource(service.config.read_config)
    known = set(re.findall(r'"([a-z-]+)"', src.split("_no_unknown(sec, {")[1].split("}")[0]))
    assert f"(known: {', '.join(sorted(known))})" in doc("docs/operations.md")


def test_the_system_call_table_names_exactly_the_names_the_checker_knows():
    """docs/policy-language.md's table of system call names is syscalls.NAMES: a
    name added to the code without the doc (or the other way round) fails here.
    `unlink`(`at`) in the table stands for unlink and unlinkat."""
    text = doc("docs/policy-language.md")
    table = text[text.index("| `fsread` |") :]
    table = table[: table.index("\n\n")]
    documented = set()
    for row in table.splitlines():
        for m in re.finditer(r"`(\w+)`((?:\(`\w+`(?:, `\w+`)*\))?)", row.split("|")[1]):
            documented.add(m.group(1))
            documented.update(m.group(1) + s for s in re.findall(r"`(\w+)`", m.group(2)))
    assert documented == set(syscalls.NAMES), (
        f"in the code only: {sorted(set(syscalls.NAMES) - documented)}; "
        f"in the doc only: {sorted(documented - set(syscalls.NAMES))}"
    )


def test_the_open_doors_in_security_md_are_the_tables():
    """docs/security.md, "Every LSM hook": its list of OPEN hooks is
    kernel/hook_table.py's, with the same future rule names; its counts per
    class are those of the Debian kernels (checked where the VM's vmlinux
    files are cached)."""
    from bpfsystrace.kernel import hooks

    text = doc("docs/security.md")
    section = text[text.index("## Every LSM hook") :]
    section = section[: section.index("\n## ")]
    listed = dict(re.findall(r"^\| `(\w+)` \| (`native-.*?) \|", section, re.M))
    open_ = {h.name: h.call for h in hooks.TABLE if h.cls == hooks.OPEN}
    assert set(listed) == set(open_), (
        f"OPEN in the table only: {sorted(set(open_) - set(listed))}; "
        f"in the doc only: {sorted(set(listed) - set(open_))}"
    )
    for name, calls in listed.items():
        assert re.findall(r"`(native-\w+)`", calls) == open_[name].split(", "), name
    cache = os.path.expanduser("~/.cache/bpfsystrace/vm")
    columns = {"6.1.0-57-amd64": 3, "6.12.118+deb12-amd64": 4}  # | class | meaning | 6.1 | 6.12 |
    for release, cell in columns.items():
        path = os.path.join(cache, release, "vmlinux")
        if not os.path.exists(path):
            continue  # the kernel tests check the booted kernel's hooks instead
        names = hooks.kernel_hooks(path)
        for cls, n in hooks.counts(names).items():
            row = re.search(rf"^\| {cls} \|.*$", section, re.M)
            assert row and row.group(0).split("|")[cell].strip() == str(n), (release, cls, n)
        row = re.search(r"^\| hooks \|.*$", section, re.M)
        assert row and row.group(0).split("|")[cell].strip() == str(len(names)), (release, len(names))


def test_every_metric_is_in_the_operations_table():
    """docs/operations.md's metrics table names every family the collector
    yields (counters with their `_total`, the info metric as `_info`)."""
    src = open(os.path.join(ROOT, "controller", "observe", "metrics.py")).read()
    table = doc("docs/operations.md")
    found = re.findall(r'(Counter|Gauge|Info)MetricFamily\(\s*"(bpfsystrace_\w+)"', src)
    assert len(found) > 15
    suffix = {"Counter": "_total", "Gauge": "", "Info": "_info"}
    missing = [n + suffix[k] for k, n in found if f"| `{n}{suffix[k]}` |" not in table]
    assert not missing, f"docs/operations.md does not list {missing}"


def test_the_version_example_names_the_current_abi():
    from bpfsystrace import abi

    assert f'(kernel ABI {abi.BST_ABI_VERSION})"' in doc("docs/install.md")
