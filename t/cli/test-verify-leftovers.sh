#!/bin/sh
# verify after a crash: what a killed writer leaves is a note, not a
# problem; unlisted tables that no unfinished addition can leave (a
# tables.list that lost lines) are a problem.
. "$(dirname "$0")/lib.sh"

A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
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

# no_ok_line NAME: the last verify did not claim "no problems".
no_ok_line() {
	if grep -q 'no problems' "$OUT"; then
		not_ok "$1" "$(cat "$OUT")"
	else
		ok "$1"
	fi
}

# --- a writer killed between renaming its table and listing it ----------------
S=$TMP/killed
stack "$S" 2
cp "$S/tables.list" "$TMP/list-before"
"$REFTABLE" -C "$S" update --no-compact refs/heads/late "$B" >/dev/null 2>&1
cp "$TMP/list-before" "$S/tables.list" # its table is there, unlisted
run verify "$S"
expect_report "verify: an unfinished addition is a note" 0 \
	"^note: .*unlisted table 0x000000000003-0x000000000003-[0-9a-f]*\.ref .*addition that did not finish"
run verify -q "$S"
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "verify -q: nothing to say about an unfinished addition"
else
	not_ok "verify -q: nothing to say about an unfinished addition" "$(cat "$OUT")"
fi

# The next addition takes its update index: now a leftover.
"$REFTABLE" -C "$S" update --no-compact refs/heads/next "$B" >/dev/null 2>&1
run verify "$S"
expect_report "verify: a leftover below the newest index is a note" 0 \
	"^note: .*unlisted table 0x000000000003-.* left over .*clean"
"$REFTABLE" -C "$S" clean >/dev/null 2>&1
run verify "$S"
if [ "$rc" -eq 0 ] && ! grep -q '^note' "$OUT"; then
	ok "verify: no note after clean"
else
	not_ok "verify: no note after clean" "$(cat "$OUT")"
fi

# The first addition of a stack, killed: one table before an empty list.
S=$TMP/first
stack "$S" 1
: >"$S/tables.list"
run verify "$S"
expect_report "verify: an empty list and one unfinished addition" 0 \
	"^note: .*addition that did not finish"

# --- files FUSE and NFS keep for a descriptor still open -------------------------
S=$TMP/fuse
stack "$S" 2
: >"$S/.fuse_hidden0000000600000001"
: >"$S/.nfs000000000123456700000002"
run verify "$S"
expect_report "verify: a .fuse_hidden file is a note" 0 \
	"^note: .*\.fuse_hidden0000000600000001 is a file the filesystem keeps"
expect_report "verify: a .nfs file is a note" 0 \
	"^note: .*\.nfs000000000123456700000002 is a file the filesystem keeps"
run -C "$S" clean
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ] && [ -f "$S/.fuse_hidden0000000600000001" ]; then
	ok "clean leaves them to the filesystem"
else
	not_ok "clean leaves them to the filesystem" "$(cat "$OUT")"
fi

# --- a damaged tables.list ------------------------------------------------------
S=$TMP/truncated
stack "$S" 3
: >"$S/tables.list"
run verify "$S"
expect_report "verify: an emptied tables.list with several tables" 2 \
	"^problem: .*tables.list may be damaged: 3 unlisted table\(s\) hold newer data .*up to 3, the list's newest is 0\)"
no_ok_line "verify: an emptied tables.list is not 'no problems'"

S=$TMP/gap
stack "$S" 4
head -2 "$S/tables.list" >"$TMP/two"
rm "$S/$(sed -n 3p "$S/tables.list")"
cp "$TMP/two" "$S/tables.list"
run verify "$S"
expect_report "verify: an unlisted table after a gap" 2 \
	"^problem: .*tables.list may be damaged: 1 unlisted table\(s\) hold newer data .*up to 4, the list's newest is 2\)"
no_ok_line "verify: a gap is not 'no problems'"
finish
