#!/bin/sh
# dump --blocks and dump --stats: the layout of Git's tables as our own
# block walker sees it.
. "$(dirname "$0")/lib.sh"

SB=$FIXTURES/small-blocks/reftable
MR=$FIXTURES/many-refs/reftable
LH=$FIXTURES/logs-heavy/reftable

run dump --blocks "$SB"
if [ "$rc" -eq 0 ] && grep -Eq '^ +[0-9]+  index +2 ' "$OUT" &&
	grep -Eq '^ +0  header ' "$OUT" && grep -Eq 'footer .*crc [0-9a-f]{8} \(ok\)$' "$OUT"; then
	ok "dump --blocks shows a two-level index, header and footer"
else
	not_ok "dump --blocks shows a two-level index, header and footer"
fi
# Every block of a padded table starts at a multiple of the block size,
# except log blocks, which are never padded.
bad=$(awk '$2 == "ref" || $2 == "obj" { if ($1 != 24 && $1 % 512) print $1 }' "$OUT")
if [ -z "$bad" ]; then
	ok "padded blocks start on 512-byte boundaries"
else
	not_ok "padded blocks start on 512-byte boundaries" "$bad"
fi

run dump --stats "$MR"
if [ "$rc" -eq 0 ] &&
	grep -q '^refs  *20401 (val1 20000, val2 400, symref 1, deletions 0)$' "$OUT" &&
	grep -q '^obj records  *20400$' "$OUT" &&
	grep -q '^ref index levels  *1$' "$OUT"; then
	ok "dump --stats counts many-refs"
else
	not_ok "dump --stats counts many-refs" "$(cat "$OUT")"
fi

run dump --stats --json "$LH"
if [ "$rc" -eq 0 ] && grep -q '"log_updates": 1203' "$OUT" &&
	grep -q '"log_deletions": 400' "$OUT" &&
	grep -q '"log_compression": [1-9]' "$OUT"; then
	ok "dump --stats --json counts logs and their compression"
else
	not_ok "dump --stats --json counts logs and their compression" "$(cat "$OUT")"
fi

run dump --blocks --json "$LH"
if [ "$rc" -eq 0 ] && head -c 1 "$OUT" | grep -q '\[' &&
	grep -q '"type": "log"' "$OUT" && grep -q '"crc_ok": true' "$OUT"; then
	ok "dump --blocks --json"
else
	not_ok "dump --blocks --json"
fi

T=$(ls "$MR"/*.ref)
cp "$T" "$TMP/bad.ref"
printf 'X' | dd of="$TMP/bad.ref" bs=1 seek=4096 count=1 conv=notrunc 2>/dev/null
run dump --blocks "$TMP/bad.ref"
expect_fail "dump --blocks of a corrupt table reports where" 2 \
	"bad.ref: offset 4096: unknown block type"

run dump --records --json "$T"
expect_fail "--json with --records" 1 "--json"
run dump --records --stats "$T"
expect_fail "two kinds at once" 1 "one of"
finish
