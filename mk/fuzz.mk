# Fuzzing (t/fuzz/README.md).
#
#   make fuzz [FUZZ_SECONDS=30] [FUZZ_TARGETS="table list ..."]
#                       run each libFuzzer target for FUZZ_SECONDS
#                       (clang, ASan+UBSan, in build-fuzz/) and report
#                       execs and coverage; new inputs go to
#                       build-fuzz/fuzz-corpus/, crashes to
#                       build-fuzz/fuzz-crashes/
#   make fuzz-replay    replay every corpus input and saved crash through
#                       the plain driver (no libFuzzer, any compiler);
#                       part of `make test` in both build variants
#   make fuzz-git-check the table inputs our reader accepts, read by Git's
#                       reader too (skips without ../shared/tools); also
#                       part of `make test`
#
# Each target is one t/fuzz/fuzz-NAME.c; the replay driver and the
# libFuzzer binary are built from the same file.

FUZZ_TARGETS ?= table list records refname update stack
FUZZ_SECONDS ?= 30
FUZZ_COMMON = t/fuzz/common.c
FUZZ_CLI_OBJS = $(filter-out $(B)/cli/main.o,$(CLI_OBJS))
FUZZ_DEPS = $(FUZZ_COMMON) t/fuzz/fuzz.h $(FUZZ_CLI_OBJS) $(STATIC_LIB) \
	    $(wildcard reftable/*.h cli/*.h)
FUZZ_LINK = $(FUZZ_COMMON) $(FUZZ_CLI_OBJS) $(STATIC_LIB) $(ALL_LDFLAGS) \
	    $(ZLIB_LIBS)
FUZZ_INC = -Ireftable -Icli -It/fuzz

$(B)/t/fuzz/replay-%: t/fuzz/fuzz-%.c t/fuzz/driver.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_INC) -o $@ $< t/fuzz/driver.c $(FUZZ_LINK)

$(B)/t/fuzz/fuzz-%: t/fuzz/fuzz-%.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_INC) -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK)

.PHONY: fuzz fuzz-run fuzz-replay fuzz-git-check
fuzz-replay: $(FUZZ_TARGETS:%=$(B)/t/fuzz/replay-%)
	@echo "== t/fuzz corpus replay"
	@set -e; for t in $(FUZZ_TARGETS); do \
		./$(B)/t/fuzz/replay-$$t t/fuzz/corpus/$$t t/fuzz/crashes/$$t; \
	done

fuzz-git-check: $(TOOL)
	@echo "== t/fuzz/git-check.sh"
	@REFTABLE=$(CURDIR)/$(TOOL) sh t/fuzz/git-check.sh t/fuzz/corpus/table \
		t/fuzz/crashes/table

test-variant: fuzz-replay fuzz-git-check

# Every object of build-fuzz/ is instrumented for libFuzzer's coverage.
# Then Git's reader reads the tables the run found (the normal build's
# tool decides which ones our reader accepts).
fuzz:
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang SAN=1 OPT=-O1 \
		CFLAGS=-fsanitize=fuzzer-no-link fuzz-run
	@$(MAKE) --no-print-directory B=build build/bin/reftable
	@REFTABLE=$(CURDIR)/build/bin/reftable sh t/fuzz/git-check.sh

fuzz-run: $(FUZZ_TARGETS:%=$(B)/t/fuzz/fuzz-%)
	@sh t/fuzz/run.sh $(B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
