# Git as a neighbour (issues 17 and 19): t/interop/.
#
#   make difftest [N=1000] [SEED=1]   the differential tester: random
#                      `update --stdin` scripts through Git 2.55 and the
#                      tool; counts by kind of difference
#   make interop-test  the fixed-seed difftest pass (--check), Git reading
#                      what the tool writes and the other way round, and a
#                      short mixed stress pass with Git writers; part of
#                      `make test` (normal build only: the cost is Git's)
#
# Git comes from GIT_TOOLS (the shared tools beside the checkout, or the
# environment's REFTABLE_GIT_TOOLS), else a reftable-capable `git` on PATH;
# without one every part says it skipped.

GIT_TOOLS ?= $(or $(REFTABLE_GIT_TOOLS),$(CURDIR)/../shared/tools)
SEED ?= 1
# N belongs to bench.mk too (ref count): use it only when given.
DIFFTEST_N = $(if $(filter command line environment,$(origin N)),$(N),1000)
# The pass in make test: scripts and seed, fixed so the result is too.
DIFFTEST_SHORT_ARGS ?= -n 200 --seed 1 --check --shrink 10

PYTHON3 = $(shell command -v python3 2>/dev/null)

.PHONY: difftest difftest-short interop-test
difftest: $(TOOL)
	@if [ -z "$(PYTHON3)" ]; then echo "difftest: skipped (no python3)"; \
	else $(PYTHON3) -B t/interop/difftest.py --reftable $(CURDIR)/$(TOOL) \
		--git-tools "$(GIT_TOOLS)" -n $(DIFFTEST_N) --seed $(SEED); fi

difftest-short: $(TOOL)
	@echo "== t/interop/difftest.py (fixed seed, pending list applied)"
	@if [ -z "$(PYTHON3)" ]; then echo "difftest: skipped (no python3)"; \
	else $(PYTHON3) -B t/interop/difftest.py --reftable $(CURDIR)/$(TOOL) \
		--git-tools "$(GIT_TOOLS)" $(DIFFTEST_SHORT_ARGS); fi

interop-test: difftest-short

# Once, in the normal build: the sanitizer build would pay Git's cost
# twice for the same comparisons.
ifneq ($(SAN),1)
test-variant: interop-test
endif

# Git's processes in the stress harness: Git writers (update-ref --stdin
# with compare-and-swap) and compactions (pack-refs) beside our writers,
# compactors (killed at random) and readers. Documentation/stress.md,
# "Git in the run".
INTEROP_GIT = $(shell sh t/interop/find-git.sh "$(GIT_TOOLS)")
STRESS_GIT_RECORDS = $(wildcard $(GIT_TOOLS)/git-reftable-records)
STRESS_GIT_ARGS ?= --git-writers 2 --git-compactors 1
STRESS_GIT_SHORT_ARGS ?= --duration 10 --writers 2 --readers 1 \
	--compactors 1 --git-writers 2 --git-compactors 1 --kill-rate 4 \
	--fsync off --quiet
GIT_STRESS_OPTS = --git $(INTEROP_GIT) \
	$(if $(STRESS_GIT_RECORDS),--git-records $(STRESS_GIT_RECORDS))

# mk/stress.mk is included after this file, and prerequisites expand
# where a rule is read: name the binary here too, or stress-git-short
# runs a stale one (or none, in a clean tree).
STRESS_BIN = $(B)/t/stress/reftable-stress

.PHONY: stress-git stress-git-short
stress-git: $(STRESS_BIN) $(TOOL)
	@if [ -z "$(INTEROP_GIT)" ]; then echo "stress-git: skipped (no Git" \
		"that writes reftable)"; else ./$(STRESS_BIN) --reftable \
		$(CURDIR)/$(TOOL) $(GIT_STRESS_OPTS) $(STRESS_GIT_ARGS) \
		$(STRESS_ARGS); fi

stress-git-short: $(STRESS_BIN) $(TOOL)
	@echo "== $(STRESS_BIN) with Git writers and compactions (short pass)"
	@if [ -z "$(INTEROP_GIT)" ]; then echo "stress-git-short: skipped" \
		"(no Git that writes reftable)"; else ./$(STRESS_BIN) \
		--reftable $(CURDIR)/$(TOOL) $(GIT_STRESS_OPTS) \
		$(STRESS_GIT_SHORT_ARGS); fi

interop-test: stress-git-short

# Git reading what the tool and the library wrote, and the tool reading
# what Git wrote (t/interop/test-*.sh, counted like t/cli).
REFDB_DRIVER = $(B)/t/interop/refdb-driver
$(REFDB_DRIVER): t/interop/refdb-driver.c $(STATIC_LIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -o $@ $< $(STATIC_LIB) $(ALL_LDFLAGS) \
		$(ZLIB_LIBS) -lpthread

.PHONY: interop-cli
interop-cli: $(TOOL) $(REFDB_DRIVER)
	@REFTABLE=$(CURDIR)/$(TOOL) REFDB_DRIVER=$(CURDIR)/$(REFDB_DRIVER) \
		GIT_TOOLS="$(GIT_TOOLS)" sh t/cli/run-all.sh \
		$(sort $(wildcard $(CURDIR)/t/interop/test-*.sh))

interop-test: interop-cli
