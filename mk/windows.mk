# Windows: cross-compile the library, the tool and the tests with
# mingw-w64 (make windows), and run them under Wine (make test-windows).
# Documentation/windows.md says what runs there and why.
#
#   make windows         build-win/: libreftable.a, reftable.exe, the tests
#   make test-windows    run them under Wine (skips without Wine or mingw)

WIN_B = build-win
WIN_CC = x86_64-w64-mingw32-gcc
WIN_AR = x86_64-w64-mingw32-ar
WINE ?= wine
# compat/win32/compat.h maps the few POSIX calls outside the fs layer and
# fills in what mingw-w64's runtime lacks; compat/win32 has stand-ins for
# pwd.h and sys/mman.h.
# -Wno-format: mingw checks printf attributes against msvcrt, not the C99
# printf that __USE_MINGW_ANSI_STDIO selects; the Linux build checks them.
WIN_CFLAGS = -std=c11 -g -O2 $(WARN) -Wno-format -include compat/win32/compat.h \
	     -Icompat/win32 -Ireftable -Icli -It/lib -It/win
# Static: no DLLs to find under Wine. compat/win32/binmode.c puts every
# file and stdio stream of the tool and the tests in binary mode, so that
# "\n" stays "\n".
WIN_LDFLAGS = -static $(WIN_B)/compat/win32/binmode.o
WIN_LIBS = -lz -lpthread

WIN_LIB_OBJS = $(LIB_SRCS:%.c=$(WIN_B)/%.o)
WIN_CLI_OBJS = $(CLI_SRCS:%.c=$(WIN_B)/%.o)
WIN_STATIC_LIB = $(WIN_B)/libreftable.a
WIN_TOOL = $(WIN_B)/bin/reftable.exe

# The unit tests that run on Windows, each compiled unchanged against
# t/win/check.h, our small stand-in for Check (Documentation/windows.md
# says why and which tests cannot run).
WIN_UNITS := $(shell sed -e '/^\#/d' -e 's/ .*//' t/win/units 2>/dev/null)
WIN_UNIT_BINS = $(WIN_UNITS:%=$(WIN_B)/t/test-%.exe)
WIN_TESTLIB_OBJS = $(TESTLIB_SRCS:%.c=$(WIN_B)/%.o) $(WIN_B)/t/win/check.o
WIN_HEADERS = $(wildcard reftable/*.h cli/*.h t/lib/*.h t/win/*.h compat/win32/*.h)

.PHONY: windows test-windows windows-check-tools

windows-check-tools:
	@command -v $(WIN_CC) >/dev/null || { echo "windows: $(WIN_CC) not found (sh ci/install-deps.sh --windows)"; exit 1; }

windows: windows-check-tools $(WIN_STATIC_LIB) $(WIN_TOOL) $(WIN_UNIT_BINS)

$(WIN_B)/%.o: %.c $(WIN_HEADERS)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

$(WIN_STATIC_LIB): $(WIN_LIB_OBJS)
	@rm -f $@
	$(WIN_AR) rcs $@ $^

$(WIN_TOOL): $(WIN_CLI_OBJS) $(WIN_STATIC_LIB) $(WIN_B)/compat/win32/binmode.o
	@mkdir -p $(dir $@)
	$(WIN_CC) -o $@ $(WIN_CLI_OBJS) $(WIN_STATIC_LIB) $(WIN_LDFLAGS) $(WIN_LIBS)

$(WIN_B)/t/test-%.exe: $(WIN_B)/t/unit/test-%.o $(WIN_TESTLIB_OBJS) $(WIN_STATIC_LIB) \
		$(WIN_B)/compat/win32/binmode.o
	@mkdir -p $(dir $@)
	$(WIN_CC) -o $@ $< $(WIN_TESTLIB_OBJS) $(WIN_STATIC_LIB) $(WIN_LDFLAGS) $(WIN_LIBS)

# Skips (exit 0, with the reason) where Wine or the cross compiler is
# missing; otherwise builds and runs everything in t/win/run.sh.
test-windows:
	@if ! command -v $(WIN_CC) >/dev/null; then \
		echo "test-windows: skipped ($(WIN_CC) not installed; sh ci/install-deps.sh --windows)"; \
	elif ! command -v $(WINE) >/dev/null; then \
		echo "test-windows: skipped ($(WINE) not installed; sh ci/install-deps.sh --windows)"; \
	else \
		$(MAKE) --no-print-directory windows && \
		WINE=$(WINE) WIN_B=$(CURDIR)/$(WIN_B) sh t/win/run.sh; \
	fi

# Keep the objects of the test programs (intermediate files of a chain
# of pattern rules, which make would otherwise remove).
.SECONDARY: $(WIN_TESTLIB_OBJS) $(WIN_UNITS:%=$(WIN_B)/t/unit/test-%.o)

.PHONY: clean-windows
clean-windows:
	rm -rf $(WIN_B)
clean: clean-windows
