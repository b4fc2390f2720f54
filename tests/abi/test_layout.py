"""bpf/bpfsystrace.h and controller/abi.py describe the same ABI.

A C probe compiled with the host compiler prints sizeof/offsetof of every
field and the value of every #define; ctypes must agree on all of them.
"""

import ctypes
import os
import re
import shutil
import subprocess

import pytest

from bpfsystrace import abi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(ROOT, "bpf", "bpfsystrace.h")


def header_text():
    with open(HEADER) as f:
        return f.read()


def c_structs():
    """struct name -> [field names] parsed from the header."""
    out = {}
    for m in re.finditer(r"struct (bst_\w+) \{(.*?)\};", header_text(), re.S):
        fields = re.findall(r"^\s*(?:__[us]\d+|char)\s+(\w+)", m.group(2), re.M)
        out[m.group(1)] = fields
    return out


def c_defines():
    return dict(re.findall(r"^#define (BST_\w+)\s+(\S.*?)\s*(?:/\*.*)?$", header_text(), re.M))


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed for the ABI layout test"
    lines = [
        '#include <stdio.h>',
        '#include <stddef.h>',
        '#include <linux/types.h>',
        f'#include "{HEADER}"',
        'int main(void) {',
    ]
    for name, fields in c_structs().items():
        lines.append(f'printf("size {name} %zu\\n", sizeof(struct {name}));')
        for f in fields:
            lines.append(f'printf("off {name}.{f} %zu\\n", offsetof(struct {name}, {f}));')
    for name in c_defines():
        lines.append(f'printf("def {name} %llu\\n", (unsigned long long)({name}));')
    lines.append("return 0; }")
    d = tmp_path_factory.mktemp("abi")
    src, exe = d / "probe.c", d / "probe"
    src.write_text("\n".join(lines))
    subprocess.run([cc, "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return dict(line.rsplit(" ", 1) for line in out.splitlines())


def test_every_struct_is_mirrored_in_order():
    structs = c_structs()
    assert set(structs) == set(abi.STRUCTS), "header and abi.STRUCTS list different structs"
    for name, fields in structs.items():
        assert [f for f, _ in abi.STRUCTS[name]._fields_] == fields, name


def test_sizes_and_offsets_match(probe):
    for name, cls in abi.STRUCTS.items():
        assert int(probe[f"size {name}"]) == ctypes.sizeof(cls), name
        for field, _ in cls._fields_:
            assert int(probe[f"off {name}.{field}"]) == getattr(cls, field).offset, f"{name}.{field}"


def test_constants_match(probe):
    for name in c_defines():
        assert hasattr(abi, name), f"abi.py lacks {name}"
        assert int(probe[f"def {name}"]) == getattr(abi, name), name
