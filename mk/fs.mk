# t/fs: lyingfs, a FUSE filesystem that behaves like an NFS client's view
# of a shared export (t/fs/README.md), and the tests that run the library
# through two of its mounts as two hosts.
#
#   make fs-test      the reproducers (part of `make test`, both variants;
#                     they skip with a message where FUSE cannot mount)
#   make stress-fs    the stress harness over two mounts, cto mode
#
# lyingfs is built only where libfuse3's headers are (pkg-config fuse3).

FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
LYINGFS = $(B)/t/fs/lyingfs
LYINGFS_SRCS = $(sort $(wildcard t/fs/lyingfs/*.c))
TWOHOST = $(B)/t/fs/twohost

# A daemon the tests drive, not code under test: no sanitizers.
$(LYINGFS): $(LYINGFS_SRCS) t/fs/lyingfs/lyingfs.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -g -O2 $(WARN) $(FUSE_CFLAGS) -o $@ \
		$(LYINGFS_SRCS) $(FUSE_LIBS)

$(TWOHOST): t/fs/twohost.c $(STATIC_LIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable -o $@ $< $(STATIC_LIB) \
		$(ALL_LDFLAGS) $(ZLIB_LIBS)

.PHONY: fs-test stress-fs
ifneq ($(FUSE_LIBS),)
fs-test: $(LYINGFS) $(TWOHOST)
	@LYINGFS=$(CURDIR)/$(LYINGFS) TWOHOST=$(CURDIR)/$(TWOHOST) \
		sh t/fs/run-all.sh
else
fs-test:
	@echo "== t/fs: skipped, libfuse3 headers not found (pkg-config fuse3)"
endif

test-variant: fs-test

# The stress harness on two lyingfs mounts (t/fs/stress-fs.sh); not in
# `make test`. STRESS_FS_TIMEOUT is the mounts' attribute timeout.
STRESS_FS_TIMEOUT ?= 1
STRESS_FS_ARGS ?= --duration 60 --writers 4 --readers 3 --compactors 2 \
	--kill-rate 2 --fsync off
stress-fs: $(LYINGFS) $(STRESS_BIN) $(TOOL)
	@LYINGFS=$(CURDIR)/$(LYINGFS) STRESS=$(CURDIR)/$(STRESS_BIN) \
		sh t/fs/stress-fs.sh $(STRESS_FS_TIMEOUT) \
		--reftable $(CURDIR)/$(TOOL) $(STRESS_FS_ARGS)
