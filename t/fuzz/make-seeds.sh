#!/bin/sh
# Regenerate the seeds of the table, list and stack corpora from the
# fixtures and from small tables the tool writes. Run from the top of the
# tree after `make`; the result is committed (t/fuzz/README.md), so this
# is needed only to change the seeds. Records and update seeds are
# hand-written text files and are kept as they are.
set -e
tool=${REFTABLE:-build/bin/reftable}
out=t/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/table" "$out/list" "$out/stack"

# --- tables: the small fixture tables and layouts the writer offers ---
for f in t/fixtures/git/basic/reftable/0x00000000000[29]-*.ref \
	 t/fixtures/git/sha256/reftable/0x000000000003-*.ref; do
	cp "$f" "$out/table/fixture-$(basename "$f" | cut -c1-14)"
done
a=0123456789abcdef0123456789abcdef01234567
b=89abcdef0123456789abcdef0123456789abcdef
{
	echo "table t 1 40"
	i=10
	while [ $i -lt 40 ]; do
		echo "ref refs/heads/topic/$i $i val1 $a"
		i=$((i + 1))
	done
	echo "ref refs/tags/v1 40 val2 $a $b"
	echo "ref refs/tags/v2 40 symref refs/heads/topic/10"
	echo "ref refs/tags/zz 40 delete"
	for i in 3 2 1; do
		echo "log refs/heads/topic/10 $i update $b $a A U <a@u> 1700000000 +100 msg $i"
	done
	echo "log refs/heads/topic/11 1 delete"
} > "$tmp/recs"
"$tool" write -o "$out/table/written-default" "$tmp/recs"
"$tool" write --block-size 256 --restart-interval 3 \
	-o "$out/table/written-small-blocks" "$tmp/recs"
"$tool" write --block-size 128 --restart-interval 1 \
	-o "$out/table/written-tiny-blocks" "$tmp/recs"
"$tool" write --block-size 256 --unpadded --no-index-objects \
	-o "$out/table/written-unpadded" "$tmp/recs"
grep '^log' "$tmp/recs" > "$tmp/logs"
"$tool" write -o "$out/table/written-logs-only" "$tmp/logs"
printf '' | "$tool" write -o "$out/table/written-empty"

# --- lists ---
printf '0x000000000001-0x000000000001-85bbfb54.ref\n' > "$out/list/one"
cp t/fixtures/git/basic/reftable/tables.list "$out/list/basic"
printf 'a.ref\n\nb.ref' > "$out/list/empty-line-no-newline"
printf 'a.ref\r\n' > "$out/list/crlf"

# --- stacks: TAG LEN(2, little-endian) BYTES per file (fuzz-stack.c) ---
chunk() { # tag file
	len=$(wc -c < "$2")
	printf "\\$(printf %03o "$1")\\$(printf %03o $((len & 255)))"
	printf "\\$(printf %03o $((len >> 8)))"
	cat "$2"
}
name() { printf '0x%012x-0x%012x-0000000%u.ref\n' "$1" "$1" "$1"; }
basic=t/fixtures/git/basic/reftable
set -- $(cat "$basic/tables.list")
{ name 1; name 2; name 3; } > "$tmp/list3"
{ name 1; name 2; name 3; name 4; } > "$tmp/list4"
{
	chunk 0 "$tmp/list3"
	chunk 1 "$basic/$1"; chunk 2 "$basic/$2"; chunk 3 "$basic/$3"
	chunk 132 "$basic/$4"; chunk 128 "$tmp/list4"
} > "$out/stack/basic-grows"
{ name 4; } > "$tmp/list1"
{
	chunk 0 "$tmp/list3"
	chunk 1 "$basic/$1"; chunk 2 "$basic/$2"; chunk 3 "$basic/$3"
	chunk 132 "$out/table/written-small-blocks"; chunk 128 "$tmp/list1"
} > "$out/stack/basic-compacted"
sha=t/fixtures/git/sha256/reftable
set -- $(cat "$sha/tables.list")
{
	chunk 64 "$tmp/list3"
	chunk 1 "$sha/$1"; chunk 2 "$sha/$2"; chunk 3 "$sha/$3"
} > "$out/stack/sha256"
echo "seeds written under $out"
