#!/bin/sh
# init, update, show, log, compact, clean, unlock and verify on stacks we
# make, with every error path and its exit code (1 usage or bad input,
# 2 missing or corrupt data, 3 lock held or compare-and-swap failed).
. "$(dirname "$0")/lib.sh"

Z=0000000000000000000000000000000000000000
A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
C=3333333333333333333333333333333333333333
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 -0530"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
S=$TMP/s

newest() { # the newest table of stack $1
	echo "$1/$(tail -1 "$1/tables.list")"
}

# --- init -------------------------------------------------------------------
run init "$S"
expect_rc "init creates a stack" 0
if [ -f "$S/tables.list" ] && [ ! -s "$S/tables.list" ]; then
	ok "init leaves an empty tables.list"
else
	not_ok "init leaves an empty tables.list"
fi
run init "$S"
expect_fail "init refuses an existing stack" 1 "already exists"
run init
expect_fail "init without a directory" 1 "DIR"
run init --hash md5 "$TMP/x"
expect_fail "init with an unknown hash" 1 "md5"
run init --hash sha256 "$TMP/s256"
run dump --stats --json "$TMP/s256"
if [ "$rc" -eq 0 ] && "$REFTABLE" dump --blocks "$TMP/s256" | grep -q sha256; then
	ok "init --hash=sha256 records the hash"
else
	not_ok "init --hash=sha256 records the hash"
fi
# The marker table is an addition like any other: under the list lock,
# published by the library, with nothing left behind.
: >"$TMP/held.lock"
mkdir -p "$TMP/s256b" && cp "$TMP/held.lock" "$TMP/s256b/tables.list.lock"
run init --hash sha256 "$TMP/s256b"
expect_fail "init --hash=sha256 waits for the list lock" 3 "tables.list.lock"
if [ "$(wc -l <"$TMP/s256/tables.list")" -eq 1 ] &&
	[ -z "$(ls "$TMP/s256" | grep -v '\.ref$' | grep -v '^tables\.list$')" ]; then
	ok "init --hash=sha256 lists one table and leaves no lock"
else
	not_ok "init --hash=sha256 lists one table and leaves no lock"
fi

# --- update from the command line ---------------------------------------
run -C "$S" update --no-compact -m "first" refs/heads/main "$A"
expect_rc "update creates a ref" 0
cat >"$TMP/want.txt" <<EOT
table $(basename "$(newest "$S")") 1 1
ref refs/heads/main 1 val1 $A
log refs/heads/main 1 update $Z $A Test User <test@example.com> 1700000000 -530 first\\n
EOT
run dump --records "$(newest "$S")"
expect_output "update writes exactly the new records" "$TMP/want.txt"

run -C "$S" update --no-compact --symref HEAD refs/heads/main
expect_rc "update --symref" 0
run -C "$S" show HEAD
echo "$A" >"$TMP/want.txt"
expect_output "show follows HEAD" "$TMP/want.txt"
run -C "$S" show main
expect_output "show finds main as refs/heads/main" "$TMP/want.txt"
run -C "$S" show -v HEAD
printf 'symref HEAD -> refs/heads/main\nref refs/heads/main %s (update index 1)\n' \
	"$A" >"$TMP/want.txt"
expect_output "show --verbose prints the chain" "$TMP/want.txt"

# Through HEAD: the branch changes, both reflogs get the entry.
run -C "$S" update --no-compact -m "second" HEAD "$B" "$A"
expect_rc "update through a symref with the right old id" 0
run dump --records "$(newest "$S")"
if grep -q "^ref refs/heads/main 3 val1 $B$" "$OUT" &&
	grep -q "^log HEAD 3 update $A $B " "$OUT" &&
	grep -q "^log refs/heads/main 3 update $A $B " "$OUT" &&
	! grep -q "^ref HEAD" "$OUT"; then
	ok "update HEAD changes the branch and logs both"
else
	not_ok "update HEAD changes the branch and logs both" "$(cat "$OUT")"
fi

