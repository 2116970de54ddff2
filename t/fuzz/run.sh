#!/bin/sh
# Run each libFuzzer target for a set time and report what it did.
#
# Usage: sh t/fuzz/run.sh BUILD_DIR SECONDS TARGET...
#
# The committed corpus t/fuzz/corpus/TARGET seeds each run; new inputs go
# to BUILD_DIR/fuzz-corpus/TARGET (merge the useful ones into the
# committed corpus with -merge=1, see t/fuzz/README.md) and crashes to
# BUILD_DIR/fuzz-crashes/. Prints one line per target: executions,
# edges covered (cov), features (ft), corpus size, and crashes.
set -e
build=$1 seconds=$2
shift 2
failed=0
mkdir -p "$build/fuzz-crashes"
for t in "$@"; do
	corpus=$build/fuzz-corpus/$t
	log=$build/fuzz-$t.log
	mkdir -p "$corpus"
	case $t in
	table|stack) max_len=65536 ;;
	*) max_len=4096 ;;
	esac
	rc=0
	ASAN_OPTIONS=detect_leaks=1 "$build/t/fuzz/fuzz-$t" \
		-max_total_time="$seconds" -max_len=$max_len -timeout=20 \
		-close_fd_mask=1 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-crashes/$t-" \
		"$corpus" "t/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
	status=ok
	if [ $rc -ne 0 ]; then
		status="FAILED (see $log)"
		failed=$((failed + 1))
	fi
	printf 'fuzz-%-8s %10s execs in %ss  cov %6s  ft %6s  corpus %-12s %s\n' \
		"$t" "${execs:-?}" "$seconds" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$status"
done
[ $failed -eq 0 ] || { echo "$failed target(s) failed" >&2; exit 1; }
