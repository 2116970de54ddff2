# libgit2 extras: the fixture builder and the importer under contrib/, and
# the tests that compare imported stacks with libgit2's view.
#
#   make contrib              $(B)/contrib/mkfixture, $(B)/contrib/reftable-import
#   make libgit2-test         build fixtures, import, compare, verify
#   make libgit2-test-big     the same plus the 100,000-ref fixture
#
# libgit2 is linked only into these programs, never into the library or
# the reftable tool. "make test" runs libgit2-test in both variants; the
# 100,000-ref case runs in the normal build only (LIBGIT2_BIG=0 skips it,
# LIBGIT2_BIG=1 adds it to the sanitizer build too).

LIBGIT2_CFLAGS = $(shell pkg-config --cflags libgit2 2>/dev/null)
LIBGIT2_LIBS = $(shell pkg-config --libs libgit2 2>/dev/null || echo -lgit2)
LIBGIT2_BIG ?= $(if $(SAN),0,1)

MKFIXTURE = $(B)/contrib/mkfixture
REFTABLE_IMPORT = $(B)/contrib/reftable-import
LIBGIT2_COMPARE = $(B)/t/libgit2-compare

.PHONY: contrib libgit2-test libgit2-test-big

contrib: $(MKFIXTURE) $(REFTABLE_IMPORT)

$(MKFIXTURE): contrib/libgit2/mkfixture.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBGIT2_CFLAGS) -o $@ $< $(ALL_LDFLAGS) \
		$(LIBGIT2_LIBS)

$(REFTABLE_IMPORT): contrib/libgit2/reftable-import.c $(STATIC_LIB) \
		$(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable $(LIBGIT2_CFLAGS) -o $@ $< \
		$(STATIC_LIB) $(ALL_LDFLAGS) $(LIBGIT2_LIBS) $(ZLIB_LIBS)

$(LIBGIT2_COMPARE): t/libgit2/compare.c $(STATIC_LIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ireftable $(LIBGIT2_CFLAGS) -o $@ $< \
		$(STATIC_LIB) $(ALL_LDFLAGS) $(LIBGIT2_LIBS) $(ZLIB_LIBS)

libgit2-test: $(MKFIXTURE) $(REFTABLE_IMPORT) $(LIBGIT2_COMPARE) $(TOOL)
	@echo "== t/libgit2/run.sh"
	@MKFIXTURE=$(CURDIR)/$(MKFIXTURE) IMPORT=$(CURDIR)/$(REFTABLE_IMPORT) \
		COMPARE=$(CURDIR)/$(LIBGIT2_COMPARE) REFTABLE=$(CURDIR)/$(TOOL) \
		LIBGIT2_BIG=$(LIBGIT2_BIG) sh t/libgit2/run.sh

libgit2-test-big:
	$(MAKE) libgit2-test LIBGIT2_BIG=1

test-variant: libgit2-test