run -C "$S" update refs/heads/main "$C" "$A"
expect_fail "failed compare-and-swap" 3 "refs/heads/main: expected $A, but it is at $B"
run -C "$S" show main
echo "$B" >"$TMP/want.txt"
expect_output "a failed compare-and-swap changes nothing" "$TMP/want.txt"
run -C "$S" update 'refs/heads/bad..name' "$A"
expect_fail "bad ref name" 1 "bad ref name"
# (One-level names such as 'lowercase' are written, as Git writes them:
# test-update-git.sh.)
run -C "$S" update '@' "$A"
expect_fail "the name @" 1 "bad ref name"
run -C "$S" update refs/heads/main "$A" 1234
expect_fail "short old id" 1 "full old id"
run -C "$S" update refs/heads/main/sub "$A"
expect_fail "a ref inside an existing ref's name" 3 "'refs/heads/main' exists"
run -C "$S" update refs/heads "$A"
expect_fail "a ref over an existing directory" 3 "'refs/heads/main' exists"
run -C "$S" update
expect_fail "update without arguments" 1 "wants REF"
run -C "$S" update --date yesterday refs/heads/x "$A"
expect_fail "update with a bad date" 1 "bad date"

# --- update --stdin: all or nothing -------------------------------------
cat >"$TMP/txn.txt" <<EOT
start
create refs/heads/topic $A
update refs/tags/v1 $C
verify refs/heads/main $B
symref-update refs/remotes/origin/HEAD refs/heads/topic
commit
EOT
run_in "$TMP/txn.txt" -C "$S" update --stdin --no-compact -m batch
expect_rc "update --stdin applies a transaction" 0
run -C "$S" list
cat >"$TMP/want.txt" <<EOT
$B HEAD -> refs/heads/main
$B refs/heads/main
$A refs/heads/topic
$A refs/remotes/origin/HEAD -> refs/heads/topic
$C refs/tags/v1
EOT
expect_output "list after the transaction" "$TMP/want.txt"
run dump --records "$(newest "$S")"
if grep -q '^log refs/heads/topic 4 update' "$OUT" &&
	! grep -q '^log refs/tags/v1' "$OUT"; then
	ok "reflogs for branches, none for tags by default"
else
	not_ok "reflogs for branches, none for tags by default" "$(cat "$OUT")"
fi

tables_before=$(cat "$S/tables.list")
printf 'create refs/heads/new %s\nverify refs/heads/topic %s\n' "$A" "$B" \
	>"$TMP/txn.txt"
run_in "$TMP/txn.txt" -C "$S" update --stdin
expect_fail "a failed verify fails the whole transaction" 3 \
	"<stdin>:2: verify refs/heads/topic"
if [ "$(cat "$S/tables.list")" = "$tables_before" ]; then
	ok "nothing was published"
else
	not_ok "nothing was published"
fi
printf 'create refs/heads/x %s\nfrobnicate refs/heads/y\n' "$A" >"$TMP/txn.txt"
run_in "$TMP/txn.txt" -C "$S" update --stdin
expect_fail "unknown stdin command names its line" 1 "<stdin>:2: unknown command"
printf 'create refs/heads/main %s\n' "$A" >"$TMP/txn.txt"
run_in "$TMP/txn.txt" -C "$S" update --stdin
expect_fail "create of an existing ref" 3 "<stdin>:1: create refs/heads/main: .*expected not to exist"
printf 'update refs/heads/q %s\nupdate refs/heads/q %s\n' "$A" "$B" >"$TMP/txn.txt"
run_in "$TMP/txn.txt" -C "$S" update --stdin
expect_fail "the same ref twice" 1 "more than one update"
printf 'create refs/heads/x %s\nabort\n' "$A" >"$TMP/txn.txt"
run_in "$TMP/txn.txt" -C "$S" update --stdin
if [ "$rc" -eq 0 ] && [ "$(cat "$S/tables.list")" = "$tables_before" ]; then
	ok "abort changes nothing"
else
	not_ok "abort changes nothing"
fi

# --- delete removes the ref and its reflog ------------------------------
run -C "$S" update --no-compact -d refs/heads/topic "$A"
expect_rc "update -d with the right old id" 0
run -C "$S" log refs/heads/topic
expect_fail "a deleted ref has no reflog" 1 "no such ref"
run dump --records "$(newest "$S")"
if grep -q '^ref refs/heads/topic 5 delete$' "$OUT" &&
	grep -q '^log refs/heads/topic 4 delete$' "$OUT"; then
	ok "delete writes a tombstone for the ref and each log entry"
