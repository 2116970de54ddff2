#!/bin/sh
# dump --records and write against every table and stack Git wrote
# (t/fixtures/git): our reading must equal Git's, and writing Git's
# records with Git's options must give Git's bytes.
. "$(dirname "$0")/lib.sh"

# The write options Git used for each fixture (see its README.md). A
# fixture not listed here fails, so a new fixture is never skipped.
write_opts() {
	case $1 in
	basic | many-refs | logs-heavy) echo "" ;;
	sha256) echo "--hash sha256" ;;
	small-blocks) echo "--block-size 512" ;;
	restart1-noobj) echo "--restart-interval 1 --no-index-objects" ;;
	bigblock-restart64) echo "--block-size 65536 --restart-interval 64" ;;
	*) return 1 ;;
	esac
}

# Tables we know we cannot rewrite byte for byte, one per line:
# "FIXTURE/TABLE reason". Empty: every table must be identical.
expected_differences=""

expected_difference() {
	echo "$expected_differences" | grep -q "^$1 "
}

for fdir in "$FIXTURES"/*/; do
	fixture=$(basename "$fdir")
	if ! opts=$(write_opts "$fixture"); then
		not_ok "$fixture: write options known" \
			"add the fixture to write_opts in $0"
		continue
	fi
	for table in "$fdir"reftable/*.ref; do
		name=$(basename "$table")
		expected=$fdir/expected-tables/$name.txt

		run dump --records "$table"
		expect_output "$fixture/$name: dump --records" "$expected"

		# shellcheck disable=SC2086 # opts is a word list
		run_in "$expected" write $opts -o "$TMP/$name"
		if [ "$rc" -ne 0 ]; then
			not_ok "$fixture/$name: write" "exit code $rc"
		elif expected_difference "$fixture/$name"; then
			if cmp -s "$TMP/$name" "$table"; then
				not_ok "$fixture/$name: listed as an expected" \
					"difference but now identical: update the list"
			else
				why=$(echo "$expected_differences" |
					grep "^$fixture/$name " | cut -d' ' -f2-)
				ok "$fixture/$name: write differs as expected ($why)"
			fi
		else
			expect_same "$fixture/$name: write is byte-identical" \
				"$TMP/$name" "$table"
		fi
		# What we wrote must read back the same, identical or not
		# (same base name, so even the table line must match).
		if [ -f "$TMP/$name" ]; then
			run dump --records "$TMP/$name"
			expect_output "$fixture/$name: written table reads back" \
				"$expected"
			rm -f "$TMP/$name"
		fi
	done
	run dump --records "${fdir}reftable"
	expect_output "$fixture: dump --records of the stack" \
		"$fdir/expected-stack.txt"
done
finish
