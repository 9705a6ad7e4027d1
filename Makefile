# SPDX-License-Identifier: GPL-2.0
#
# lw-mm: AIX cross-memory, lightweight attach and ldata services for Linux 6.12.
# Every entry point of the project; `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Build directory: outside the work tree, kept between sessions.  In CI
# (CI=true): one fixed directory that `make test` and `make run` empty
# first, so every CI run is the cold build a new user gets and runs leave
# at most one build behind.
#
# The compiler string is part of every object's command line, so it must
# not depend on what is installed when make parses this file: `make run`
# on a fresh machine installs ccache (harness/deps.sh) only after parsing,
# and a string that changed from "gcc" to "ccache gcc" between the first
# and the second command recompiled the whole kernel.  Outside CI it is
# always "ccache gcc" (deps installs ccache before anything compiles); in
# CI always "gcc" (a cold cache only costs).
ifeq ($(CI),true)
  BUILD ?= /var/tmp/lw-mm-ci
  FRESH := 1
  CC_KERNEL := gcc
else
  BUILD ?= /var/tmp/lw-mm
  CCACHE_DIR ?= /var/tmp/lw-mm-ccache
  # Depend mode: a miss compiles once, without a separate preprocessor
  # run (17% of a cold build's time without it, measured on mm/).
  CCACHE_DEPEND ?= 1
  export CCACHE_DIR CCACHE_DEPEND
  CC_KERNEL := ccache gcc
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
# kasan_multi_shot: every KASAN report, not just the first of the boot.
KUNIT_EXEC_ARGS = --arch=x86_64 --build_dir=$(KOBJ) --kunitconfig=$(KUNITCONFIG) \
	--timeout=$(KUNIT_TIMEOUT) --kernel_args=kasan_multi_shot

# Benchmarks: a production kernel (kunit/bench.kunitconfig: no debug
# checkers) built by kunit.py in its own directory, so that the debug build
# in $(KOBJ) stays warm.  `make bench` runs each arm of BENCH_ARMS in turn
# (BENCH_ARMS=lw for one; harness/bench.sh has them all); arm A is the
# target bench-A, which leaves the raw log in $(RESULTS)/bench-A.log and its
# table in $(RESULTS)/bench-A.txt.  bench.txt gathers every arm's table
# after the source and host they ran on.  Not part of `make test`: the
# numbers are ratios to read, never asserted.
BENCHOBJ := $(WORK)/bench
BENCH_KUNITCONFIG ?= $(REPO)/kunit/bench.kunitconfig
BENCH_ARMS ?= ldata lw user xpmem lwtrace
USER_BENCH_ARGS ?= -t 0.2
# bench-xpmem: runs per library, and XPMEM_SRC= an out-of-tree XPMEM source
# (e.g. ../shared/peers/xpmem) to measure against in the same boot.
XPMEM_BENCH_ARGS ?= -t 0.2
XPMEM_BENCH_REPS ?= 7
XPMEM_SRC ?=
BENCH_KUNIT_ARGS = --arch=x86_64 --build_dir=$(BENCHOBJ) --jobs=$(JOBS) \
	--kunitconfig=$(BENCH_KUNITCONFIG) --make_options='CC=$(CC_KERNEL)'
BENCH = TREE=$(TREE) BENCHOBJ=$(BENCHOBJ) RESULTS=$(RESULTS) E2E_OUT=$(E2E_OUT) \
	QEMU_ARGS='$(QEMU_NUMA)' QEMU_ACCEL=$(QEMU_ACCEL) KUNIT_TIMEOUT=$(KUNIT_TIMEOUT) \
	USER_BENCH_ARGS='$(USER_BENCH_ARGS)' XPMEM_BENCH_ARGS='$(XPMEM_BENCH_ARGS)' \
	XPMEM_BENCH_REPS='$(XPMEM_BENCH_REPS)' XPMEM_SRC='$(XPMEM_SRC)' UCX_OUT='$(UCX_OUT)' \
	REPO_DESC="$$(git -C $(REPO) describe --always --dirty)" $(REPO)/harness/bench.sh

