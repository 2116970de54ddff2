# Build, test and install the reftable library and tool.
#
#   make                 library (static and shared) and the reftable tool
#   make test            every test, in a normal and a sanitizer build
#   make bench [N=...]   the reference benchmark (optimized build)
#   make install PREFIX=/usr/local
#
# Objects of a build variant go to $(B)/, so the normal, sanitizer and
# benchmark builds never mix.

CC ?= cc
PREFIX ?= /usr/local
B ?= build
SAN ?=
OPT ?= -O2

SOVERSION = 1
VERSION = 1.0.0

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter -Wvla
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -fPIC
ifeq ($(SAN),1)
BASE_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	       -fno-omit-frame-pointer
SAN_LDFLAGS = -fsanitize=address,undefined
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

ZLIB_LIBS = -lz
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

LIB_SRCS = $(sort $(wildcard reftable/*.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(B)/%.o)
CLI_SRCS = $(sort $(wildcard cli/*.c))
CLI_OBJS = $(CLI_SRCS:%.c=$(B)/%.o)
UNIT_SRCS = $(sort $(wildcard t/unit/test-*.c))
UNIT_BINS = $(UNIT_SRCS:t/unit/%.c=$(B)/t/%)
TESTLIB_SRCS = $(sort $(wildcard t/lib/*.c))
TESTLIB_OBJS = $(TESTLIB_SRCS:%.c=$(B)/%.o)
PUBLIC_HEADERS = $(sort $(wildcard reftable/reftable*.h))

STATIC_LIB = $(B)/libreftable.a
SHARED_LIB = $(B)/libreftable.so.$(VERSION)
TOOL = $(B)/bin/reftable

.PHONY: all test unit-test cli-test test-normal test-san clean install bench \
	bench-scale stress deps

all: $(STATIC_LIB) $(SHARED_LIB) $(TOOL)
	@ln -sf $(B)/bin/reftable reftable-tool 2>/dev/null || true

$(B)/%.o: %.c $(wildcard reftable/*.h cli/*.h t/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -Icli -It/lib $(CHECK_CFLAGS) -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libreftable.so.$(SOVERSION) $(ALL_LDFLAGS) \
		-o $@ $(LIB_OBJS) $(ZLIB_LIBS)
	ln -sf libreftable.so.$(VERSION) $(B)/libreftable.so.$(SOVERSION)
	ln -sf libreftable.so.$(SOVERSION) $(B)/libreftable.so

$(TOOL): $(CLI_OBJS) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(STATIC_LIB) $(ZLIB_LIBS)

$(B)/t/test-%: t/unit/test-%.c $(TESTLIB_OBJS) $(STATIC_LIB) $(wildcard reftable/*.h t/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -It/lib $(CHECK_CFLAGS) -o $@ $< \
		$(TESTLIB_OBJS) $(STATIC_LIB) $(ALL_LDFLAGS) $(CHECK_LIBS) $(ZLIB_LIBS)

# The unit tests (Check) and the command-line tests of one build variant.
unit-test: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
		REFTABLE_TEST_DATA=$(CURDIR)/t $$t; done

# Preloaded by a test to fail directory fsyncs (no sanitizer flags: it
# only forwards fsync).
FAIL_SHIM = $(B)/t/cli/fail-dir-fsync.so
$(FAIL_SHIM): t/cli/fail-dir-fsync.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

cli-test: $(TOOL) $(FAIL_SHIM)
	@REFTABLE=$(CURDIR)/$(TOOL) REFTABLE_FAIL_SHIM=$(CURDIR)/$(FAIL_SHIM) \
		sh t/cli/run-all.sh

test-variant: unit-test cli-test

# CK_FORK=no keeps each test in one process so LeakSanitizer sees leaks.
test:
	$(MAKE) B=build test-variant
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) B=build-san SAN=1 OPT=-O1 test-variant
	@echo "all tests passed (normal and sanitizer builds)"

# Extra targets of the benchmark, stress and contrib parts.
include $(sort $(wildcard mk/*.mk))

deps:
	sh ci/install-deps.sh

clean:
	rm -rf build build-san build-bench build-fuzz reftable-tool

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/reftable \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libreftable.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libreftable.so.$(SOVERSION)
	ln -sf libreftable.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libreftable.so
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/reftable/
	install -m 755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		reftable.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/reftable.pc
	if [ -f Documentation/reftable.1 ]; then \
		install -m 644 Documentation/reftable.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi
