# SPDX-License-Identifier: GPL-2.0
#
# dxg developer entry points:
#   make run      build what is missing, boot a guest with simulated adapters
#   make check    cargo tests, module build, guest tests; ends "N passed, N failed"
#   make check T=pattern   only the matching tests (glob or substring, comma list)
#   make bench    benchmarks in the guest (ratios against same-run baselines)
#   make bench-trace   traced benchmarks cut into phases (where the time goes)
# Other targets: deps kernel rootfs igt module module-test tools payload clean
# distclean.
#
# When invoked by the kernel build (M=), only Kbuild is used.
ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

SHELL      := /bin/bash
CACHE      ?= $(HOME)/.cache/dxg
OUT        ?= $(CURDIR)/out
BINDGEN    ?= $(HOME)/.cargo/bin/bindgen
KFLAGS     := LLVM=-19 RUSTC=/usr/bin/rustc BINDGEN=$(BINDGEN)
CARGO      ?= cargo
T          ?=
export DXG_CACHE := $(CACHE)
# Which kernel configuration (scripts/kernel.sh): test, or bench for `make
# bench`, which builds everything for it into its own output folder.
DXG_KERNEL_FLAVOUR ?= test
export DXG_KERNEL_FLAVOUR

# Paths of the cached kernel build and root filesystem, written by the
# scripts (which only rebuild when their inputs changed).
# (shell-level, so a recipe sees what an earlier line of it just wrote)
KDIR        = $$(cat $(OUT)/kernel.path)
ROOTFS      = $$(cat $(OUT)/rootfs.path)

.PHONY: all deps kernel rootfs igt module module-test tools payload check check-host check-guest fuzz \
	bench bench-run bench-trace bench-trace-run run clean distclean FORCE

all: module tools

deps:
	@scripts/deps.sh

$(OUT):
	@mkdir -p $@

kernel: deps | $(OUT)
	@scripts/kernel.sh >$(OUT)/kernel.path.new && mv $(OUT)/kernel.path.new $(OUT)/kernel.path
	@echo "kernel: $(KDIR) ($$(sed -n 's/^version=//p' $(KDIR)/dxg-kernel.info))"

rootfs: deps | $(OUT)
	@scripts/rootfs.sh >$(OUT)/rootfs.path.new && mv $(OUT)/rootfs.path.new $(OUT)/rootfs.path

# IGT's test programs (tests/igt/pin). Not having them is no build error:
# the payload goes without, and the IGT guest tests skip.
igt: | $(OUT)
	@if scripts/igt.sh >$(OUT)/igt.path.new; then mv $(OUT)/igt.path.new $(OUT)/igt.path; \
	else rm -f $(OUT)/igt.path $(OUT)/igt.path.new; echo "igt: unavailable; IGT guest tests will skip"; fi

# Two builds of the module, each into its own folder (MO=), each without a
# single warning:
#   make module        out/module/prod/dxg.ko, the module a user installs;
#   make module-test   out/module/test/dxg.ko, the test build (DXG_TEST=1:
#                      the loopback transport and the pci-testdev stand-in).
# Both are linted by clippy as they build (CLIPPY=1): the test machinery's
# code is kernel code too.
MODOUT := $(OUT)/module
CLIPPY_DRIVER ?= /usr/bin/clippy-driver
define build_module
	@mkdir -p $(MODOUT)/$(1)
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR) MO=$(MODOUT)/$(1) $(KFLAGS) $(2) modules 2>&1 | tee $(MODOUT)/$(1).log
	@if grep -qiE "warning|error" $(MODOUT)/$(1).log; then \
		echo "module: the $(1) build printed warnings (see $(MODOUT)/$(1).log)"; exit 1; fi
	@echo "module ($(1)): $(MODOUT)/$(1)/dxg.ko ($$(modinfo -F vermagic $(MODOUT)/$(1)/dxg.ko))"
endef

module: kernel
	$(call build_module,prod,CLIPPY=1 CLIPPY_DRIVER=$(CLIPPY_DRIVER))

module-test: kernel
	$(call build_module,test,DXG_TEST=1 CLIPPY=1 CLIPPY_DRIVER=$(CLIPPY_DRIVER))

tools: deps
	@$(CARGO) build -q --release --workspace --bins