else
	not_ok "delete writes a tombstone for the ref and each log entry"
fi

# --- log ------------------------------------------------------------------
run -C "$S" log --oneline main
printf '%s refs/heads/main@{0}: second\n%s refs/heads/main@{1}: first\n' \
	"$B" "$A" >"$TMP/want.txt"
expect_output "log --oneline, newest first" "$TMP/want.txt"
run -C "$S" log -n 1 --format='%(selector) %(date) %(name) <%(email)>' main
echo 'refs/heads/main@{0} Tue Nov 14 16:43:20 2023 -0530 Test User <test@example.com>' \
	>"$TMP/want.txt"
expect_output "log dates as Git shows them" "$TMP/want.txt"
run -C "$S" log -n 1 --date=iso --format='%(date)' main
echo '2023-11-14 16:43:20 -0530' >"$TMP/want.txt"
expect_output "log --date=iso" "$TMP/want.txt"
run -C "$S" log --format='%(bogus)' main
expect_fail "log with an unknown placeholder" 1 "%\(bogus\)"
run -C "$S" log --date=someday main
expect_fail "log with an unknown date mode" 1 "someday"
run -C "$S" log --json main
if [ "$rc" -eq 0 ] && head -1 "$OUT" | grep -q '^\[' &&
	grep -q '"message": "second\\n"' "$OUT"; then
	ok "log --json"
else
	not_ok "log --json" "$(cat "$OUT")"
fi

# --- list -----------------------------------------------------------------
run -C "$S" list refs/heads
printf '%s refs/heads/main\n' "$B" >"$TMP/want.txt"
expect_output "list with a prefix pattern" "$TMP/want.txt"
run -C "$S" list 'refs/*/v*'
printf '%s refs/tags/v1\n' "$C" >"$TMP/want.txt"
expect_output "list with a glob" "$TMP/want.txt"
run -C "$S" list refs/hea
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "a prefix matches whole components only"
else
	not_ok "a prefix matches whole components only"
fi
run -C "$S" list --format='%(refname) %(type) %(updateindex) %(symref)' HEAD
echo 'HEAD symref 2 refs/heads/main' >"$TMP/want.txt"
expect_output "list --format" "$TMP/want.txt"
run -C "$S" list --json refs/tags
if [ "$rc" -eq 0 ] && grep -q "\"refname\": \"refs/tags/v1\", \"update_index\": 4, \"type\": \"val1\", \"value\": \"$C\"" "$OUT"; then
	ok "list --json"
else
	not_ok "list --json" "$(cat "$OUT")"
fi
run -C "$S" list --format='%(nope)'
expect_fail "list with an unknown placeholder" 1 "unknown field name: nope"
run -C "$S" show refs/heads/nope
expect_fail "show a missing ref" 1 "no such ref"

# --- compact, clean -------------------------------------------------------
"$REFTABLE" -C "$S" list >"$TMP/before.txt"
run -C "$S" compact
expect_rc "compact" 0
if [ "$(grep -c . "$S/tables.list")" -eq 1 ]; then
	ok "compact leaves one table"
else
	not_ok "compact leaves one table"
fi
run -C "$S" list
expect_output "compact keeps the refs" "$TMP/before.txt"
run -C "$S" compact --expire-logs=1700000001
run -C "$S" log main
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "compact --expire-logs drops old entries"
else
	not_ok "compact --expire-logs drops old entries" "$(cat "$OUT")"
fi
run -C "$S" compact --expire-logs=soon
expect_fail "compact with a bad --expire-logs" 1 "expire-logs"

echo junk >"$S/0x000000000001-0x000000000001-deadbeef.ref"
run -C "$S" verify
expect_report "verify notes an unlisted leftover table" 0 "^note: .*unlisted table 0x000000000001-0x000000000001-deadbeef.ref .*left over"
run -C "$S" clean -n
if [ "$rc" -eq 0 ] && grep -q 'would remove 0x000000000001-0x000000000001-deadbeef.ref' "$OUT" &&
	[ -f "$S/0x000000000001-0x000000000001-deadbeef.ref" ]; then
	ok "clean --dry-run names what it would remove"