# Kernel builds show their progress (harness/kbuild.sh); `make run` and
# `make test` time their stages (harness/stage.sh).
KBUILD = $(REPO)/harness/kbuild.sh
STAGES := $(WORK)/stages
STAGE = $(REPO)/harness/stage.sh $(STAGES)
STAGES_REPORT = $(REPO)/harness/stage.sh --report $(STAGES)
SUBMAKE = $(MAKE) --no-print-directory

.PHONY: help deps tree series apply kunit kunit-build kunit-exec lw-trace e2e e2e-run run check check-bisect test fresh clean distclean
.PHONY: fuzz torture
.PHONY: bench bench-build $(addprefix bench-,$(BENCH_ARMS))

help:
	@echo 'make run      build the patched kernel, boot it under QEMU (2 NUMA nodes), run the /dev/xmem sharing workload and a misbehaving program under lw-trace'
	@echo 'make test     every check and suite; ends with "N passed, N failed"'
	@echo 'make tree     patched tree $(TREE) (git: lw-base + one commit per patch)'
	@echo 'make series   git format-patch series with cover letter in $(SERIES)'
	@echo 'make apply KSRC=/path/to/6.12.y-git-tree   git am the series onto your tree'
	@echo 'make kunit    build the test kernel and run the KUnit suites (two boots); JSON in $(RESULTS)/kunit*.json'
	@echo 'make lw-trace build tools/lw-trace against the patched kernel: $(WORK)/lw-trace/lw-trace'
	@echo 'make e2e      build the test kernel, boot it with an initramfs and run the user-space suites'
	@echo 'make fuzz     the /dev/xmem fuzzer in the test kernel: 1,000,000 ioctls (IOCTLS=, SECONDS=, SEED=)'
	@echo 'make torture  the races, under memory pressure and CPU hotplug (SECONDS=300, SEED=)'
	@echo 'make check    checkpatch --strict, kernel-doc, Sphinx, sparse and W=1 on new code, git am check'
	@echo 'make check-bisect  build and checkpatch every patch of the series on its own'
	@echo 'make bench    benchmarks ($(BENCH_ARMS)) on a production kernel; tables in $(RESULTS)/bench.txt'
	@echo 'make ucx      Debian'"'"'s UCX built against tools/xpmem; ucx_perftest over xpmem and cma in the test kernel'
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
	@$(SUBMAKE) series
	git -C $(KSRC) am $(sort $(filter-out %/0000-cover-letter.patch,$(wildcard $(SERIES)/*.patch)))
	@echo "apply: $$(ls $(SERIES)/*.patch | grep -vc cover-letter) patches applied to $(KSRC)"

# The test kernel, built by kunit.py with the suites' profile.
kunit-build: tree
	@$(KBUILD) $(KOBJ) $(WORK)/build.log $(TREE) $(KUNIT_BUILD_ARGS)

kunit: kunit-build
	@$(SUBMAKE) kunit-exec

# Two boots of the test kernel (harness/kunit.sh): every suite on 4 CPUs
# in 2 NUMA nodes, then the ldata_topology suite with a third node that has
# CPUs and no memory.  A kernel older than the tree is refused.
QEMU_TOPOLOGY := -accel $(QEMU_ACCEL) -smp 6,sockets=3,cores=2,threads=1 -m 2G \
	-object memory-backend-ram,id=m0,size=1G \
	-object memory-backend-ram,id=m1,size=1G \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 \
	-numa node,nodeid=1,cpus=2-3,memdev=m1 \
	-numa node,nodeid=2,cpus=4-5
KUNIT_RUN = $(REPO)/harness/kunit.sh
kunit-exec:
	@rm -f $(RESULTS)/kunit*.json $(RESULTS)/kunit*.result
	@set +e; rc=0; \
	$(KUNIT_RUN) kunit $(TREE) $(KOBJ) $(RESULTS) '$(QEMU_NUMA)' '' $(KUNIT_EXEC_ARGS) || rc=1; \
	$(KUNIT_RUN) kunit-topology $(TREE) $(KOBJ) $(RESULTS) '$(QEMU_TOPOLOGY)' 'ldata_topology' \
		$(KUNIT_EXEC_ARGS) || rc=1; \
	exit $$rc

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
# KUnit.  e2e builds the kernel first; e2e-run boots it as built and
# refuses a kernel older than the tree.
E2E_OUT := $(WORK)/e2e
E2E = env QEMU_ARGS='$(QEMU_NUMA)' $(REPO)/harness/e2e.sh

e2e: kunit-build
	@$(SUBMAKE) e2e-run

e2e-run: tree
	@mkdir -p $(RESULTS) $(E2E_OUT)
	@rm -f $(RESULTS)/e2e.result
	@set +e; $(E2E) test $(KOBJ) $(TREE) $(E2E_OUT) $(RESULTS)/e2e.result; rc=$$?; \
	echo "e2e: $$(grep -c '^ok' $(RESULTS)/e2e.result) passed, $$(grep -c '^not ok' $(RESULTS)/e2e.result) failed"; \
	grep '^not ok' $(RESULTS)/e2e.result || true; \
	exit $$rc

# The fuzzer and the torture suite, long runs in the booted test kernel
# (harness/e2e.sh fuzz | torture); make test runs short fixed-seed passes
# of both.  make fuzz: 1,000,000 ioctls (IOCTLS=), or SECONDS= of them;
# make torture: SECONDS= (300).  SEED= replays a run.
FUZZ_ARGS = $(if $(SECONDS),-t $(SECONDS) -n 1000000000,-n $(or $(IOCTLS),1000000) -t 3000) \
	$(if $(SEED),-s $(SEED))
TORTURE_ARGS = $(or $(SECONDS),300) $(if $(SEED),-s $(SEED))
fuzz torture: kunit-build
	@mkdir -p $(RESULTS) $(E2E_OUT)-$@
	@rm -f $(RESULTS)/$@.result
	@set +e; E2E_TIMEOUT=$$(( $(or $(SECONDS),3000) + 900 )) \
	E2E_FUZZ_ARGS='$(FUZZ_ARGS)' E2E_TORTURE_ARGS='$(TORTURE_ARGS)' \
		$(E2E) $@ $(KOBJ) $(TREE) $(E2E_OUT)-$@ $(RESULTS)/$@.result; rc=$$?; \
	grep -E '^(# |(not )?ok )' $(E2E_OUT)-$@/guest.txt; \
	echo "$@: $$(grep -c '^ok' $(RESULTS)/$@.result) passed, $$(grep -c '^not ok' $(RESULTS)/$@.result) failed"; \
	grep '^not ok' $(RESULTS)/$@.result; \
	exit $$rc

# A real XPMEM client: Debian's ucx source package (apt-get source, with
# a deb-src entry added when there is none) configured --with-xpmem= the
# library as tools/xpmem installs it (harness/ucx-build.sh); then the test
# kernel boots with UCX in the initramfs (harness/ucx-files.sh) and
# harness/guest/ucx.sh runs ucx_info -d and ucx_perftest between two
# processes over UCX_TLS=xpmem and over cma, Linux's copy path, as the
# baseline.  Not part of `make test`: UCX takes about 10 minutes to build.
UCX_OUT := $(WORK)/ucx
ucx: kunit-build
	@$(REPO)/harness/deps.sh ucx
	@mkdir -p $(RESULTS) $(E2E_OUT)-ucx $(UCX_OUT)/xpmem-obj
	@rm -f $(RESULTS)/ucx.result
	$(MAKE) -s -C $(TREE) O=$(KOBJ) ARCH=x86_64 headers_install
	$(MAKE) -s -C $(TREE)/tools/xpmem OUTPUT=$(UCX_OUT)/xpmem-obj \
		KHDR_INCLUDES='-isystem $(KOBJ)/usr/include' install PREFIX=$(UCX_OUT)/xpmem
	$(REPO)/harness/ucx-build.sh $(UCX_OUT)/xpmem $(UCX_OUT)/src $(UCX_OUT)
	@set +e; E2E_UCX=$(UCX_OUT) $(E2E) ucx $(KOBJ) $(TREE) $(E2E_OUT)-ucx $(RESULTS)/ucx.result; \
	rc=$$?; grep -E '^(# |(not )?ok )' $(E2E_OUT)-ucx/guest.txt; \
	echo "ucx: $$(grep -c '^ok' $(RESULTS)/ucx.result) passed, $$(grep -c '^not ok' $(RESULTS)/ucx.result) failed"; \
	grep '^not ok' $(RESULTS)/ucx.result; \
	exit $$rc

bench: tree
	@rc=0; \
	for arm in $(BENCH_ARMS); do $(SUBMAKE) bench-$$arm || rc=1; done; \
	$(BENCH) report $(BENCH_ARMS); \
	[ $$rc = 0 ] || echo "bench: an arm failed; see $(RESULTS)/bench-*.log" >&2; \
	exit $$rc

bench-build: tree
	@$(KBUILD) $(BENCHOBJ) $(WORK)/bench-build.log $(TREE) $(BENCH_KUNIT_ARGS)

$(addprefix bench-,$(BENCH_ARMS)): bench-%: bench-build
	@$(BENCH) $*

# The main job: build the patched kernel, boot it under QEMU, and run the
# sharing workload (harness/guest/demo.sh: xmem-producer and xmem-consumer
# through /dev/xmem, xpmem-share through libxpmem, then misuse under
# lw-trace), showing what it does;
# fails if the workload or the console does.  Each stage is timed.
run:
	@$(if $(FRESH),$(SUBMAKE) fresh)
	@mkdir -p $(WORK) $(RESULTS) $(E2E_OUT)-demo
	@: > $(STAGES)
	@rm -f $(RESULTS)/demo.out
	@set +e; \
	$(STAGE) packages $(SUBMAKE) deps && \
	$(STAGE) tree $(SUBMAKE) tree && \
	$(STAGE) build $(SUBMAKE) kunit-build && \
	$(STAGE) workload $(E2E) demo $(KOBJ) $(TREE) $(E2E_OUT)-demo $(RESULTS)/demo.out; \
	rc=$$?; \
	cat $(RESULTS)/demo.out 2>/dev/null; \
	$(STAGES_REPORT); \
	exit $$rc

check: series
	@mkdir -p $(RESULTS)
	@$(REPO)/harness/check.sh $(TREE) $(SERIES) $(CHKOBJ) $(KOBJ) $(RESULTS) '$(CC_KERNEL)'

# Every patch of the series on its own: an incremental build of the test
# profile with ccache, and checkpatch --strict (harness/check-bisect.sh).
# Long (a build per patch), so not part of `make test`.
check-bisect: series
	@$(REPO)/harness/check-bisect.sh $(TREE) $(SERIES) $(WORK)/bisect $(KUNITCONFIG) '$(CC_KERNEL)' $(JOBS)

# Every stage runs that can: a failed build skips the stages that boot it,
# and the summary decides.
test:
	@$(if $(FRESH),$(SUBMAKE) fresh)
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/*.result $(RESULTS)/*.json
	@: > $(STAGES)
	@set +e; \
	if $(STAGE) packages $(SUBMAKE) deps && $(STAGE) tree $(SUBMAKE) tree; then \
		if $(STAGE) build $(SUBMAKE) kunit-build; then \
			$(STAGE) kunit $(SUBMAKE) kunit-exec; \
			$(STAGE) e2e $(SUBMAKE) e2e-run; \
		else \
			echo "not ok kernel build (log $(WORK)/build.log)" > $(RESULTS)/build.result; \
		fi; \
		$(STAGE) check $(SUBMAKE) check; \
	else \
		echo "not ok make tree" > $(RESULTS)/tree.result; \
	fi; \
	$(STAGES_REPORT); \
	echo "test: build directory $(WORK)"; \
	python3 $(REPO)/harness/summary.py $(RESULTS)

# A cold start: drop the tree and every build product of this base.
fresh:
	rm -rf $(TREE) $(TREE).tmp $(KOBJ) $(CHKOBJ) $(BENCHOBJ) $(SERIES) $(RESULTS) $(WORK)/am-check \
		$(WORK)/bisect $(E2E_OUT) $(E2E_OUT)-demo $(E2E_OUT)-bench $(E2E_OUT)-lwbench \
		$(E2E_OUT)-fuzz $(E2E_OUT)-torture $(LWT_OUT)

clean:
	rm -rf $(RESULTS) $(SERIES)

distclean:
	rm -rf $(BUILD)
