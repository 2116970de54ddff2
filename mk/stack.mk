# The stack's tests alone, in the normal and the sanitizer build:
#   make stack-test [REFTABLE_GROWTH_N=...]
STACK_TESTS = test-stack test-stack-fixtures test-stack-growth

.PHONY: stack-test
stack-test:
	$(MAKE) B=build $(STACK_TESTS:%=build/t/%)
	@set -e; for t in $(STACK_TESTS); do echo "== build/t/$$t"; \
		REFTABLE_TEST_DATA=$(CURDIR)/t build/t/$$t; done
	$(MAKE) B=build-san SAN=1 OPT=-O1 $(STACK_TESTS:%=build-san/t/%)
	@set -e; for t in $(STACK_TESTS); do echo "== build-san/t/$$t"; \
		CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		REFTABLE_TEST_DATA=$(CURDIR)/t build-san/t/$$t; done
