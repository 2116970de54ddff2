#!/bin/sh
# Issue 17, 1, the other way round: after Git's changes (update-ref,
# symbolic-ref, pack-refs, refs migrate, reflog expire and delete, branch
# renames and deletions) the tool reads what Git reads, `reftable verify`
# finds nothing, and the tool's own writes on top leave Git content.
. "$(dirname "$0")/lib.sh"

R=$TMP/repo
git_repo "$R" || { not_ok "git init"; exit 1; }
G() { "$GIT" -C "$R" "$@"; }

# update-ref: one transaction with compare-and-swap, then single updates
# with their own dates (so that expiry below has something to choose).
printf 'start\ncreate refs/heads/topic %s\nupdate refs/heads/main %s %s\ncreate refs/tags/light %s\ncommit\n' \
	"$C2" "$C2" "$C1" "$C1" | G update-ref -m "git txn" --stdin >/dev/null
i=1
while [ $i -le 10 ]; do
	new=$C3
	[ $((i % 2)) -eq 0 ] && new=$C4
	GIT_COMMITTER_DATE="$((1700000000 + i * 100)) +0000" \
		G update-ref -m "step $i" refs/heads/topic "$new"
	i=$((i + 1))
done
G tag -a -m "annotated" v1 "$C2"
G symbolic-ref -m "alias" refs/heads/alias refs/heads/topic
agree "git update-ref" "$R" sha1 HEAD refs/heads/main refs/heads/topic
run -C "$R" show refs/tags/v1 -v
grep -q "^peeled $C2" "$OUT" && ok "the tool reads Git's peeled tag" ||
	not_ok "the tool reads Git's peeled tag" "$(cat "$OUT")"

# pack-refs: Git's compaction of the stack.
G pack-refs
agree "git pack-refs" "$R" sha1 HEAD refs/heads/topic
n=$(wc -l <"$(stack_of "$R")/tables.list")
[ "$n" -eq 1 ] && ok "one table after git pack-refs" ||
	not_ok "one table after git pack-refs" "$n tables"

# reflog expire and delete.
G reflog expire --expire=@1700000550 --expire-unreachable=@1700000550 \
	refs/heads/topic
n=$(G reflog show refs/heads/topic | wc -l)
if [ "$n" -gt 0 ] && [ "$n" -lt 11 ]; then
	ok "git reflog expire removed some entries ($n left)"
else
	not_ok "git reflog expire removed some entries" "$n left"
fi
agree "git reflog expire" "$R" sha1 refs/heads/topic
G reflog delete refs/heads/topic@{1}
agree "git reflog delete" "$R" sha1 refs/heads/topic

# Branch rename, copy and deletion (HEAD follows the renamed branch).
G branch -m main trunk
[ "$("$REFTABLE" -C "$R" list --format='%(symref)' HEAD 2>/dev/null)" = \
	refs/heads/trunk ] && ok "the tool sees HEAD follow git branch -m" ||
	not_ok "the tool sees HEAD follow git branch -m"
agree "git branch -m" "$R" sha1 HEAD refs/heads/trunk
G branch -c trunk copy
G symbolic-ref -d refs/heads/alias
G branch -D topic >/dev/null
agree "git branch -c, -D" "$R" sha1 HEAD refs/heads/copy
run -C "$R" show refs/heads/topic
expect_rc "the tool sees the deleted branch gone" 1

# Many refs from Git, then the tool writes on top and Git reads it.
awk -v a="$C1" -v b="$C2" 'BEGIN {
	for (i = 0; i < 4000; i++)
		printf "create refs/tags/t%d %s\n", i, i % 2 ? a : b
}' | G update-ref --stdin
agree "4000 refs from git" "$R" sha1
run -C "$R" update -m "tool on top" refs/heads/trunk "$C3" "$C2"
expect_rc "the tool updates Git's repository" 0
agree "the tool after git" "$R" sha1 HEAD refs/heads/trunk

# refs migrate: a files-backend repository, branches, an annotated tag, a
# symref and reflogs, migrated by Git to reftable.
M=$TMP/migrate
"$GIT" init -q --template= --ref-format=files "$M"
T=$("$GIT" -C "$M" mktree </dev/null)
M1=$("$GIT" -C "$M" commit-tree -m m1 "$T")
M2=$("$GIT" -C "$M" commit-tree -m m2 -p "$M1" "$T")
"$GIT" -C "$M" update-ref -m "first" refs/heads/main "$M1"
"$GIT" -C "$M" update-ref -m "second" refs/heads/main "$M2" "$M1"
"$GIT" -C "$M" update-ref -m "side" refs/heads/side/x "$M1"
"$GIT" -C "$M" symbolic-ref HEAD refs/heads/main
"$GIT" -C "$M" tag -a -m tag v2 "$M2"
"$GIT" -C "$M" pack-refs --all
if "$GIT" -C "$M" refs migrate --ref-format=reftable >"$OUT" 2>"$ERR"; then
	ok "git refs migrate"
else
	not_ok "git refs migrate"
fi
agree "git refs migrate" "$M" sha1 HEAD refs/heads/main refs/heads/side/x

# A SHA-256 repository written by Git.
S=$TMP/sha256
git_repo "$S" --object-format=sha256 || not_ok "git init sha256"
"$GIT" -C "$S" update-ref -m "sha256 topic" refs/heads/topic "$C2"
"$GIT" -C "$S" pack-refs
agree "git sha256" "$S" sha256 HEAD refs/heads/topic

finish
