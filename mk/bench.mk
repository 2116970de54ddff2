# The reference benchmark (t/bench/SPEC.md).
#
#   make bench [N=1000000]        one run, the SPEC's lines and baselines
#   make bench-scale [SCALE_NS="10000 100000 1000000 10000000"]
#                                 the same phases at each N, as one table
#
# Both build an optimized library in build-bench/ (never mixed with the
# normal or sanitizer objects) and link the driver against its static
# library. BENCH_DIR (else TMPDIR, else /tmp) holds the stack directory.

N ?= 1000000
SCALE_NS ?= 10000 100000 1000000 10000000
BENCH_OPT = -O2 -DNDEBUG
BENCH_BIN = build-bench/t/bench/bench
BENCH_SRCS = $(sort $(wildcard t/bench/*.c))

# The driver of the current build variant; bench builds it with B=build-bench.
$(B)/t/bench/bench: $(BENCH_SRCS) $(wildcard t/bench/*.h) $(STATIC_LIB) \
		$(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -It/bench -o $@ $(BENCH_SRCS) \
		$(STATIC_LIB) $(ALL_LDFLAGS) $(ZLIB_LIBS)

bench-build:
	@$(MAKE) --no-print-directory B=build-bench OPT="$(BENCH_OPT)" \
		$(BENCH_BIN)

bench: bench-build
	./$(BENCH_BIN) $(N)

bench-scale: bench-build
	sh t/bench/scale.sh ./$(BENCH_BIN) $(SCALE_NS)

.PHONY: bench-build
