#!/bin/sh
# dump and write: round trips of tricky records, and every error path
# with its exit code (0 ok, 1 usage or bad input, 2 data or I/O error).
. "$(dirname "$0")/lib.sh"

Z=0000000000000000000000000000000000000000
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
BASIC=$FIXTURES/basic/reftable
T1=$(ls "$BASIC"/*.ref | head -1)

# --- round trips -------------------------------------------------------
cat >"$TMP/tricky.txt" <<EOT
table whatever.ref 5 9
ref HEAD 9 symref refs/heads/main
ref refs/heads/a 5 val1 $A
ref refs/heads/b 6 delete
ref refs/heads/odd\\x20name 7 val1 $B
ref refs/tags/t 8 val2 $A $B
log refs/heads/a 9 update $Z $A Some One <one@example.com> 1700000000 -530 tab\\there\\nnewline \\\\ back \\x01\\x7f done
log refs/heads/a 8 update $A $B  <> 0 0 
log refs/heads/a 7 delete
log refs/heads/b 6 update $A $Z Name <With> Angles <e@x> 12 +200 msg > 1 2 with fake time
EOT
# The dump prints "+200" as 200 and escapes '<' and '>' in a name;
# everything else comes back unchanged.
sed -e 's/ +200 / 200 /' -e '1s/whatever.ref/tricky.ref/' \
	-e 's/Name <With> Angles/Name \\x3cWith\\x3e Angles/' \
	"$TMP/tricky.txt" >"$TMP/tricky-expected.txt"
run_in "$TMP/tricky.txt" write -o "$TMP/tricky.ref"
expect_rc "write tricky records" 0
run dump --records "$TMP/tricky.ref"
expect_output "tricky records read back unchanged" "$TMP/tricky-expected.txt"

# '<' and '>' in a name or an email (Git strips them; the library
# stores them): dump, write that back, and the table is the same.
cat >"$TMP/angles.txt" <<EOT
table angles.ref 1 3
log refs/heads/a 3 update $Z $A x\\x3e 1 2 y <a\\x3cb@c\\x3e> 1700000000 0 m <d> 1 2 e
log refs/heads/a 2 update $Z $A N <\\x3cwho\\x3e@x> 1 0 m
log refs/heads/a 1 update $Z $A \\x3c\\x3e <\\x3e> 5 0 m
EOT
run_in "$TMP/angles.txt" write -o "$TMP/angles.ref"
expect_rc "write names and emails with escaped angles" 0
run dump --records "$TMP/angles.ref"
expect_output "angles in names and emails dump as written" "$TMP/angles.txt"
cp "$OUT" "$TMP/angles-dump.txt"
run_in "$TMP/angles-dump.txt" write -o "$TMP/angles2.ref"
expect_rc "the dump of an email with '<' writes back" 0
expect_same "an email with '<' round-trips through dump and write" \
	"$TMP/angles.ref" "$TMP/angles2.ref"

run write -o "$TMP/fromfile.ref" "$TMP/tricky.txt"
expect_rc "write reads a FILE argument" 0
expect_same "FILE and stdin give the same table" "$TMP/fromfile.ref" \
	"$TMP/tricky.ref"

# Without a table line the limits come from the records.
printf 'ref refs/heads/x 3 val1 %s\nref refs/heads/y 4 delete\n' "$A" \
	>"$TMP/nolimits.txt"
run_in "$TMP/nolimits.txt" write -o "$TMP/nolimits.ref"
run dump --records "$TMP/nolimits.ref"
if [ "$rc" -eq 0 ] && head -1 "$OUT" | grep -q '^table nolimits.ref 3 4$'; then
	ok "limits default to the records' range"
else
	not_ok "limits default to the records' range" "$(head -1 "$OUT")"
fi

: >"$TMP/empty.txt"
run_in "$TMP/empty.txt" write -o "$TMP/empty.ref"
expect_rc "write an empty table" 0
run dump --records "$TMP/empty.ref"
expect_rc "dump an empty table" 0

printf 'table t 1 1\nref refs/heads/m 1 val1 %s\n' \
	"$(printf '%064d' 7)" >"$TMP/sha256.txt"
run_in "$TMP/sha256.txt" write --hash sha256 -o "$TMP/sha256.ref"
run dump --records "$TMP/sha256.ref"
if [ "$rc" -eq 0 ] && grep -q "val1 $(printf '%064d' 7)$" "$OUT"; then
	ok "sha256 table round trip"
else
	not_ok "sha256 table round trip"
fi

# An empty stack directory is a valid, empty merged view.
mkdir "$TMP/emptystack"
: >"$TMP/emptystack/tables.list"
run dump --records "$TMP/emptystack"
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "dump an empty stack"
else
	not_ok "dump an empty stack" "exit $rc"
fi

# --- dump errors ----------------------------------------------------------
run dump --records "$TMP/nope.ref"
expect_fail "dump a missing file" 2 "nope.ref"

head -c 60 "$T1" >"$TMP/truncated.ref"
run dump --records "$TMP/truncated.ref"
expect_fail "dump a truncated table" 2 "truncated.ref"

cp "$T1" "$TMP/badmagic.ref"
printf 'X' | dd of="$TMP/badmagic.ref" bs=1 seek=0 count=1 conv=notrunc \
	2>/dev/null
run dump --records "$TMP/badmagic.ref"
expect_fail "dump a table with a flipped magic" 2 "badmagic.ref"

: >"$TMP/zero.ref"
run dump --records "$TMP/zero.ref"
expect_fail "dump an empty file" 2 "zero.ref"

mkdir "$TMP/nolist"
run dump --records "$TMP/nolist"
expect_fail "dump a directory without tables.list" 2 "tables.list"

mkdir "$TMP/missingtable"
echo 0x000000000001-0x000000000001-00000000.ref >"$TMP/missingtable/tables.list"
run dump --records "$TMP/missingtable"
expect_fail "dump a stack with a missing table" 2 "0x000000000001"

run dump "$T1"
expect_fail "dump without a kind" 1 "--records"
run -C "$TMP/nolist" dump --records
expect_fail "dump without a path outside any stack" 1 "not a reftable stack"
run dump --records "$T1" "$T1"
expect_fail "dump with two paths" 1 "PATH"
run dump --bogus "$T1"
expect_fail "dump with a bad option" 1 "unknown option '--bogus'"

# --- write errors ---------------------------------------------------------
printf 'table t 1 1\nref refs/heads/a 1 val1 %s\nref refs/heads/b 1 val3 x\n' \
	"$A" >"$TMP/bad3.txt"
run_in "$TMP/bad3.txt" write -o "$TMP/bad.ref"
expect_fail "malformed record names its line" 1 "<stdin>:3: .*val3"
if [ -e "$TMP/bad.ref" ]; then
	not_ok "no output after bad input"
else
	ok "no output after bad input"
fi

check_bad_line() { # NAME LINE PATTERN
	printf '%s\n' "$2" >"$TMP/badline.txt"
	run write -o "$TMP/bad.ref" "$TMP/badline.txt"
	expect_fail "bad line: $1" 1 "badline.txt:1: .*$3"
}
check_bad_line "short object id" "ref refs/heads/a 1 val1 1234" "hex digits"
check_bad_line "non-hex object id" "ref refs/heads/a 1 val1 $(echo $A | tr 1 g)" "hex"
check_bad_line "no update index" "ref refs/heads/a val1 $A" "update index"
check_bad_line "negative update index" "ref refs/heads/a -1 delete" "update index"
check_bad_line "extra field" "ref refs/heads/a 1 delete now" "unexpected"
check_bad_line "unknown kind" "obj abc" "unknown record kind"
check_bad_line "bad escape" "log refs/heads/a 1 update $Z $A N <e> 1 0 bad\\q" "escape"
check_bad_line "NUL escape" "log refs/heads/a 1 update $Z $A N <e> 1 0 a\\x00" "x00"
check_bad_line "no ident" "log refs/heads/a 1 update $Z $A just a message" "EMAIL"
check_bad_line "tz out of range" "log refs/heads/a 1 update $Z $A N <e> 1 40000 m" "time zone"
check_bad_line "bad table line" "table t 1" "MIN_UPDATE_INDEX"

printf 'ref refs/heads/b 1 delete\nref refs/heads/a 1 delete\n' >"$TMP/order.txt"
run write -o "$TMP/bad.ref" "$TMP/order.txt"
expect_fail "out-of-order refs are refused at their line" 1 "order.txt:2: "

printf 'ref refs/heads/a 1 delete\nref refs/heads/a 1 delete\n' >"$TMP/dup.txt"
run write -o "$TMP/bad.ref" "$TMP/dup.txt"
expect_fail "duplicate refs are refused at their line" 1 "dup.txt:2: "

printf 'table t 1 1\nref refs/heads/a 5 delete\n' >"$TMP/range.txt"
run write -o "$TMP/bad.ref" "$TMP/range.txt"
expect_fail "update index outside the table's range" 1 "range.txt:2: "

printf 'ref refs/heads/a 1 delete\ntable t 1 1\n' >"$TMP/late.txt"
run write -o "$TMP/bad.ref" "$TMP/late.txt"
expect_fail "table line after records" 1 "late.txt:2: .*first"

run_in "$TMP/tricky.txt" write
expect_fail "write without -o" 1 "-o OUT.ref"
run_in "$TMP/tricky.txt" write --hash md5 -o "$TMP/x.ref"
expect_fail "write with an unknown hash" 1 "md5"
run_in "$TMP/tricky.txt" write --block-size 12 -o "$TMP/x.ref"
expect_fail "write with a tiny block size" 1 "block-size"
run_in "$TMP/tricky.txt" write --block-size 16777216 -o "$TMP/x.ref"
expect_fail "write with a huge block size" 1 "block-size"
run_in "$TMP/tricky.txt" write --restart-interval 70000 -o "$TMP/x.ref"
expect_fail "write with a huge restart interval" 1 "restart-interval"
run_in "$TMP/tricky.txt" write --block-size lots -o "$TMP/x.ref"
expect_fail "write with a non-numeric block size" 1 "number"
run write -o "$TMP/x.ref" "$TMP/no-such-input.txt"
expect_fail "write from a missing FILE" 2 "no-such-input.txt"
run_in "$TMP/tricky.txt" write -o "$TMP/no/such/dir/x.ref"
expect_fail "write into a missing directory" 2 "no/such/dir"
# A sha1-length id in a sha256 table is bad input.
run_in "$TMP/tricky.txt" write --hash sha256 -o "$TMP/x.ref"
expect_fail "sha1 ids with --hash sha256" 1 "64 hex digits"

# -o replaces a regular file only: never a fifo, a device node, a
# directory, or a symbolic link (the rename would replace the link).
run_in "$TMP/tricky.txt" write -o "$TMP/tricky.ref"
expect_rc "write replaces an existing table" 0
# Windows (REFTABLE_WINDOWS, t/win/run.sh) has neither fifos nor the
# symbolic links of the Unix emulation running the test.
if [ -z "$REFTABLE_WINDOWS" ]; then
	mkfifo "$TMP/fifo"
	run_in "$TMP/tricky.txt" write -o "$TMP/fifo"
	expect_fail "write -o a fifo is refused" 1 "fifo.*is a fifo"
	if [ -p "$TMP/fifo" ]; then
		ok "the fifo is still there"
	else
		not_ok "the fifo is still there"
	fi
	echo keep >"$TMP/target"
	ln -s target "$TMP/link.ref"
	run_in "$TMP/tricky.txt" write -o "$TMP/link.ref"
	expect_fail "write -o a symlink is refused" 1 "link.ref is a symbolic link"
	if [ -L "$TMP/link.ref" ] && [ "$(cat "$TMP/target")" = keep ]; then
		ok "the symlink and its target are unchanged"
	else
		not_ok "the symlink and its target are unchanged"
	fi
fi
mkdir "$TMP/adir"
run_in "$TMP/tricky.txt" write -o "$TMP/adir"
expect_fail "write -o a directory is refused" 1 "adir is a directory"

leftover=$(ls "$TMP" | grep -c 'tmp-' || true)
if [ "$leftover" -eq 0 ]; then
	ok "failed writes leave no temporary files"
else
	not_ok "failed writes leave no temporary files" "$(ls "$TMP")"
fi

# --- the front end -----------------------------------------------------------
run
expect_fail "no command" 1 "usage"
run frobnicate
expect_fail "unknown command" 1 "unknown command 'frobnicate'"
run --bogus dump
expect_fail "unknown global option" 1 "unknown option '--bogus'"
for c in dump write; do
	run "$c" --help
	if [ "$rc" -eq 0 ] && grep -q "^usage: reftable $c" "$OUT"; then
		ok "$c --help"
	else
		not_ok "$c --help"
	fi
done
run --help
if [ "$rc" -eq 0 ] && grep -q "dump" "$OUT" && grep -q "write" "$OUT"; then
	ok "--help lists the commands"
else
	not_ok "--help lists the commands"
fi
finish