# Everything a guest run needs, in one folder exported read-only to it.
payload: module module-test tools rootfs igt
	@rm -rf $(OUT)/payload && mkdir -p $(OUT)/payload/bin $(OUT)/payload/tests
	@if [ -f $(OUT)/igt.path ]; then cp -r "$$(cat $(OUT)/igt.path)" $(OUT)/payload/igt; fi
	@cp $(MODOUT)/test/dxg.ko VERSION $(OUT)/payload/
	@cp -r tests/harness $(OUT)/payload/harness
	@cp tests/guest/*.sh tests/harness/selftest/*.sh tests/bench/*.sh $(OUT)/payload/tests/
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR)/tests/harness/selftest/splat $(KFLAGS) modules
	@cp tests/harness/selftest/splat/dxg_splat.ko $(OUT)/payload/
	@find target/release -maxdepth 1 -type f -executable -exec cp {} $(OUT)/payload/bin/ \;
	@$(MAKE) -s -C $(KDIR) $(KFLAGS) INSTALL_MOD_PATH=$(OUT)/payload/mi modules_install >/dev/null
	@mv $(OUT)/payload/mi/lib/modules $(OUT)/payload/modules && rm -rf $(OUT)/payload/mi

HARNESS_ARGS = --kernel $(KDIR)/arch/x86/boot/bzImage --rootfs $(ROOTFS) \
	--payload $(OUT)/payload
HARNESS = tests/harness/dxgtest.py $(HARNESS_ARGS)

# make check: every stage runs; each adds PASS/FAIL/SKIP lines to
# out/check/summary, and the last line printed counts them.
SUMMARY = $(OUT)/check/summary
check:
	@rm -rf $(OUT)/check && mkdir -p $(OUT)/check && : >$(SUMMARY)
	@$(MAKE) -s check-host || true
	@if $(MAKE) -s payload >$(OUT)/check/build.log 2>&1; then \
		echo "PASS build (kernel, both dxg.ko builds without warnings or clippy lints, tools, rootfs)" | tee -a $(SUMMARY); \
		tests/harness/module-checks.sh $(SUMMARY) $(MODOUT) "$(T)"; \
		$(MAKE) -s check-guest || true; \
	else \
		tail -n 30 $(OUT)/check/build.log; \
		echo "FAIL build: see out/check/build.log; guest tests not run" | tee -a $(SUMMARY); \
	fi
	@tests/harness/summary.sh $(SUMMARY)

check-host: deps | $(OUT)
	@mkdir -p $(OUT)/check && touch $(SUMMARY)
	@tests/harness/host-checks.sh $(SUMMARY) "$(T)"

check-guest:
	@mkdir -p $(OUT)/check && touch $(SUMMARY)
	@if [ -z "$(T)" ] || [[ harness-selftest == *$(T)* ]]; then \
		tests/harness/selftest.sh $(SUMMARY) $(HARNESS_ARGS) >$(OUT)/check/selftest.log 2>&1 & \
	fi; \
	$(HARNESS) --out $(OUT)/check --filter "$(T)" --summary-file $(SUMMARY); rc=$$?; \
	wait; cat $(OUT)/check/selftest.log 2>/dev/null; exit $$rc

# Benchmarks: ratios against a baseline measured in the same guest run, on
# the bench kernel (no KASAN, lockdep or kmemleak: see
# Documentation/benchmarks.rst), built with its module and payload into
# out/bench-build; results in out/bench.
BENCH_BUILD = $(CURDIR)/out/bench-build
BENCH_MAKE = $(MAKE) -s OUT=$(BENCH_BUILD) DXG_KERNEL_FLAVOUR=bench
bench:
	@$(BENCH_MAKE) payload
	@$(BENCH_MAKE) bench-run

bench-run:
	@rm -rf $(CURDIR)/out/bench
	@$(HARNESS) --tests tests/bench --out $(CURDIR)/out/bench --filter "$(T)" \
		--summary-file $(CURDIR)/out/bench/summary; \
	for f in $(CURDIR)/out/bench/boot*/bench-*.out; do echo "== $$(basename $$f .out)"; cat $$f; done

# The fuzzer's long run (tests/fuzz): tests/guest/fuzz.sh for FUZZ_SECONDS
# (default 600) on the debug kernel, with FUZZ_SEED (default: the time);
# results in out/fuzz.
FUZZ_SECONDS ?= 600
ifeq ($(origin FUZZ_SEED),undefined)
FUZZ_SEED := $(shell date +%s)
endif
fuzz: payload
	@echo $(FUZZ_SECONDS) >$(OUT)/payload/fuzz-seconds
	@echo $(FUZZ_SEED) >$(OUT)/payload/fuzz-seed
	@cp tests/fuzz/*.sh $(OUT)/payload/tests/
	@rm -rf $(CURDIR)/out/fuzz
	@echo "fuzz: seed $(FUZZ_SEED), $(FUZZ_SECONDS) s"
	@$(HARNESS) --tests tests/fuzz --out $(CURDIR)/out/fuzz --summary-file $(CURDIR)/out/fuzz/summary; \
		rc=$$?; rm -f $(OUT)/payload/fuzz-seconds $(OUT)/payload/fuzz-seed $(OUT)/payload/tests/fuzz-long.sh; exit $$rc

# Where the time goes: traced round trips and submissions on the bench
# kernel, cut into phases by tests/bench/trace/phases.py (traces kept in
# out/bench-trace).
bench-trace:
	@$(BENCH_MAKE) payload
	@cp tests/bench/trace/*.sh $(BENCH_BUILD)/payload/tests/
	@$(BENCH_MAKE) bench-trace-run

bench-trace-run:
	@rm -rf $(CURDIR)/out/bench-trace
	@$(HARNESS) --tests tests/bench/trace --out $(CURDIR)/out/bench-trace \
		--summary-file $(CURDIR)/out/bench-trace/summary
	@for t in trace-round-trip:round-trip trace-submit:submit trace-submit-async:submit; do \
		f=$$(ls $(CURDIR)/out/bench-trace/boot*/$${t%%:*}.trace 2>/dev/null | head -n1); \
		echo "== $${t%%:*}"; [ -n "$$f" ] && tests/bench/trace/phases.py $${t#*:} $$f; done

run: payload
	@$(HARNESS) --out $(OUT) --run --qemu-extra "-device pci-testdev -device pci-testdev"

clean:
	@if [ -f $(OUT)/kernel.path ]; then \
		$(MAKE) -s -C $(KDIR) M=$(CURDIR) $(KFLAGS) clean 2>/dev/null || true; fi
	rm -rf $(OUT) target

# Also drop the cached kernel, sources and root filesystems.
distclean: clean
	rm -rf $(CACHE)

endif
