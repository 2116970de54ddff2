# The ref database's tests alone: make refdb-test (B=build-san SAN=1 for
# the sanitizer build).
REFDB_TESTS = $(patsubst %,$(B)/t/test-%,refname refdb refdb-txn \
	      refdb-df-conflicts refdb-symref refdb-txn-reflog refdb-reflog \
	      refdb-fixtures refdb-git-rules)

.PHONY: refdb-test
refdb-test: $(REFDB_TESTS)
	@set -e; for t in $(REFDB_TESTS); do echo "== $$t"; \
		REFTABLE_TEST_DATA=$(CURDIR)/t $$t; done
