# The table-format unit tests: t/unit/test-{basics,roundtrip*,writer,
# corrupt,merged,fixtures}.c with their helpers in t/lib/.
#
#   make format-test     build and run just these (normal build)

FORMAT_TESTS = $(patsubst %,$(B)/t/test-%,basics roundtrip roundtrip-special \
	       roundtrip-large writer corrupt corrupt-header corrupt-blocks \
	       merged fixtures)

# The helpers are only named by a pattern rule's prerequisites, which makes
# them intermediate files that make deletes after each run; keep them.
.SECONDARY: $(TESTLIB_OBJS)

.PHONY: format-test
format-test: $(FORMAT_TESTS)
	@set -e; for t in $(FORMAT_TESTS); do echo "== $$t"; \
		REFTABLE_TEST_DATA=$(CURDIR)/t $$t; done