else
	not_ok "clean --dry-run names what it would remove"
fi
run -C "$S" clean
if [ "$rc" -eq 0 ] && [ ! -f "$S/0x000000000001-0x000000000001-deadbeef.ref" ]; then
	ok "clean removes an unlisted table"
else
	not_ok "clean removes an unlisted table"
fi
run -C "$S" verify
expect_rc "verify passes after clean" 0
# A table reaching beyond the newest listed update index may be an
# addition in flight: kept, and the dry run (the library's own judgement)
# says so, as clean then does.
far=0x000000000001-0x0000000000ff-cafecafe.ref
echo junk >"$S/$far"
run -C "$S" clean -n
if [ "$rc" -eq 0 ] && grep -q "^kept $far: .*newer than the newest" "$OUT" &&
	! grep -q "would remove $far" "$OUT"; then
	ok "clean --dry-run keeps a table newer than the stack"
else
	not_ok "clean --dry-run keeps a table newer than the stack" "$(cat "$OUT")"
fi
run -C "$S" clean
if [ "$rc" -eq 0 ] && [ -f "$S/$far" ] && grep -q "^kept $far" "$OUT"; then
	ok "clean keeps it too"
else
	not_ok "clean keeps it too" "$(cat "$OUT")"
fi
rm -f "$S/$far"

# --- locks ------------------------------------------------------------------
: >"$S/tables.list.lock"
run -C "$S" update refs/heads/locked "$A"
expect_fail "update while the lock is held" 3 "tables.list.lock"
run -C "$S" compact
expect_fail "compact while the lock is held" 3 "lock"
run -C "$S" clean
expect_fail "clean while the lock is held" 3 "lock"
run -C "$S" verify
if [ "$rc" -eq 0 ] && grep -q '^note: .*tables.list.lock' "$OUT"; then
	ok "verify notes a lock without failing"
else
	not_ok "verify notes a lock without failing"
fi
# An empty lock is what Git holds until it commits: never proven stale.
run -C "$S" unlock
expect_rc "unlock keeps an empty lock" 3
grep -q 'kept tables.list.lock: empty' "$OUT" && ok "unlock says why it kept it" ||
	not_ok "unlock says why it kept it" "$(cat "$OUT")"
run -C "$S" unlock --force
if [ "$rc" -eq 0 ] && grep -q 'removed tables.list.lock' "$OUT" &&
	[ ! -f "$S/tables.list.lock" ]; then
	ok "unlock --force removes it"
else
	not_ok "unlock --force removes it" "$(cat "$OUT")"
fi
# The lock of a writer that died: its evidence names a process that is
# gone. On Windows (REFTABLE_WINDOWS, t/win/run.sh) the evidence is
# Windows' (Documentation/windows.md, "Owner evidence"): pid 3 never
# exists there (Windows pids are multiples of 4).
if [ -n "$REFTABLE_WINDOWS" ]; then
	dead=3
	printf 'reftable-lock v1 pid=%s start=1 boot=windows ns=windows host=%s\n' \
		"$dead" "$(hostname)" >"$S/tables.list.lock"
else
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	printf 'reftable-lock v1 pid=%s start=1 boot=%s ns=%s host=%s\n' "$dead" \
		"$(cat /proc/sys/kernel/random/boot_id)" "$(readlink /proc/self/ns/pid)" \
		"$(hostname)" >"$S/tables.list.lock"
fi
run -C "$S" unlock --dry-run
if [ "$rc" -eq 0 ] && grep -q "would remove tables.list.lock: process $dead is gone" "$OUT" &&
	[ -f "$S/tables.list.lock" ]; then
	ok "unlock --dry-run"
else
	not_ok "unlock --dry-run" "$(cat "$OUT")"
fi
run -C "$S" unlock
if [ "$rc" -eq 0 ] && [ ! -f "$S/tables.list.lock" ]; then
	ok "unlock removes a dead writer's lock"
else
	not_ok "unlock removes a dead writer's lock" "$(cat "$OUT")"
