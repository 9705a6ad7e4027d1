# SPDX-License-Identifier: GPL-2.0
#
# lw-mm: AIX cross-memory, lightweight attach and ldata services for Linux 6.12.
# Every entry point of the project; `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Build directory: outside the work tree, kept between sessions, with ccache
# when installed.  In CI (CI=true): one fixed directory that `make test` and
# `make run` empty first, so every CI run is the cold build a new user gets
# and runs leave at most one build behind; no ccache (a cold cache only costs).
ifeq ($(CI),true)
  BUILD ?= /var/tmp/lw-mm-ci
  FRESH := 1
  CC_KERNEL := gcc
else
  BUILD ?= /var/tmp/lw-mm
  CCACHE_DIR ?= /var/tmp/lw-mm-ccache
  export CCACHE_DIR
  CC_KERNEL := $(if $(wildcard /usr/bin/ccache),ccache gcc,gcc)
endif
ifeq ($(filter /%,$(BUILD)),)
  $(error BUILD must be an absolute path, not "$(BUILD)")
endif
export BUILD

# Base tree: Debian's linux-source-6.12, or any 6.12.y tree (git or plain)
# given as KSRC=.  Each base gets its own patched tree and object directories.
DEBIAN_SRC := /usr/src/linux-source-6.12.tar.xz
ifdef KSRC
  BASE := $(abspath $(KSRC))
  WORK := $(BUILD)/ksrc-$(notdir $(BASE))
else
  BASE := $(DEBIAN_SRC)
  WORK := $(BUILD)
endif
TREE    := $(WORK)/linux
KOBJ    := $(WORK)/kunit
CHKOBJ  := $(WORK)/check
SERIES  := $(WORK)/series
RESULTS := $(WORK)/results

JOBS ?= $(shell nproc)
KUNITCONFIG ?= $(REPO)/kunit/lw-mm.kunitconfig
KUNIT_TIMEOUT ?= 900
# 4 CPUs on 2 NUMA nodes, one socket per node, under TCG (KVM guests hang on
# the build machines; QEMU_ACCEL=kvm to try it).  kunit.py passes -m 1024
# first; ours wins.
QEMU_ACCEL ?= tcg
QEMU_NUMA := -accel $(QEMU_ACCEL) -smp 4,sockets=2,cores=2,threads=1 -m 2G \
	-object memory-backend-ram,id=m0,size=1G \
	-object memory-backend-ram,id=m1,size=1G \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 \
	-numa node,nodeid=1,cpus=2-3,memdev=m1
KUNIT_PY := ./tools/testing/kunit/kunit.py
KUNIT_BUILD_ARGS = --arch=x86_64 --build_dir=$(KOBJ) --jobs=$(JOBS) \
	--kunitconfig=$(KUNITCONFIG) --make_options='CC=$(CC_KERNEL)'
KUNIT_ARGS = $(KUNIT_BUILD_ARGS) \
	--timeout=$(KUNIT_TIMEOUT) --qemu_args='$(QEMU_NUMA)'

# Benchmarks: a production kernel (kunit/bench.kunitconfig: no debug
# checkers) built by kunit.py in its own directory, so that the debug build
# in $(KOBJ) stays warm.  `make bench` runs each arm of BENCH_ARMS in turn
# (BENCH_ARMS=lw for one); arm A is the target bench-A, which leaves the
# raw console log in $(RESULTS)/bench-A.log and its table in
# $(RESULTS)/bench-A.txt and fails on a kunit.py error, a failed case, a
# splat or an empty table.  bench.log and bench.txt gather every arm's, and
# bench.txt starts with the host's state.  An arm that boots something else
# on the same kernel depends on bench-build.  Not part of `make test`: the
# numbers are ratios to read, never asserted.
BENCHOBJ := $(WORK)/bench
# What else loads the host while an arm runs, for its header (a recipe's
# shell function; pgrep -f: process names are cut to 15 characters).
BUSY = busy() { echo "load $$(cut -d' ' -f1-3 /proc/loadavg), $$(pgrep -c -f '(^|/)(cc1|cc1plus|rustc)( |$$)' || true) compilers, $$(pgrep -c -f '^qemu-system' || true) QEMUs"; };
BENCH_KUNITCONFIG ?= $(REPO)/kunit/bench.kunitconfig
BENCH_ARMS ?= ldata lw user lwtrace
BENCH_KUNIT_ARGS = --arch=x86_64 --build_dir=$(BENCHOBJ) --jobs=$(JOBS) \
	--kunitconfig=$(BENCH_KUNITCONFIG) --make_options='CC=$(CC_KERNEL)'
