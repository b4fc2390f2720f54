"""The built BPF object and the Python side name the same things.

Opening an object with libbpf needs no privileges, so this runs on any host:
every map the loader opens exists in the object with the key and value sizes
of its ctypes mirror, every map is pinned or deliberately not, every optional
program exists, and every hook syscalls.OPERATIONS names has its program.
"""

import ctypes
import os

import pytest

from bpfsystrace.kernel import loader, lsm
from bpfsystrace.model import syscalls


@pytest.fixture(scope="module")
def obj():
    try:
        return loader.object_contents()
    except Exception as e:  # no clang here: the build step of `make test` made one
        pytest.fail(f"the BPF object is not built ({e}); run 'make -C bpf'")


def test_every_map_the_loader_opens_has_the_mirrored_sizes(obj):
    for name, (key, value, _percpu) in loader.MAPS.items():
        assert name in obj.maps, f"loader.MAPS names {name}, the object has no such map"
        _type, ksize, vsize = obj.maps[name]
        assert ksize == ctypes.sizeof(key), (name, "key", ksize, ctypes.sizeof(key))
        assert vsize == ctypes.sizeof(value), (name, "value", vsize, ctypes.sizeof(value))


def test_every_map_of_the_object_is_known(obj):
    known = set(loader.MAPS) | set(loader.PINNED_EXTRA)
    for name in obj.maps:
        if name.endswith(".rodata"):
            assert "rodata" in loader.PINNED_EXTRA
        elif ".rodata." in name or name.endswith(".bss") or name.endswith(".data"):
            continue
        else:
            assert name in known, f"map {name} is neither opened (MAPS) nor listed (PINNED_EXTRA)"


def test_optional_programs_exist(obj):
    for prog in loader.OPTIONAL_PROGRAMS:
        assert prog in obj.programs


def test_optional_hooks_are_operations_with_their_program(obj):
    """kernel/lsm.py names operations as strings (the kernel layer imports no model):
    each is an operation decided by that hook, in a program the loader may leave out."""
    assert set(lsm.OPTIONAL_HOOKS) == set(loader.OPTIONAL_PROGRAMS.values())
    assert set(lsm.HOOK_SINCE) == set(lsm.OPTIONAL_HOOKS.values())
    for op, hook in lsm.OPTIONAL_HOOKS.items():
        assert hook in syscalls.OPERATIONS[op].hooks, (op, hook)
        progs = [p for p, sec in obj.programs.items() if sec.split("/", 1)[1] == hook]
        assert progs and all(loader.OPTIONAL_PROGRAMS.get(p) == op for p in progs), (hook, progs)


def test_every_hook_of_every_operation_has_its_program(obj):
    sections = {sec.split("/", 1)[1] for sec in obj.programs.values()}
    for name, op in syscalls.OPERATIONS.items():
        for hook in op.hooks:
            assert hook in sections, f"{name}: hook {hook} has no program in the object"


def test_programs_are_lsm_programs_with_the_bst_prefix(obj):
    for prog, sec in obj.programs.items():
        assert sec.partition("/")[0] in ("lsm", "lsm.s"), (prog, sec)
        assert prog.startswith("bst_"), prog


def test_the_object_is_the_one_the_loader_uses():
    assert os.path.exists(loader.object_path())