fi
run -C "$S" update --no-compact refs/heads/unlocked "$A"
expect_rc "updates work again after unlock" 0
run -C "$S" unlock
if [ "$rc" -eq 0 ] && grep -q '^no locks' "$OUT"; then
	ok "unlock with no locks"
else
	not_ok "unlock with no locks"
fi

# --- verify on corrupted copies ------------------------------------------------
corrupt_copy() { # NAME: a fresh copy of the basic fixture in $TMP/NAME
	rm -rf "${TMP:?}/$1"
	cp -r "$FIXTURES/basic/reftable" "$TMP/$1"
}
T=0x000000000002-0x000000000002-816ccc12.ref
size=$(wc -c <"$FIXTURES/basic/reftable/$T")

corrupt_copy trunc
head -c $((size - 10)) "$FIXTURES/basic/reftable/$T" >"$TMP/trunc/$T"
run verify "$TMP/trunc"
expect_report "verify: truncated table" 2 "$T: offset [0-9]+: footer does not repeat"

corrupt_copy flip
printf 'X' | dd of="$TMP/flip/$T" bs=1 seek=24 count=1 conv=notrunc 2>/dev/null
run verify "$TMP/flip"
expect_report "verify: flipped block type byte" 2 "$T: offset 24: unknown block type 0x58"

corrupt_copy crc
printf '\377' | dd of="$TMP/crc/$T" bs=1 seek=$((size - 1)) count=1 conv=notrunc 2>/dev/null
run verify "$TMP/crc"
expect_report "verify: flipped CRC byte" 2 "$T: offset $((size - 4)): footer CRC-32"

corrupt_copy missing
rm "$TMP/missing/$T"
run verify "$TMP/missing"
expect_report "verify: missing listed table" 2 "listed table $T is missing"

corrupt_copy overlap
# list table 2 after table 3: their update indexes go backwards
printf '%s\n%s\n%s\n' 0x000000000001-0x000000000001-85bbfb54.ref \
	0x000000000003-0x000000000003-2d755151.ref "$T" >"$TMP/overlap/tables.list"
rm -f "$TMP"/overlap/0x00000000000[4-9]* "$TMP"/overlap/0x00000000001* \
	"$TMP"/overlap/0x00000000000[a-f]*
run verify "$TMP/overlap"
expect_report "verify: update indexes out of order" 2 \
	"table $T \(update index 2-2\) overlaps or precedes 0x000000000003"

# CRLF line endings in tables.list: refused, not read as other names
corrupt_copy crlf
sed 's/$/\r/' "$FIXTURES/basic/reftable/tables.list" >"$TMP/crlf/tables.list"
run verify "$TMP/crlf"
expect_fail "verify: CRLF tables.list" 2 "tables.list: line 1 .*carriage return"
run -C "$TMP/crlf" list
expect_fail "list: CRLF tables.list" 2 "tables.list: line 1 .*carriage return"

# A lock's owner line renamed over tables.list: the tool's own reading
# (verify, dump) refuses it as the stack does (found by fuzz-list)
corrupt_copy ownerline
printf 'reftable-lock v1 pid=1 start=1 boot=x ns=- host=h\n' \
	>"$TMP/ownerline/tables.list"
run verify "$TMP/ownerline"
expect_fail "verify: a lock's owner line as tables.list" 2 \
	"tables.list: line 1 is the owner line of a lock"
run dump --records "$TMP/ownerline"
expect_fail "dump: a lock's owner line as tables.list" 2 \
	"tables.list: line 1 is the owner line of a lock"

