# SPDX-License-Identifier: GPL-2.0
#
# lw-mm: AIX cross-memory, lightweight attach and ldata services for Linux 6.12.
# Every entry point of the project; `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Build directory: outside the work tree, kept between sessions.  In CI
# (CI=true) a fresh one for every run, so CI measures the cold build a new
# user gets.
ifeq ($(CI),true)
  ifndef BUILD
    BUILD := $(shell mkdir -p /var/tmp && mktemp -d /var/tmp/lw-mm-ci.XXXXXX)
  endif
  CCACHE_DIR ?= $(BUILD)/ccache
else
  BUILD ?= /var/tmp/lw-mm
  CCACHE_DIR ?= /var/tmp/lw-mm-ccache
endif
export BUILD CCACHE_DIR

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
CC_KERNEL := $(if $(wildcard /usr/bin/ccache),ccache gcc,gcc)
KUNIT_PY := ./tools/testing/kunit/kunit.py
KUNIT_ARGS = --arch=x86_64 --build_dir=$(KOBJ) --jobs=$(JOBS) \
	--kunitconfig=$(KUNITCONFIG) --make_options='CC=$(CC_KERNEL)' \
	--timeout=$(KUNIT_TIMEOUT) --qemu_args='$(QEMU_NUMA)'

.PHONY: help deps tree series apply kunit kunit-build run check test clean distclean

help:
	@echo 'make run      build the patched kernel, boot it under QEMU (2 NUMA nodes), run the suites'
	@echo 'make test     every check and suite; ends with "N passed, N failed"'
	@echo 'make tree     patched tree $(TREE) (git: lw-base + one commit per patch)'
	@echo 'make series   git format-patch series with cover letter in $(SERIES)'
	@echo 'make apply KSRC=/path/to/6.12.y-git-tree   git am the series onto your tree'
	@echo 'make kunit    kunit.py run of the suites; JSON in $(RESULTS)/kunit.json'
	@echo 'make check    checkpatch --strict, kernel-doc, sparse and W=1 on new code, git am check'
	@echo 'make clean    drop results and series; distclean: the whole $(BUILD)'
	@echo 'Variables: BUILD=$(BUILD) KSRC=<6.12.y tree> JOBS=$(JOBS) QEMU_ACCEL=$(QEMU_ACCEL)'

deps:
	@$(REPO)/harness/deps.sh

tree: deps
	@python3 $(REPO)/harness/mktree.py --base $(BASE) --tree $(TREE)

series: tree
	@$(REPO)/harness/series.sh $(TREE) $(SERIES)

apply: series
	@[ -n "$(KSRC)" ] && [ -d "$(KSRC)/.git" ] || { echo 'apply: KSRC= must name a 6.12.y git tree' >&2; exit 1; }
	git -C $(KSRC) am $(filter-out %/0000-cover-letter.patch,$(wildcard $(SERIES)/*.patch))
	@echo "apply: $$(ls $(SERIES)/*.patch | grep -vc cover-letter) patches applied to $(KSRC)"

# kunit.py's own verdict, plus the console: a splat fails the run.
kunit: tree
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/kunit.json $(RESULTS)/kunit-console.result $(KOBJ)/test.log
	cd $(TREE) && $(KUNIT_PY) run $(KUNIT_ARGS) --json=$(RESULTS)/kunit.json \
		2>&1 | tee $(RESULTS)/kunit.log
	@$(REPO)/harness/console-scan.sh $(KOBJ)/test.log "kunit console free of splats" \
		$(RESULTS)/kunit-console.result

kunit-build: tree
	cd $(TREE) && $(KUNIT_PY) build $(KUNIT_ARGS)

# For now the main job boots the test kernel and runs the suites; later
# issues make it the sharing workload under lw-trace.
run: tree
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/*.result
	@$(MAKE) --no-print-directory kunit || true
	@python3 $(REPO)/harness/summary.py $(RESULTS) --no-check

check: series
	@mkdir -p $(RESULTS)
	@$(REPO)/harness/check.sh $(TREE) $(SERIES) $(CHKOBJ) $(KOBJ) $(RESULTS) '$(CC_KERNEL)'

# Every stage runs even if an earlier one failed; the summary decides.
test:
	@mkdir -p $(RESULTS)
	@rm -f $(RESULTS)/*.result $(RESULTS)/kunit.json
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory tree; then \
		$(MAKE) --no-print-directory kunit || true; \
		$(MAKE) --no-print-directory check || true; \
	else \
		echo "not ok make tree" > $(RESULTS)/tree.result; \
	fi; \
	echo "test: $$(( $$(date +%s) - start ))s, build directory $(WORK)"; \
	python3 $(REPO)/harness/summary.py $(RESULTS)

clean:
	rm -rf $(RESULTS) $(SERIES)

distclean:
	rm -rf $(BUILD)
