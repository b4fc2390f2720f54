# The two commands of the README:
#   make demo   confine a real service and show allowed and denied actions
#   make test   run the whole test suite (make check, host tests, kernel tests in the VM)
#   make check  the fast gate: ruff, mypy, clang-format (scripts/check; under a minute)
#   make deb    the Debian package: dist/bpfsystrace_<version>_<arch>.deb (docs/install.md)
#   make wheel  the wheel, with its BPF object: dist/bpfsystrace-<version>-py3-none-any.whl
.PHONY: demo test check setup bpf clean deb wheel

demo:
	scripts/demo

test:
	scripts/test

setup:
	scripts/setup

check:
	scripts/check

bpf:
	$(MAKE) -C bpf

deb:
	scripts/build-deb

# Debian's python3 -m build (python3-build), without network: setup.py runs make -C bpf
wheel:
	/usr/bin/python3 -m build --wheel --no-isolation --outdir dist .

clean:
	$(MAKE) -C bpf clean
	rm -rf build dist