# the obj index of a big table: change a ref's object id prefix
rm -rf "$TMP/obj"
cp -r "$FIXTURES/many-refs/reftable" "$TMP/obj"
MT=$(ls "$TMP/obj"/*.ref)
printf '\125' | dd of="$MT" bs=1 seek=600000 count=1 conv=notrunc 2>/dev/null
run verify "$TMP/obj"
expect_report "verify: object index inconsistency" 2 "object index (lacks|lists)"

run verify --json "$TMP/crc"
if [ "$rc" -eq 2 ] && grep -q '"ok": false' "$OUT" &&
	grep -q "\"offset\": $((size - 4))" "$OUT"; then
	ok "verify --json reports problems with offsets"
else
	not_ok "verify --json reports problems with offsets" "$(cat "$OUT")"
fi
run verify "$TMP/nonexistent"
expect_fail "verify a missing path" 2 "nonexistent"

# corrupt data for the read commands
run -C "$TMP/flip" list
expect_fail "list on a corrupt stack" 2 "$T"

# --- finding the stack ------------------------------------------------------
mkdir -p "$TMP/repo/.git/refs" "$TMP/repo/sub/dir"
echo 'ref: refs/heads/main' >"$TMP/repo/.git/HEAD"
printf '[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = sha256\n\trefStorage = reftable\n' \
	>"$TMP/repo/.git/config"
cp -r "$FIXTURES/sha256/reftable" "$TMP/repo/.git/reftable"
grep '^ref ' "$FIXTURES/sha256/expected-stack.txt" >"$TMP/want.txt"
(cd "$TMP/repo/sub/dir" && "$REFTABLE" list --format='%(record)') \
	>"$TMP/got.txt" 2>"$ERR"
expect_same "found from a subdirectory of a work tree" "$TMP/got.txt" "$TMP/want.txt"
run -C "$TMP/repo" list --format='%(record)'
expect_output "-C WORKTREE" "$TMP/want.txt"
run -C "$TMP/repo/.git" list --format='%(record)'
expect_output "-C GITDIR" "$TMP/want.txt"
run -C "$TMP/repo/.git/reftable" list --format='%(record)'
expect_output "-C REFTABLE-DIR" "$TMP/want.txt"
# the config's sha256 decides the id length of an update
run -C "$TMP/repo" update --no-compact refs/heads/new "$(printf '%064d' 5)"
expect_rc "update in a sha256 repository takes 64-digit ids" 0
run -C "$TMP/repo" update refs/heads/new2 "$A"
expect_fail "a sha1 id in a sha256 repository" 1 "64 hex digits"
mkdir -p "$TMP/filesrepo/.git/refs"
echo 'ref: refs/heads/main' >"$TMP/filesrepo/.git/HEAD"
: >"$TMP/filesrepo/.git/config"
run -C "$TMP/filesrepo" list
expect_fail "a Git repository without reftable" 1 "does not use reftable"
run -C "$TMP/nowhere" list
expect_fail "-C a missing directory" 2 "nowhere"
run -C "$TMP" list
expect_fail "-C a directory that is no stack" 1 "not a reftable stack"

# --- help for every command ---------------------------------------------------
for c in list show log update compact clean unlock relist init verify dump write; do
	run "$c" --help
	if [ "$rc" -eq 0 ] && grep -q "^usage: reftable $c" "$OUT"; then
		ok "$c --help"
	else
		not_ok "$c --help"
	fi
	run "$c" --no-such-option
	expect_fail "$c with a bad option" 1 "unknown option"
done
run help update
if [ "$rc" -eq 0 ] && grep -q "^usage: reftable update" "$OUT"; then
	ok "help COMMAND"
else
	not_ok "help COMMAND"
fi

# --- no progress output when stderr is not a terminal ----------------------------
run verify "$FIXTURES/many-refs/reftable"
if [ "$rc" -eq 0 ] && [ ! -s "$ERR" ]; then
	ok "no progress line when stderr is not a terminal"
else
	not_ok "no progress line when stderr is not a terminal"
fi
# ... and one when it is (script(1) gives the tool a terminal).
# (Not under Wine, whose console draws the line with its own escapes.)
if [ -n "$REFTABLE_WINDOWS" ]; then
	echo "# skipped on Windows: the progress line on a terminal"
elif command -v script >/dev/null 2>&1; then
	script -qec "'$REFTABLE' verify '$FIXTURES/basic/reftable'" /dev/null \
		>"$TMP/tty.txt" 2>&1
	if grep -q 'verifying table 15/15' "$TMP/tty.txt"; then
		ok "a progress line on a terminal"
	else
		not_ok "a progress line on a terminal" "$(head -c 300 "$TMP/tty.txt")"
	fi
else
	not_ok "script(1) (util-linux) is needed to test the progress line"
fi
finish
