"""Build hook: every wheel carries the compiled BPF object.

pyproject.toml holds the metadata; this only extends build_py so that building
a wheel (pip wheel ., python -m build, pybuild for the Debian package) runs
`make -C bpf` and puts bpf/.output/bpfsystrace.bpf.o into the package as
bpfsystrace/data/bpfsystrace.bpf.o, where kernel/loader.py finds it. The object
is CO-RE: compiled once against the build host's BTF (VMLINUX_BTF=..., default
/sys/kernel/btf/vmlinux), relocated by libbpf on each kernel. A build that
cannot compile it fails: a wheel without its object could not enforce.
An editable install (pip install -e) skips this: it finds bpf/.output/ itself.
"""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

HERE = os.path.dirname(os.path.abspath(__file__))
OBJECT = os.path.join(HERE, "bpf", ".output", "bpfsystrace.bpf.o")


class BuildPyWithBpfObject(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        make = os.environ.get("MAKE", "make")
        try:
            subprocess.run([make, "-s", "-C", os.path.join(HERE, "bpf")], check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise SetupError(f"cannot build the BPF object with 'make -C bpf' ({e}); it needs "
                             "clang, llvm, bpftool and a BTF file (VMLINUX_BTF=..., default "
                             "/sys/kernel/btf/vmlinux): scripts/setup installs them") from e
        dest = os.path.join(self.build_lib, "bpfsystrace", "data")
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(OBJECT, os.path.join(dest, "bpfsystrace.bpf.o"))

    def get_outputs(self, include_bytecode=True):
        out = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            out.append(os.path.join(self.build_lib, "bpfsystrace", "data", "bpfsystrace.bpf.o"))
        return out


setup(cmdclass={"build_py": BuildPyWithBpfObject})
