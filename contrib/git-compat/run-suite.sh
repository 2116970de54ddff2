#!/bin/sh
# Run Git's ref tests in a built Git tree and count the results.
#
#   run-suite.sh GIT_TREE [SCRIPT...]
#
# Without scripts, runs the list below: the t06* ref-storage scripts that
# need neither a web server (t0611) nor JGit (t0612) as they are, and the
# ref-heavy scripts with GIT_TEST_DEFAULT_REF_FORMAT=reftable. Prints one
# line per script (passed, failed, skipped, and Git's own expected
# failures, "known breakage") and a total "N passed, N failed".
#
# A failure listed in contrib/git-compat/known-failures (script and test
# title, tab-separated) is reported as known; the exit status is non-zero
# when any other test fails or a script does not finish. GS_JOBS scripts
# run at once (default 2). Logs go to GIT_TREE/t/git-suite-results/.
set -u

tree=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
known="$here/known-failures"
results="$tree/t/git-suite-results"

AS_IS="t0600-reffiles-backend.sh t0601-reffiles-pack-refs.sh
t0602-reffiles-fsck.sh t0610-reftable-basics.sh
t0613-reftable-write-options.sh t0614-reftable-fsck.sh"
ON_REFTABLE="t0001-init.sh t1400-update-ref.sh t1401-symbolic-ref.sh
t1403-show-ref.sh t1404-update-ref-errors.sh t1405-main-ref-store.sh
t1406-submodule-ref-store.sh t1407-worktree-ref-store.sh t1410-reflog.sh
t1411-reflog-show.sh t1412-reflog-loop.sh t1413-reflog-detach.sh
t1414-reflog-walk.sh t1415-worktree-refs.sh
t1416-ref-transaction-hooks.sh t1417-reflog-updateref.sh
t1418-reflog-exists.sh t1419-exclude-refs.sh t1421-reflog-write.sh
t1422-show-ref-exists.sh t1423-ref-backend.sh t1430-bad-ref-name.sh
t1450-fsck.sh t1460-refs-migrate.sh t1461-refs-list.sh
t1462-refs-exists.sh t1463-refs-optimize.sh t1464-refs-delete.sh
t1465-refs-update.sh t1466-refs-create.sh t1467-refs-rename.sh
t3200-branch.sh t5510-fetch.sh t6300-for-each-ref.sh
t6302-for-each-ref-filter.sh t7424-submodule-mixed-ref-formats.sh"

# One script: its TAP output into $results/NAME.out.
run_one() {
	name=$1
	case " $(echo $AS_IS) " in
	*" $name "*) fmt= ;;
	*) fmt=reftable ;;
	esac
	(
		cd "$tree/t" || exit 1
		if [ -n "$fmt" ]; then
			GIT_TEST_DEFAULT_REF_FORMAT=$fmt
			export GIT_TEST_DEFAULT_REF_FORMAT
		fi
		# Each script its own trash directory; no color in the logs.
		sh "./$name" --root="$results/trash" >"$results/$name.out" 2>&1
		echo $? >"$results/$name.rc"
	)
}

if [ "${1:-}" = "--one" ]; then
	results=$3
	run_one "$2"
	exit 0
fi

scripts=${*:-$AS_IS $ON_REFTABLE}
mkdir -p "$results"
rm -f "$results"/*.out "$results"/*.rc
export AS_IS
for s in $scripts; do echo "$s"; done |
	xargs -P "${GS_JOBS:-2}" -n 1 sh -c \
		'sh "$0" "$1" --one "$3" "$2"' \
		"$0" "$tree" "$results" >/dev/null 2>&1 ||
	true

# Counting. Lines of TAP: "ok N - title", "ok N # skip title",
# "not ok N - title", "not ok N - title # TODO known breakage".
total_pass=0 total_fail=0 total_skip=0 total_known=0 bad=0
printf '%-36s %7s %7s %7s %7s\n' script passed failed skipped broken
for s in $scripts; do
	out="$results/$s.out"
	pass=$(grep -c '^ok [0-9]* - ' "$out" 2>/dev/null)
	skip=$(grep -c '^ok [0-9]* # skip' "$out" 2>/dev/null)
	broken=$(grep -c '^not ok [0-9]* - .*# TODO' "$out" 2>/dev/null)
	fails=$(grep '^not ok [0-9]* - ' "$out" 2>/dev/null | grep -v '# TODO' |
		sed 's/^not ok [0-9]* - //')
	fail=0 unknown=0
	if [ -n "$fails" ]; then
		fail=$(printf '%s\n' "$fails" | wc -l)
		unknown=$(printf '%s\n' "$fails" | while IFS= read -r t; do
			grep -qxF "$(printf '%s\t%s' "$s" "$t")" "$known" 2>/dev/null ||
				echo x
		done | wc -l)
	fi
	if grep -q '^1\.\.0 # SKIP' "$out" 2>/dev/null; then
		skip=all
	elif ! grep -q '^1\.\.[0-9]' "$out" 2>/dev/null; then
		echo "$s: did not finish (see $out)" >&2
		fail=$((fail + 1))
		unknown=$((unknown + 1))
	fi
	printf '%-36s %7s %7s %7s %7s\n' "$s" "$pass" "$fail" "$skip" "$broken"
	if [ "$unknown" -gt 0 ]; then
		printf '%s\n' "$fails" | sed "s/^/    failed: /"
		bad=1
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	[ "$skip" = all ] || total_skip=$((total_skip + skip))
	total_known=$((total_known + broken))
done
echo "$total_pass passed, $total_fail failed" \
	"($total_skip skipped, $total_known known breakages of Git's own)"
exit $bad
