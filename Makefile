# The two commands of the README:
#   make demo   confine a real service and show allowed and denied actions
#   make test   run the whole test suite (host tests + kernel tests in the VM)
.PHONY: demo test setup bpf clean

demo:
	scripts/demo

test:
	scripts/test

setup:
	scripts/setup

bpf:
	$(MAKE) -C bpf

clean:
	$(MAKE) -C bpf clean
