# Our benchmark beside Git's library, in one run (issue 17, section 3):
#
#   make bench-vs-git [N=1000000] [BENCH_VS_GIT_ARGS="--rounds 3"]
#
# Runs our driver (make bench's) and git-reftable-bench from GIT_TOOLS
# on the same workload, durable on both sides (GIT_ANCHOR_FSYNC=1 for
# Git's) and with fsync off on both, three rounds; checks that the
# workload digests agree; prints the medians side by side with the
# ratios and which targets of the issue are met. BENCH_DIR as for bench.
# Each durable round costs the fsyncs of 20,000 transactions: minutes on
# a disk, seconds on tmpfs.

BENCH_VS_GIT_ARGS ?=
GIT_BENCH = $(wildcard $(GIT_TOOLS)/git-reftable-bench)

.PHONY: bench-vs-git
bench-vs-git: bench-build
	@if [ -z "$(GIT_BENCH)" ]; then echo "bench-vs-git: skipped" \
		"(no git-reftable-bench in GIT_TOOLS=$(GIT_TOOLS))"; \
	else python3 -B t/bench/vs-git.py --ours ./$(BENCH_BIN) \
		--git-bench $(GIT_BENCH) -n $(N) $(BENCH_VS_GIT_ARGS); fi
