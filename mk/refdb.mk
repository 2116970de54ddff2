# The ref database's tests alone: make refdb-test (B=build-san SAN=1 for
# the sanitizer build).
REFDB_TESTS = $(B)/t/test-refname $(B)/t/test-refdb $(B)/t/test-refdb-reflog \
	      $(B)/t/test-refdb-fixtures

.PHONY: refdb-test
refdb-test: $(REFDB_TESTS)
	@set -e; for t in $(REFDB_TESTS); do echo "== $$t"; \
		REFTABLE_TEST_DATA=$(CURDIR)/t $$t; done
