# modalfs top-level Makefile.
#
# The target kernel is Debian's linux-image-amd64 as installed under
# /lib/modules; the host may run a different kernel, so the version is
# taken from /lib/modules/*/build next to /boot/vmlinuz-*, never from the
# running kernel. Override with KVER=.

KVER ?= $(shell for b in /lib/modules/*/build; do v=$$(basename $$(dirname $$b)); \
		[ -e /boot/vmlinuz-$$v ] && echo $$v; done | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
export KVER KDIR BUILD

USER_CFLAGS ?= -O2 -g
export USER_CFLAGS

.PHONY: all module userd tools kunit clean deps check check-unit check-kunit check-install \
	check-vm demo install help fuzz check-long check-debug bench deb \
	dashboard check-ui

all: module userd tools dashboard

help:
	@echo "make            build kmod/modalfs.ko, userd/modalfsd, tools/modalfsctl"
	@echo "make deps       install the Debian packages needed to build, test and demo"
	@echo "make check      unit tests, KUnit and VM tests; ends with 'N passed, N failed'"
	@echo "make check-long make check with the long variants (MODALFS_LONG=1)"
	@echo "make check-debug  build (once, cached) a KASAN/lockdep/kmemleak kernel and run the VM tests on it"
	@echo "make demo       boot a VM, mount job-storage-vol and run the shelve demo"
	@echo "make bench      boot a VM and compare modalfs with tmpfs, NFS loopback and FUSE"
	@echo "make install    install module, daemon, CLI and mount helper (DESTDIR=)"
	@echo "make deb        build the modalfs and modalfs-dkms .deb packages (build/deb)"
	@echo "make check-ui   boot a VM and drive the dashboard in headless Chromium (tests/ui)"

module:
	@test -n "$(KVER)" || { echo "no kernel headers under /lib/modules/*/build; run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

userd:
	$(MAKE) -C userd

tools:
	$(MAKE) -C tools

# The web dashboard (dashboard/, libmicrohttpd).
dashboard:
	$(MAKE) -C dashboard

# The out-of-tree kunit.ko and the modalfs KUnit suites (tests/kunit).
kunit: module
	$(MAKE) -C tests/kunit

deps:
	./tests/deps.sh

# libFuzzer over the daemon's request decoding; FUZZ_SECONDS per target.
fuzz:
	$(MAKE) -C tests/fuzz run

check: all kunit
	./tests/run-checks.sh

# Long fsx/stress/fault variants; not part of make check.
check-long: all kunit
	MODALFS_LONG=1 ./tests/run-checks.sh

# Debug kernel (tests/debug-kernel); slow, so not part of make check.
check-debug: all
	./tests/debug-kernel/run.sh

check-unit: userd tools
	./tests/run-checks.sh unit

check-kunit: all kunit
	./tests/run-checks.sh kunit

check-vm: all
	./tests/run-checks.sh vm

# The dashboard in headless Chromium, in one VM (tests/ui, about 4 min;
# not part of make check); screenshots end up in build/check-ui/ui/.
check-ui: all deps
	./tests/ui/check-ui.sh

# Install the packages in a VM booted with systemd as PID 1 (tests/install;
# DKMS compiles the module under TCG: minutes). Not part of make check.
check-install: deb
	./tests/install/check-install.sh

demo: all
	./tests/vm/demo.sh

# Benchmark against tmpfs, NFS loopback and FUSE in one VM (tests/bench);
# not a test, not part of make check: it judges no number.
bench: all
	./tests/bench/bench.sh

install: all
	./tools/install.sh "$(DESTDIR)"

# Debian packages (debian/): modalfs and modalfs-dkms, checked by lintian.
deb:
	./tools/make-deb.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	$(MAKE) -C userd clean
	$(MAKE) -C tools clean
	$(MAKE) -C dashboard clean
	-$(MAKE) -C tests/kunit clean
	rm -rf $(BUILD)
