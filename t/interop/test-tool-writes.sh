#!/bin/sh
# Issue 17, 1: after each kind of change the tool and the library make,
# Git reads the repository as the tool does (refs, HEAD, reflogs,
# records) and finds nothing wrong (git refs verify, git fsck).
. "$(dirname "$0")/lib.sh"

R=$TMP/repo
git_repo "$R" || { not_ok "git init"; exit 1; }
ZERO=0000000000000000000000000000000000000000

# Updates: a new branch, compare-and-swap, a tag, a remote-tracking ref.
printf 'create refs/heads/topic %s\nupdate refs/heads/main %s %s\ncreate refs/tags/v1 %s\ncreate refs/remotes/origin/main %s\n' \
	"$C2" "$C3" "$C1" "$C1" "$C2" >"$TMP/in"
run_in "$TMP/in" -C "$R" update --stdin -m "tool update"
expect_rc "update --stdin" 0
agree "updates" "$R" sha1 HEAD refs/heads/main refs/heads/topic

# Symrefs: a new one, HEAD moved, an update through HEAD.
run -C "$R" update --symref refs/heads/alias refs/heads/topic -m "alias"
expect_rc "update --symref" 0
run -C "$R" update --symref HEAD refs/heads/topic -m "checkout topic"
expect_rc "update --symref HEAD" 0
run -C "$R" update HEAD "$C4" "$C2" -m "commit on topic"
expect_rc "update through HEAD" 0
agree "symrefs" "$R" sha1 HEAD refs/heads/topic
[ "$("$GIT" -C "$R" symbolic-ref refs/heads/alias)" = refs/heads/topic ] &&
	ok "git symbolic-ref reads the tool's symref" ||
	not_ok "git symbolic-ref reads the tool's symref"

# Deletions: a branch with its reflog, a tag.
run -C "$R" update -d refs/heads/main "$C3" -m "delete main"
expect_rc "update -d" 0
run -C "$R" update -d refs/tags/v1
expect_rc "update -d tag" 0
agree "deletions" "$R" sha1 HEAD
"$GIT" -C "$R" rev-parse -q --verify refs/heads/main >/dev/null &&
	not_ok "git sees main deleted" || ok "git sees main deleted"
"$GIT" -C "$R" reflog exists refs/heads/main &&
	not_ok "git sees main's reflog deleted" ||
	ok "git sees main's reflog deleted"

# A long reflog written by the library (one table per transaction,
# auto-compacted), then expiry of its older half, then one entry deleted.
"$REFDB_DRIVER" steps "$(stack_of "$R")" refs/heads/long 3000 "$C1" "$C2" \
	>"$OUT" 2>"$ERR"
rc=$?
expect_rc "library: 3000 transactions on one ref" 0
agree "a reflog of 3000 entries" "$R" sha1 refs/heads/long
n=$("$GIT" -C "$R" reflog show refs/heads/long | wc -l)
[ "$n" -eq 3000 ] && ok "git reflog counts 3000 entries" ||
	not_ok "git reflog counts 3000 entries" "got $n"
"$REFDB_DRIVER" expire "$(stack_of "$R")" refs/heads/long 1700001500 \
	>"$OUT" 2>"$ERR"
rc=$?
expect_rc "library: reflog expiry" 0
agree "reflog expired" "$R" sha1 refs/heads/long
n=$("$GIT" -C "$R" reflog show refs/heads/long | wc -l)
[ "$n" -eq 1500 ] && ok "git reflog counts the 1500 entries left" ||
	not_ok "git reflog counts the 1500 entries left" "got $n"
run -C "$R" log -n 1 --format='%(updateindex)' refs/heads/long
ui=$(cat "$OUT")
"$REFDB_DRIVER" delete-entry "$(stack_of "$R")" refs/heads/long "$ui" \
	>"$OUT" 2>"$ERR"
rc=$?
expect_rc "library: one reflog entry deleted" 0
agree "reflog entry deleted" "$R" sha1 refs/heads/long

# The tool's compaction with reflog expiry (all of HEAD's before a time).
run -C "$R" compact --expire-logs=1700000000
expect_rc "compact --expire-logs" 0
agree "compacted" "$R" sha1 HEAD refs/heads/topic refs/heads/long
n=$(wc -l <"$(stack_of "$R")/tables.list")
[ "$n" -eq 1 ] && ok "one table after compact" ||
	not_ok "one table after compact" "$n tables"

# clean: a leftover table a dead writer left beside the list.
st=$(stack_of "$R")
first=$(head -1 "$st/tables.list")
cp "$st/$first" "$st/0x000000000001-0x000000000001-deadbeef.ref"
run -C "$R" clean
expect_rc "clean" 0
[ -e "$st/0x000000000001-0x000000000001-deadbeef.ref" ] &&
	not_ok "clean removed the leftover" || ok "clean removed the leftover"
agree "cleaned" "$R" sha1 HEAD

# unlock: the lock of a writer that died (its evidence names a process
# that is gone) blocks Git too; once unlock removed it Git writes again.
sh -c 'exit 0' &
dead=$!
wait "$dead"
printf 'reftable-lock v1 pid=%s start=1 boot=%s ns=%s host=%s\n' "$dead" \
	"$(cat /proc/sys/kernel/random/boot_id)" "$(readlink /proc/self/ns/pid)" \
	"$(hostname)" >"$st/tables.list.lock"
"$GIT" -C "$R" update-ref refs/heads/blocked "$C1" 2>/dev/null &&
	not_ok "git is blocked by the lock" || ok "git is blocked by the lock"
run -C "$R" unlock
expect_rc "unlock" 0
"$GIT" -C "$R" update-ref -m "after unlock" refs/heads/blocked "$C1" &&
	ok "git writes after unlock" || not_ok "git writes after unlock"
agree "unlocked" "$R" sha1 refs/heads/blocked

# Thousands of refs in one transaction (multi-block tables, an index).
awk -v a="$C1" -v b="$C2" -v c="$C3" -v d="$C4" 'BEGIN {
	split(a " " b " " c " " d, id, " ")
	for (i = 0; i < 5000; i++)
		printf "create refs/heads/many/b%d %s\n", i, id[i % 4 + 1]
}' >"$TMP/many"
run_in "$TMP/many" -C "$R" update --stdin -m many
expect_rc "5000 refs in one update" 0
agree "5000 refs" "$R" sha1
n=$("$GIT" -C "$R" for-each-ref refs/heads/many | wc -l)
[ "$n" -eq 5000 ] && ok "git lists 5000 refs" || not_ok "git lists 5000 refs" "$n"
run -C "$R" compact
expect_rc "compact 5000 refs" 0
agree "5000 refs compacted" "$R" sha1 HEAD

# A SHA-256 repository.
S=$TMP/sha256
git_repo "$S" --object-format=sha256 || not_ok "git init sha256"
printf 'create refs/heads/topic %s\nupdate refs/heads/main %s %s\n' \
	"$C2" "$C3" "$C1" >"$TMP/in"
run_in "$TMP/in" -C "$S" update --stdin -m "sha256 update"
expect_rc "update --stdin (sha256)" 0
run -C "$S" update --symref refs/heads/alias refs/heads/topic
expect_rc "update --symref (sha256)" 0
run -C "$S" compact
expect_rc "compact (sha256)" 0
agree "sha256" "$S" sha256 HEAD refs/heads/main refs/heads/topic

finish