BENCH_EXEC_ARGS = --arch=x86_64 --build_dir=$(BENCHOBJ) \
	--timeout=$(KUNIT_TIMEOUT) --qemu_args='$(QEMU_NUMA)'

.PHONY: help deps tree series apply kunit kunit-build lw-trace e2e e2e-run run check test fresh clean distclean
.PHONY: bench bench-build $(addprefix bench-,$(BENCH_ARMS))

help:
	@echo 'make run      build the patched kernel, boot it under QEMU (2 NUMA nodes), run the /dev/xmem sharing workload and a misbehaving program under lw-trace'
	@echo 'make test     every check and suite; ends with "N passed, N failed"'
	@echo 'make tree     patched tree $(TREE) (git: lw-base + one commit per patch)'
	@echo 'make series   git format-patch series with cover letter in $(SERIES)'
	@echo 'make apply KSRC=/path/to/6.12.y-git-tree   git am the series onto your tree'
	@echo 'make kunit    kunit.py run of the suites; JSON in $(RESULTS)/kunit.json'
	@echo 'make lw-trace build tools/lw-trace against the patched kernel: $(WORK)/lw-trace/lw-trace'
	@echo 'make e2e      boot the test kernel with an initramfs and run the user-space suites'
	@echo 'make check    checkpatch --strict, kernel-doc, sparse and W=1 on new code, git am check'
	@echo 'make bench    benchmarks ($(BENCH_ARMS)) on a production kernel; tables in $(RESULTS)/bench.txt'
	@echo 'make clean    drop results and series; distclean: the whole $(BUILD)'
	@echo 'Variables: BUILD=$(BUILD) KSRC=<6.12.y tree> JOBS=$(JOBS) QEMU_ACCEL=$(QEMU_ACCEL)'

deps:
	@$(REPO)/harness/deps.sh

tree: deps
	@python3 $(REPO)/harness/mktree.py --base $(BASE) --tree $(TREE) $(if $(FORCE),--force)

series: tree
	@$(REPO)/harness/series.sh $(TREE) $(SERIES)

