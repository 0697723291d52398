# SPDX-License-Identifier: GPL-2.0
#
# guestmem: out-of-tree build and test entry points.
#
#   make              build module/guestmem.ko against KDIR
#   make check        the whole test suite in VMs (see README.md)
#   make run          the demo in a VM with Debian's stock kernel
#   make shell        an interactive shell in the debug VM
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(shell pwd)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 C=2 modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	rm -rf build

check:
	scripts/check

run:
	scripts/run-demo

shell:
	scripts/vm --kernel debug --interactive

.PHONY: all modules sparse clean check run shell
