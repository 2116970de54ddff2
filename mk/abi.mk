# The library's exported interface (README "Library ABI").
#
#   make export-check   the shared library exports exactly the functions
#                       the public headers declare, each versioned
#   make abi-check      abidiff of the shared library against the committed
#                       baseline t/abi/libreftable.abi (skips without
#                       abigail-tools)
#   make abi-baseline   rewrite the baseline: only with a soname bump or a
#                       deliberate, compatible change (a new function)
#   make example-test   install into a temporary prefix, build
#                       contrib/examples with pkg-config, shared and
#                       static, and run them
#
# make test runs example-test in both builds, export-check and abi-check
# in the normal build only (the sanitizer build's DWARF says the same).

# Hidden by default: only what reftable/reftable-*.h marks REFTABLE_API
# leaves the shared library, under the version node of reftable.map.
# Static linking (the tool and the tests) still sees every symbol.
LIB_MAP = reftable/reftable.map
$(LIB_OBJS): ALL_CFLAGS += -fvisibility=hidden
$(SHARED_LIB): ALL_LDFLAGS += -Wl,--version-script=$(LIB_MAP)
$(SHARED_LIB): $(LIB_MAP)

ABI_BASELINE = t/abi/libreftable.abi

.PHONY: export-check abi-check abi-baseline example-test
export-check: $(SHARED_LIB)
	@sh t/abi/check-exports.sh $(SHARED_LIB) $(LIB_MAP) $(PUBLIC_HEADERS)

abi-check: $(SHARED_LIB)
	@sh t/abi/check-abi.sh check $(ABI_BASELINE) $(SHARED_LIB) \
		$(PUBLIC_HEADERS)

abi-baseline: $(SHARED_LIB)
	@sh t/abi/check-abi.sh write $(ABI_BASELINE) $(SHARED_LIB) \
		$(PUBLIC_HEADERS)

# The example is compiled with the build's flags (warnings, sanitizers),
# so in the sanitizer build the installed library runs under them too.
EXAMPLE_DIR = $(CURDIR)/$(B)/t/abi/example
example-test: all
	@rm -rf $(EXAMPLE_DIR) && mkdir -p $(EXAMPLE_DIR)
	@$(MAKE) --no-print-directory install PREFIX=$(EXAMPLE_DIR)/prefix \
		> $(EXAMPLE_DIR)/install.log
	@CC="$(CC)" EXAMPLE_CFLAGS="$(BASE_CFLAGS)" \
		EXAMPLE_LDFLAGS="$(SAN_LDFLAGS)" \
		sh t/abi/example-test.sh $(EXAMPLE_DIR)/prefix $(EXAMPLE_DIR)

test-variant: example-test
ifeq ($(SAN),)
test-variant: export-check abi-check
endif
