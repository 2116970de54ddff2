# The stack protocol's Promela model (Documentation/model/README.md),
# checked with Spin (Debian package spin, ci/install-deps.sh).
#
#   make model-test   the configurations that must pass, and the
#                     reintroduced defects that must fail with a trail
#                     (part of make test; about a minute on 2 cores)
#   make model        model-test, then the bigger configurations
#
# Trails and logs go to build/model/.

MODEL_CHECK = sh Documentation/model/check.sh
MODEL_OUT = build/model
MODEL_ENV = PAN_CFLAGS=-DCOLLAPSE PAN_FLAGS=-w22

# name, then the -D flags. Each must pass.
MODEL_PASS = \
	stat-reader:-DNW=2:-DNR=1 \
	content-reader:-DNW=2:-DNR=1:-DCONTENT_READER \
	full-compactor:-DNW=1:-DNR=1:-DCOMPACTOR=2 \
	git-mixed:-DNW=1:-DNR=1:-DGIT=1 \
	crash:-DNW=2:-DNR=0:-DCRASH \
	crash-unordered:-DNW=2:-DNR=0:-DCRASH:-DCRASH_UNORDERED \
	lock-removed:-DNW=2:-DNR=0:-DFORCE \
	lock-removed-twice:-DNW=2:-DNR=0:-DFORCE:-DFORCE_BREAK

# Historical defects put back: Spin must find each, with a trail.
MODEL_FAIL = \
	recycled-inode:-DNW=2:-DNR=1:-DBUG_CLOSE_FD \
	live-lock-broken:-DNW=2:-DNR=0:-DBREAKER=1:-DBUG_AGE_BREAK \
	git-lock-broken:-DNW=1:-DNR=0:-DGIT=1:-DBREAKER=1:-DBUG_AGE_BREAK:-DNO_EXCLUSION_CHECK:-DNO_LOCK_END_CHECK \
	ack-before-dir-fsync:-DNW=2:-DNR=0:-DCRASH:-DBUG_NO_DIRSYNC \
	table-not-synced:-DNW=1:-DNR=0:-DCRASH:-DBUG_NO_TABLE_SYNC \
	publish-unchecked:-DNW=2:-DNR=0:-DFORCE:-DNO_LOCK_END_CHECK:-DBUG_NO_CHECK \
	clean-unchecked:-DNW=0:-DNR=0:-DCOMPACTOR=2:-DCLEANER=1:-DFORCE:-DNO_LOCK_END_CHECK:-DBUG_CLEAN_NO_RECHECK \
	unordered-no-dirsync:-DNW=1:-DNR=0:-DCRASH:-DCRASH_UNORDERED:-DBUG_NO_DIRSYNC_BEFORE_SWAP \
	lock-put-back:-DNW=2:-DNR=0:-DFORCE:-DBUG_NO_WITHDRAW \
	lock-put-back-twice:-DNW=2:-DNR=0:-DFORCE:-DFORCE_BREAK:-DBUG_NO_MARK \
	undo-by-release:-DNW=2:-DNR=0:-DFORCE:-DFORCE_BREAK:-DBUG_UNDO_BY_RELEASE \
	put-back-unpinned:-DNW=2:-DNR=0:-DFORCE:-DBUG_PUTBACK_UNPINNED

# Bigger: make model only.
MODEL_BIG = \
	crash-compactor:-DNW=1:-DNR=0:-DCOMPACTOR=2:-DCRASH \
	auto-compactor:-DNW=2:-DNR=0:-DCOMPACTOR=1 \
	clean:-DNW=1:-DNR=0:-DCOMPACTOR=2:-DCLEANER=1 \
	deaths:-DNW=2:-DNR=0:-DBREAKER=1:-DKILL \
	clean-lock-removed:-DNW=0:-DNR=0:-DCOMPACTOR=2:-DCLEANER=1:-DFORCE \
	breaker-lock-removed:-DNW=2:-DNR=0:-DFORCE:-DBREAKER=1:-DCHECK_BREAKER_TEMPS

# Bigger reintroduced defects: make model only.
MODEL_BIG_FAIL = \
	breaker-takes-aside-lock:-DNW=2:-DNR=0:-DFORCE:-DBREAKER=1:-DCHECK_BREAKER_TEMPS:-DBUG_BREAKER_TEMPS_GONE

.PHONY: model-test model
model-test:
	@command -v spin >/dev/null || { echo "spin missing: sh ci/install-deps.sh"; exit 1; }
	@mkdir -p $(MODEL_OUT); fails=0; \
	for c in $(MODEL_PASS); do \
		$(MODEL_ENV) $(MODEL_CHECK) $${c%%:*} pass $(MODEL_OUT) \
			$$(echo $${c#*:} | tr : ' ') || fails=$$((fails + 1)); \
	done; \
	for c in $(MODEL_FAIL); do \
		$(MODEL_ENV) $(MODEL_CHECK) $${c%%:*} fail $(MODEL_OUT) \
			$$(echo $${c#*:} | tr : ' ') || fails=$$((fails + 1)); \
	done; \
	test $$fails = 0 || { echo "model: $$fails configuration(s) failed"; exit 1; }

model: model-test
	@fails=0; for c in $(MODEL_BIG); do \
		$(MODEL_ENV) MODEL_MEMLIM=6000 $(MODEL_CHECK) $${c%%:*} pass \
			$(MODEL_OUT) $$(echo $${c#*:} | tr : ' ') || fails=$$((fails + 1)); \
	done; \
	for c in $(MODEL_BIG_FAIL); do \
		$(MODEL_ENV) MODEL_MEMLIM=6000 $(MODEL_CHECK) $${c%%:*} fail \
			$(MODEL_OUT) $$(echo $${c#*:} | tr : ' ') || fails=$$((fails + 1)); \
	done; test $$fails = 0

test: model-test