# The series is built on KSRC's own HEAD, then git am'd onto it.
apply:
	@[ -n "$(KSRC)" ] && git -C "$(KSRC)" rev-parse --git-dir >/dev/null 2>&1 || \
		{ echo 'apply: KSRC= must name a 6.12.y git tree' >&2; exit 1; }
	@$(MAKE) --no-print-directory series
	git -C $(KSRC) am $(sort $(filter-out %/0000-cover-letter.patch,$(wildcard $(SERIES)/*.patch)))
	@echo "apply: $$(ls $(SERIES)/*.patch | grep -vc cover-letter) patches applied to $(KSRC)"

# kunit.py's own verdict (its exit status: a crash, timeout or parse error
# fails even if every case it saw passed), the per-case results in the JSON,
# and the console: a splat fails the run.
kunit: tree
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/kunit.json $(RESULTS)/kunit-run.result $(RESULTS)/kunit-console.result $(KOBJ)/test.log
	@set +e; \
	(cd $(TREE) && $(KUNIT_PY) run $(KUNIT_ARGS) --json=$(RESULTS)/kunit.json) 2>&1 | tee $(RESULTS)/kunit.log; \
	rc=$${PIPESTATUS[0]}; \
	if [ $$rc = 0 ]; then echo "ok kunit.py run"; else echo "not ok kunit.py run (exit $$rc)"; fi > $(RESULTS)/kunit-run.result; \
	$(REPO)/harness/console-scan.sh $(KOBJ)/test.log "kunit console free of splats" $(RESULTS)/kunit-console.result $(REPO)/kunit/expected-warnings; \
	crc=$$?; \
	[ $$rc = 0 ] && [ $$crc = 0 ]

kunit-build: tree
	cd $(TREE) && $(KUNIT_PY) build $(KUNIT_BUILD_ARGS)

# lw-trace: vmlinux.h from the test kernel's BTF, a static binary.  The
# misuse programs of its tests need the exported headers.
LWT_OUT := $(WORK)/lw-trace
lw-trace: kunit-build
	$(MAKE) -s -C $(TREE) O=$(KOBJ) ARCH=x86_64 headers_install
	$(MAKE) -C $(TREE)/tools/lw-trace OUTPUT=$(LWT_OUT) VMLINUX=$(KOBJ)/vmlinux \
		KHDR_INCLUDES='-isystem $(KOBJ)/usr/include' all tests
	@echo "lw-trace: $(LWT_OUT)/lw-trace (static; copy it to the machine that runs the patched kernel)"

# End-to-end: the kernel KUnit built boots with an initramfs of static
# busybox and the user-space programs (harness/e2e.sh), same machine as
# KUnit.  e2e-run uses the kernel as it is; e2e builds it first.
E2E_OUT := $(WORK)/e2e
E2E = QEMU_ARGS='$(QEMU_NUMA)' $(REPO)/harness/e2e.sh

e2e: kunit-build
	@$(MAKE) --no-print-directory e2e-run

e2e-run: tree
	@mkdir -p $(RESULTS) $(E2E_OUT)
	@rm -f $(RESULTS)/e2e.result
	@set +e; $(E2E) test $(KOBJ) $(TREE) $(E2E_OUT) $(RESULTS)/e2e.result; rc=$$?; \
	echo "e2e: $$(grep -c '^ok' $(RESULTS)/e2e.result) passed, $$(grep -c '^not ok' $(RESULTS)/e2e.result) failed"; \
	grep '^not ok' $(RESULTS)/e2e.result || true; \
	exit $$rc

bench: tree
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/bench.log $(RESULTS)/bench.txt $(RESULTS)/bench-*.log $(RESULTS)/bench-*.txt
	@rc=0; \
	src="repo $$(git -C $(REPO) describe --always --dirty), lw-mm $$(git -C $(TREE) rev-parse --short=12 HEAD), mm/ldata.c blob $$(git -C $(TREE) rev-parse --short=12 HEAD:mm/ldata.c)"; \
	for arm in $(BENCH_ARMS); do \
		$(MAKE) --no-print-directory bench-$$arm || rc=1; \
	done; \
	{ \
		echo "make bench: $$(date -u '+%Y-%m-%d %H:%M UTC'), arms: $(BENCH_ARMS)"; \
		echo "source: $$src"; \
		echo "host: $$(nproc) CPUs, $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"; \
		echo "guest: $$(qemu-system-x86_64 --version | head -1), -accel $(QEMU_ACCEL), 4 CPUs on 2 NUMA nodes"; \
		for arm in $(BENCH_ARMS); do \
			echo; cat $(RESULTS)/bench-$$arm.txt 2>/dev/null || echo "$$arm: no results"; \
		done; \
	} > $(RESULTS)/bench.txt; \
	for arm in $(BENCH_ARMS); do cat $(RESULTS)/bench-$$arm.log 2>/dev/null; done > $(RESULTS)/bench.log; \
	echo; cat $(RESULTS)/bench.txt; \
	[ $$rc = 0 ] || echo "bench: an arm failed; see $(RESULTS)/bench-*.log" >&2; \
	exit $$rc

bench-build: tree
	cd $(TREE) && $(KUNIT_PY) build $(BENCH_KUNIT_ARGS)

# An arm is a KUnit suite of slow cases run on the bench kernel: ldata is
# kunit/ldata_bench.c, lw kunit/lw_attach_bench.c.  Its table is the
# suite's lines that start with BENCH_PREFIX, ending with "END RESULTS";
# the header records what else was compiling on the host while it ran (the
# numbers are host time).
bench-ldata: BENCH_SUITE := ldata_bench
bench-ldata: BENCH_PREFIX := ldata_bench
bench-ldata: BENCH_SRC := kunit/ldata_bench.c
bench-lw: BENCH_SUITE := lw_attach_bench
bench-lw: BENCH_PREFIX := lw_bench
bench-lw: BENCH_SRC := kunit/lw_attach_bench.c
bench-ldata bench-lw: bench-build
	@mkdir -p $(RESULTS)
	@rm -f $(BENCHOBJ)/test.log $(BENCHOBJ)/console.result $(RESULTS)/$@.log $(RESULTS)/$@.txt
	@set +e; \
	$(BUSY) \
	before=$$(busy); \
	(cd $(TREE) && $(KUNIT_PY) exec $(BENCH_EXEC_ARGS) '$(BENCH_SUITE)') 2>&1 | tee $(RESULTS)/$@.kunit.log; \
	rc=$${PIPESTATUS[0]}; \
	after=$$(busy); \
	cp $(BENCHOBJ)/test.log $(RESULTS)/$@.log 2>/dev/null; \
	$(REPO)/harness/console-scan.sh $(RESULTS)/$@.log "bench console" $(BENCHOBJ)/console.result; \
	crc=$$?; \
	{ \
		echo "$(@:bench-%=%): $(BENCH_SRC), host before: $$before; after: $$after"; \
		sed -n 's/^.*# [a-z_]*: $(BENCH_PREFIX): //p' $(RESULTS)/$@.log; \
	} > $(RESULTS)/$@.txt; \
	grep -q 'END RESULTS' $(RESULTS)/$@.txt || { echo "$@: no results in $(RESULTS)/$@.log" >&2; rc=1; }; \
	[ $$rc = 0 ] && [ $$crc = 0 ]

# The user-space arm: the bench kernel boots with an initramfs (harness/e2e.sh
# bench) and runs bench/xmem_bench.c: XMEM_IOC_ATTACH + DETACH against
# memfd mmap + munmap, process_vm_readv and memcpy of the same pages.
USER_BENCH_ARGS ?= -t 0.5
bench-user: bench-build
	@mkdir -p $(RESULTS) $(E2E_OUT)-bench
	@rm -f $(RESULTS)/$@.log $(RESULTS)/$@.txt $(E2E_OUT)-bench/result
	@set +e; \
	$(BUSY) \
	before=$$(busy); \
	E2E_BENCH_ARGS='$(USER_BENCH_ARGS)' $(E2E) bench $(BENCHOBJ) $(TREE) $(E2E_OUT)-bench $(E2E_OUT)-bench/result; \
	rc=$$?; \
	after=$$(busy); \
	cat $(E2E_OUT)-bench/console.log $(E2E_OUT)-bench/guest.txt > $(RESULTS)/$@.log 2>/dev/null; \
	{ \
		echo "user: bench/xmem_bench.c $(USER_BENCH_ARGS), host before: $$before; after: $$after"; \
		sed -n 's/^xmem_bench: //p' $(E2E_OUT)-bench/guest.txt; \
	} > $(RESULTS)/$@.txt; \
	grep -q 'END RESULTS' $(RESULTS)/$@.txt || { echo "$@: no results in $(RESULTS)/$@.log" >&2; rc=1; }; \
	[ $$rc = 0 ]

# lw-trace's overhead on the bench kernel: harness/lw-trace-bench.sh runs
# an attach/detach loop (xmem_bench -x 1) and an ldata alloc/free loop
# (lib/test_ldata.c) without lw-trace, with it, and with --stacks -L.
bench-lwtrace: bench-build
	@mkdir -p $(RESULTS) $(E2E_OUT)-lwbench
	@rm -f $(RESULTS)/$@.log $(RESULTS)/$@.txt $(E2E_OUT)-lwbench/result
	@set +e; \
	$(BUSY) \
	before=$$(busy); \
	$(E2E) lwbench $(BENCHOBJ) $(TREE) $(E2E_OUT)-lwbench $(E2E_OUT)-lwbench/result; \
	rc=$$?; \
	after=$$(busy); \
	cat $(E2E_OUT)-lwbench/console.log $(E2E_OUT)-lwbench/guest.txt > $(RESULTS)/$@.log 2>/dev/null; \
	{ \
		echo "lwtrace: harness/lw-trace-bench.sh, host before: $$before; after: $$after"; \
		sed -n 's/^lwtrace_bench: //p' $(E2E_OUT)-lwbench/guest.txt; \
	} > $(RESULTS)/$@.txt; \
	grep -q 'END RESULTS' $(RESULTS)/$@.txt || { echo "$@: no results in $(RESULTS)/$@.log" >&2; rc=1; }; \
	[ $$rc = 0 ]

# The main job: build the patched kernel, boot it under QEMU, and run the
# sharing workload (harness/e2e-demo.sh: xmem-producer and xmem-consumer
# through /dev/xmem), showing what it does; fails if the workload or the
# console does.
run:
	@$(if $(FRESH),$(MAKE) --no-print-directory fresh)
	@mkdir -p $(WORK)
	@echo "run: building the patched kernel (log: $(WORK)/run-build.log)"
	@$(MAKE) --no-print-directory kunit-build > $(WORK)/run-build.log 2>&1 || \
		{ tail -n 40 $(WORK)/run-build.log; echo "run: kernel build failed; log $(WORK)/run-build.log" >&2; exit 1; }
	@mkdir -p $(RESULTS) $(E2E_OUT)-demo
	@rm -f $(RESULTS)/demo.out
	@set +e; $(E2E) demo $(KOBJ) $(TREE) $(E2E_OUT)-demo $(RESULTS)/demo.out; rc=$$?; \
	cat $(RESULTS)/demo.out; \
	exit $$rc

check: series
	@mkdir -p $(RESULTS)
	@$(REPO)/harness/check.sh $(TREE) $(SERIES) $(CHKOBJ) $(KOBJ) $(RESULTS) '$(CC_KERNEL)'

# Every stage runs even if an earlier one failed; the summary decides.
test:
	@$(if $(FRESH),$(MAKE) --no-print-directory fresh)
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/*.result $(RESULTS)/kunit.json
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory tree; then \
		$(MAKE) --no-print-directory kunit || true; \
		$(MAKE) --no-print-directory e2e-run || true; \
		$(MAKE) --no-print-directory check || true; \
	else \
		echo "not ok make tree" > $(RESULTS)/tree.result; \
	fi; \
	echo "test: $$(( $$(date +%s) - start ))s, build directory $(WORK)"; \
	python3 $(REPO)/harness/summary.py $(RESULTS)

# A cold start: drop the tree and every build product of this base.
fresh:
	rm -rf $(TREE) $(TREE).tmp $(KOBJ) $(CHKOBJ) $(BENCHOBJ) $(SERIES) $(RESULTS) $(WORK)/am-check \
		$(E2E_OUT) $(E2E_OUT)-demo $(E2E_OUT)-bench $(E2E_OUT)-lwbench $(LWT_OUT)

clean:
	rm -rf $(RESULTS) $(SERIES)

distclean:
	rm -rf $(BUILD)
