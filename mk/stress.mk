# The multi-process stress harness. Documentation/stress.md says what each
# process does, which invariants are checked, the knobs and how to read
# the summary line.
#
#   make stress [STRESS_ARGS="--duration 300 --dir /dev/shm ..."]
#                         a long pass (60 s by default, real fsync)
#   make stress-short     a few seconds in each reload mode, fsync off;
#                         part of `make test` in both build variants
#
# The driver of each build variant is linked against that variant's
# library, $(B)/libreftable.a.

STRESS_SRCS = $(sort $(wildcard t/stress/*.c))
STRESS_BIN = $(B)/t/stress/reftable-stress
STRESS_ARGS ?=
# Short pass: per reload mode, so about 2 x 3 s per build variant.
STRESS_SHORT_ARGS ?= --duration 3 --writers 3 --readers 2 --compactors 2 \
	--kill-rate 4 --fsync off --quiet

$(STRESS_BIN): $(STRESS_SRCS) $(wildcard t/stress/*.h) $(STATIC_LIB) \
		$(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -It/stress -o $@ $(STRESS_SRCS) \
		$(STATIC_LIB) $(ALL_LDFLAGS) $(ZLIB_LIBS)

stress: $(STRESS_BIN) $(TOOL)
	./$(STRESS_BIN) --reftable $(CURDIR)/$(TOOL) $(STRESS_ARGS)

stress-short: $(STRESS_BIN) $(TOOL)
	@echo "== $(STRESS_BIN) (short pass, both reload modes, fsync off)"
	@set -e; for mode in off on; do \
		./$(STRESS_BIN) --reftable $(CURDIR)/$(TOOL) \
			--content-reload $$mode $(STRESS_SHORT_ARGS); done

.PHONY: stress-short
test-variant: stress-short
