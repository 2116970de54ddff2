#!/bin/sh
# relist: tables that a damaged tables.list lost go back where their
# update indexes belong; listed tables never move; leftovers that overlap
# the list stay unlisted.
. "$(dirname "$0")/lib.sh"

A=1111111111111111111111111111111111111111
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE

# stack DIR N: a stack of N tables, one per update (update indexes 1..N).
stack() {
	"$REFTABLE" init "$1" >/dev/null 2>&1
	i=0
	while [ "$i" -lt "$2" ]; do
		i=$((i + 1))
		"$REFTABLE" -C "$1" update --no-compact refs/heads/b$i "$A" \
			>/dev/null 2>&1
	done
}

# refs DIR: the ref names of the stack, one a line.
refs() {
	"$REFTABLE" -C "$1" list --format='%(refname)' 2>&1
}

# --- a list truncated to nothing ----------------------------------------------
S=$TMP/truncated
stack "$S" 3
refs "$S" >"$TMP/want.txt"
cp "$S/tables.list" "$TMP/list.txt"
: >"$S/tables.list"
run verify "$S"
expect_report "verify points at relist" 2 "reftable relist"
run -C "$S" relist -n
if [ "$rc" -eq 0 ] && [ "$(grep -c '^would relist ' "$OUT")" -eq 3 ] &&
	[ ! -s "$S/tables.list" ]; then
	ok "relist -n names the lost tables and changes nothing"
else
	not_ok "relist -n names the lost tables and changes nothing" "$(cat "$OUT")"
fi
run -C "$S" relist
expect_report "relist puts back the lost tables" 0 \
	"^relisted 0x000000000002-0x000000000002-[0-9a-f]*\.ref \(update indexes 2\.\.2\)"
expect_same "relist restores the list, in order" "$TMP/list.txt" "$S/tables.list"
refs "$S" >"$TMP/got.txt"
expect_same "relist brings the refs back" "$TMP/want.txt" "$TMP/got.txt"
run verify "$S"
expect_rc "verify passes after relist" 0
run -C "$S" relist
expect_report "relist with nothing lost" 0 "^nothing to relist"

# --- a line lost in the middle ------------------------------------------------
S=$TMP/middle
stack "$S" 3
cp "$S/tables.list" "$TMP/list.txt"
sed -i 2d "$S/tables.list"
run -C "$S" relist
expect_same "a table lost between two goes back between them" \
	"$TMP/list.txt" "$S/tables.list"

# --- a compaction's output next to its leftover inputs -------------------------
S=$TMP/compacted
stack "$S" 3
mkdir "$TMP/inputs" && cp "$S"/*.ref "$TMP/inputs/"
"$REFTABLE" -C "$S" compact >/dev/null 2>&1
cp "$S/tables.list" "$TMP/list.txt"
cp "$TMP/inputs"/*.ref "$S/"
: >"$S/tables.list"
echo junk >"$S/0x000000000004-0x000000000004-0badf00d.ref"
run -C "$S" relist
expect_same "the compaction's output, not its inputs, is relisted" \
	"$TMP/list.txt" "$S/tables.list"
if [ "$(grep -c '^left .*overlap' "$OUT")" -eq 3 ] &&
	grep -q '^left 0x000000000004-0x000000000004-0badf00d.ref .*not a readable table' "$OUT"; then
	ok "inputs and junk are left, each with the reason"
else
	not_ok "inputs and junk are left, each with the reason" "$(cat "$OUT")"
fi
run -C "$S" clean
if [ "$rc" -eq 0 ] && [ "$(ls "$S" | grep -c '\.ref$')" -eq 2 ]; then
	ok "clean then removes the leftover inputs (junk beyond the stack is kept)"
else
	not_ok "clean then removes the leftover inputs (junk beyond the stack is kept)" "$(ls "$S")"
fi

# --- the list lock --------------------------------------------------------------
: >"$S/tables.list.lock"
run -C "$S" relist
expect_fail "relist waits for the list lock" 3 "tables.list.lock"
rm -f "$S/tables.list.lock"
finish
