# The fault sweep and the crash images (Documentation/faults.md).
#
#   make fault-test    both, in the build variant $(B); part of `make test`
#
# Each fails every filesystem call of each operation in turn, or crashes
# there, and checks what a fresh handle reads back.

FAULT_SRCS = $(sort $(wildcard t/fault/*.c))
FAULT_LIB_SRCS = $(filter-out t/fault/sweep.c,$(FAULT_SRCS))
FAULT_BIN = $(B)/t/fault/fault-sweep
CRASH_SRCS = $(sort $(wildcard t/crash/*.c))
CRASH_BIN = $(B)/t/crash/crash-images
FAULT_HDRS = $(wildcard t/fault/*.h t/crash/*.h t/lib/*.h) $(PUBLIC_HEADERS)
GIT_RECORDS ?= $(abspath ../shared/tools/git-reftable-records)

$(FAULT_BIN): $(FAULT_SRCS) $(FAULT_HDRS) $(TESTLIB_OBJS) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -It/lib -It/fault $(CHECK_CFLAGS) -o $@ \
		$(FAULT_SRCS) $(TESTLIB_OBJS) $(STATIC_LIB) $(ALL_LDFLAGS) \
		$(CHECK_LIBS) $(ZLIB_LIBS)

$(CRASH_BIN): $(CRASH_SRCS) $(FAULT_LIB_SRCS) $(FAULT_HDRS) $(TESTLIB_OBJS) \
		$(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -It/lib -It/fault -It/crash \
		$(CHECK_CFLAGS) -o $@ $(CRASH_SRCS) $(FAULT_LIB_SRCS) \
		$(TESTLIB_OBJS) $(STATIC_LIB) $(ALL_LDFLAGS) $(CHECK_LIBS) \
		$(ZLIB_LIBS)

fault-test: $(FAULT_BIN) $(CRASH_BIN)
	@echo "== $(FAULT_BIN)"
	@./$(FAULT_BIN)
	@echo "== $(CRASH_BIN)"
	@./$(CRASH_BIN) --git $(GIT_RECORDS)

.PHONY: fault-test
test-variant: fault-test
