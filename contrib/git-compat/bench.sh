#!/bin/sh
# Time Git on libreftable against Git as it ships, on the same operations,
# one side after the other in one run:
#
#   bench.sh STOCK_TREE COMPAT_TREE [REFS] [UPDATES]
#
# REFS (default 1000000) branches are created in one `update-ref --stdin`
# in a fresh reftable repository per side; then, each the best of RUNS
# (default 3) wall-clock times:
#   for-each-ref    git for-each-ref over all refs (output to /dev/null)
#   update-ref      git update-ref --stdin with UPDATES (default 10000)
#                   updates in one transaction (alternating between two
#                   values, so every run changes every ref)
#   pack-refs       git pack-refs --all after one such transaction
#                   (compacts the big table and the small one)
# Work files go to BENCH_DIR (default build/git-suite/bench).
set -eu

stock=$1 compat=$2
refs=${3:-1000000}
updates=${4:-10000}
runs=${RUNS:-3}
work=${BENCH_DIR:-build/git-suite/bench}

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

now_ms() { date +%s%N | cut -c1-13; }

# best_of CMD...: the lowest wall-clock time of $runs runs, in ms.
best_of() {
	best=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(now_ms)
		"$@" >/dev/null
		t1=$(now_ms)
		d=$((t1 - t0))
		if [ -z "$best" ] || [ $d -lt "$best" ]; then best=$d; fi
		i=$((i + 1))
	done
	echo "$best"
}

setup_side() {
	git=$1 repo=$2
	"$git" init -q --ref-format=reftable "$repo"
	"$git" -C "$repo" -c user.name=b -c user.email=b@example.com \
		commit -q --allow-empty -m one
	"$git" -C "$repo" -c user.name=b -c user.email=b@example.com \
		commit -q --allow-empty -m two
}

# The inputs, from the first side's object ids (both sides write the
# same commits: same author, message and dates).
make_inputs() {
	git=$1 repo=$2
	one=$("$git" -C "$repo" rev-parse HEAD~1)
	two=$("$git" -C "$repo" rev-parse HEAD)
	awk -v n="$refs" -v o="$one" 'BEGIN {
		for (i = 1; i <= n; i++) printf "create refs/heads/b%07d %s\n", i, o }' \
		>"$work/create.in"
	awk -v n="$updates" -v step="$((refs / updates))" -v a="$one" -v b="$two" 'BEGIN {
		for (i = 1; i <= n; i++) {
			r = sprintf("refs/heads/b%07d", (i - 1) * step + 1)
			printf "update %s %s %s\n", r, b, a > "'"$work"'/forward.in"
			printf "update %s %s %s\n", r, a, b > "'"$work"'/back.in"
		} }'
}

# update-ref, forward then back, so each run changes every ref.
update_pair() {
	"$1" -C "$2" update-ref --stdin <"$work/forward.in"
	"$1" -C "$2" update-ref --stdin <"$work/back.in"
}

pack_after_update() {
	"$1" -C "$2" update-ref --stdin <"$work/forward.in"
	t0=$(now_ms)
	"$1" -C "$2" pack-refs --all
	t1=$(now_ms)
	"$1" -C "$2" update-ref --stdin <"$work/back.in"
	"$1" -C "$2" pack-refs --all
	echo $((t1 - t0))
}

best_pack() {
	best=
	i=0
	while [ $i -lt "$runs" ]; do
		d=$(pack_after_update "$@")
		if [ -z "$best" ] || [ $d -lt "$best" ]; then best=$d; fi
		i=$((i + 1))
	done
	echo "$best"
}

export GIT_AUTHOR_DATE="1700000000 +0000" GIT_COMMITTER_DATE="1700000000 +0000"
printf '%-8s %12s %14s %18s %12s\n' side "create(ms)" "for-each-ref" "update-ref x2(ms)" "pack-refs"
for side in stock compat; do
	eval tree=\$$side
	git=$tree/bin-wrappers/git
	repo=$work/$side
	setup_side "$git" "$repo"
	[ -f "$work/create.in" ] || make_inputs "$git" "$repo"
	t0=$(now_ms)
	"$git" -C "$repo" update-ref --stdin <"$work/create.in"
	"$git" -C "$repo" pack-refs --all
	create=$(( $(now_ms) - t0 ))
	fer=$(best_of "$git" -C "$repo" for-each-ref)
	upd=$(best_of update_pair "$git" "$repo")
	pack=$(best_pack "$git" "$repo")
	printf '%-8s %12s %14s %18s %12s\n' "$side" "$create" "$fer" "$upd" "$pack"
done
echo "refs=$refs updates=$updates runs=$runs (best of); times in ms;" \
	"update-ref x2 is two transactions of $updates updates each"
