# SPDX-License-Identifier: GPL-2.0
#
# guestmem: out-of-tree build and test entry points.
#
#   make              build module/guestmem.ko and the samples against KDIR
#   make sparse       the same with sparse on every file (C=2)
#   make tools        guestmemctl and guestmem-demo in tools/ (tools/Makefile,
#                     which builds every user-space program)
#   make check        the whole test suite in VMs (see README.md)
#   make run          the demo in a VM with Debian's stock kernel
#   make shell        an interactive shell in the debug VM
#   make bench        benchmarks against peers, on the stock kernel
#   make stress       long stress and fuzzing runs in the debug VM
#   make install      modules_install into updates/guestmem/ of the kernel
#                     of KDIR (INSTALL_MOD_PATH=$(DESTDIR)), the uapi
#                     header, the udev rule, guestmemctl, the man pages
#                     guestmem(4) and guestmemctl(8)
#   make uninstall    remove what `make install` installed
#   make dkms-install the same, with DKMS building the module for every kernel
#   make dkms-remove  remove what `make dkms-install` installed
#   make deb          Debian packages guestmem-dkms and guestmem-utils, from
#                     a copy of the tree, into build/deb (scripts/build-deb)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(shell pwd)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

sparse:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 C=2 modules

tools:
	$(MAKE) -C tools

# What install puts in /usr/bin.
guestmemctl:
	$(MAKE) -C tools guestmemctl

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools clean)
	rm -rf build

check:
	scripts/check

run:
	scripts/run-demo

shell:
	scripts/vm --kernel debug --interactive

bench:
	scripts/bench

stress:
	scripts/stress

deb:
	scripts/build-deb

.PHONY: all modules sparse tools guestmemctl clean check run shell bench stress deb

# ---- installation ----------------------------------------------------------
# DESTDIR stages the files under a directory (for packaging or a test): then
# no depmod, no group creation and no udev reload happen.
DESTDIR ?=
PREFIX ?= /usr
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /lib/udev/rules.d
# Every module this tree builds goes under one directory that says whose
# they are, so that uninstall can remove them all.
INSTALL_MOD_DIR ?= updates/guestmem
GUESTMEM_GROUP ?= guestmem
DKMS ?= dkms
# The release of the kernel in KDIR, as modules_install names its directory.
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/guestmem-$(DKMS_VERSION)
# The module's sources, as DKMS and the guestmem-dkms package take them
# (`make -s print-dkms-files` lists them for debian/rules).
DKMS_FILES = Kbuild Makefile dkms.conf $(filter-out %.mod.c,$(wildcard \
	module/Kbuild module/*.[ch] module/tests/*.[ch] include/linux/*.h \
	uapi/linux/*.h samples/Kbuild samples/*.[ch]))
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)

define check_krel
	@test -n "$(KREL)" || { echo "no kernel build tree at KDIR=$(KDIR)" \
		"(install linux-headers-$$(uname -r), or set KDIR)" >&2; exit 1; }
endef

define install_userspace
	install -D -m 0644 uapi/linux/guestmem.h \
		$(DESTDIR)$(PREFIX)/include/linux/guestmem.h
	mkdir -p $(DESTDIR)$(UDEVRULESDIR)
	sed 's/GROUP="guestmem"/GROUP="$(GUESTMEM_GROUP)"/' udev/70-guestmem.rules \
		> $(DESTDIR)$(UDEVRULESDIR)/70-guestmem.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/70-guestmem.rules
	install -D -m 0755 tools/guestmemctl $(DESTDIR)$(PREFIX)/bin/guestmemctl
	install -D -m 0644 man/guestmem.4 $(DESTDIR)$(MANDIR)/man4/guestmem.4
	install -D -m 0644 man/guestmemctl.8 $(DESTDIR)$(MANDIR)/man8/guestmemctl.8
	$(if $(DESTDIR),,getent group $(GUESTMEM_GROUP) >/dev/null || \
		groupadd --system $(GUESTMEM_GROUP))
	$(if $(DESTDIR),,! command -v udevadm >/dev/null || \
		{ udevadm control --reload-rules && udevadm trigger \
		  --subsystem-match=misc --sysname-match=guestmem; } || true)
endef

define uninstall_userspace
	rm -f $(DESTDIR)$(PREFIX)/include/linux/guestmem.h \
		$(DESTDIR)$(UDEVRULESDIR)/70-guestmem.rules \
		$(DESTDIR)$(PREFIX)/bin/guestmemctl \
		$(DESTDIR)$(MANDIR)/man4/guestmem.4 \
		$(DESTDIR)$(MANDIR)/man8/guestmemctl.8
endef

install: modules guestmemctl
	$(check_krel)
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	$(install_userspace)
	$(if $(DESTDIR),,depmod -a $(KREL))

uninstall:
	$(check_krel)
	@test -n "$(strip $(INSTALL_MOD_DIR))" || \
		{ echo "INSTALL_MOD_DIR must name guestmem's own directory" >&2; exit 1; }
	! test -d $(MODDIR) || find $(MODDIR) -name 'guestmem*.ko*' -delete
	! test -d $(MODDIR) || find $(MODDIR) -depth -type d -empty -delete
	$(uninstall_userspace)
	$(if $(DESTDIR),,depmod -a $(KREL))

dkms-install: guestmemctl
	$(check_krel)
	if $(DKMS) status -m guestmem -v $(DKMS_VERSION) | grep -q .; then \
		$(DKMS) remove -m guestmem -v $(DKMS_VERSION) --all; fi
	rm -rf $(DKMS_SRC)
	for f in $(DKMS_FILES); do \
		install -D -m 0644 $$f $(DKMS_SRC)/$$f || exit 1; done
	$(DKMS) add -m guestmem -v $(DKMS_VERSION)
	$(DKMS) build -m guestmem -v $(DKMS_VERSION) -k $(KREL) \
		--kernelsourcedir $(KDIR)
	$(DKMS) install -m guestmem -v $(DKMS_VERSION) -k $(KREL) \
		--kernelsourcedir $(KDIR)
	$(install_userspace)

dkms-remove:
	if $(DKMS) status -m guestmem -v $(DKMS_VERSION) | grep -q .; then \
		$(DKMS) remove -m guestmem -v $(DKMS_VERSION) --all; fi
	rm -rf $(DKMS_SRC)
	$(uninstall_userspace)

print-dkms-files:
	@echo $(DKMS_FILES)

.PHONY: install uninstall dkms-install dkms-remove print-dkms-files
