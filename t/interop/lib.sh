# Helpers for the interop tests (issue 17): Git and the tool read one
# repository and must see the same. Source it from a t/interop/test-*.sh
# script; t/cli/lib.sh gives ok/not_ok/run and $TMP.
#
# Git is $GIT_TOOLS/git (the shared tools: Git 2.55), else a `git` on
# PATH that writes reftable; without one the script says it skipped.
# git-reftable-records ($GIT_TOOLS) is optional: the records comparison
# is skipped without it.

. "$(dirname "$0")/../cli/lib.sh"

GIT=$(sh "$TESTDIR/find-git.sh" "$GIT_TOOLS")
if [ -z "$GIT" ]; then
	echo "# skipped: no Git that writes reftable (set GIT_TOOLS)"
	exit 0
fi
RECORDS=
if [ -n "$GIT_TOOLS" ] && [ -x "$GIT_TOOLS/git-reftable-records" ]; then
	RECORDS=$GIT_TOOLS/git-reftable-records
	# The static Git's built-in exec path exists only where it was
	# built; fsck runs `git refs verify` through it.
	export GIT_EXEC_PATH="$GIT_TOOLS"
fi
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null TZ=UTC LC_ALL=C
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL=c@example.com
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=a@example.com
export GIT_COMMITTER_DATE="1700000000 +0000" GIT_AUTHOR_DATE="1700000000 +0000"
unset GIT_DIR GIT_WORK_TREE

# git_repo DIR [git init options]: a reftable repository with commits
# C1..C4 in a chain (their ids in $C1..$C4) and refs/heads/main at C1.
git_repo() {
	_dir=$1
	shift
	"$GIT" init -q --template= --ref-format=reftable "$@" "$_dir" || return 1
	_tree=$("$GIT" -C "$_dir" mktree </dev/null)
	C1=$("$GIT" -C "$_dir" commit-tree -m c1 "$_tree")
	C2=$("$GIT" -C "$_dir" commit-tree -m c2 -p "$C1" "$_tree")
	C3=$("$GIT" -C "$_dir" commit-tree -m c3 -p "$C2" "$_tree")
	C4=$("$GIT" -C "$_dir" commit-tree -m c4 -p "$C3" "$_tree")
	"$GIT" -C "$_dir" update-ref -m init refs/heads/main "$C1"
	"$GIT" -C "$_dir" symbolic-ref HEAD refs/heads/main
}

# stack_of REPO: the repository's reftable directory.
stack_of() {
	if [ -d "$1/.git/reftable" ]; then echo "$1/.git/reftable"
	else echo "$1/reftable"; fi
}

# same NAME A B: files A and B are equal (with the first differences).
same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1" "$(diff "$2" "$3" | head -8)"
	fi
}

# agree NAME REPO [HASH [REF...]]: Git and the tool read the same
# repository alike: the refs, HEAD, the reflogs of REF..., the records
# (Git's library against `dump --records`); `git refs verify`, `git
# fsck` and `reftable verify` find nothing. HASH: sha1 (default) or
# sha256.
agree() {
	_name=$1 _repo=$2 _hash=${3:-sha1}
	if [ $# -ge 3 ]; then shift 3; else shift $#; fi
	_st=$(stack_of "$_repo")
	"$GIT" -C "$_repo" for-each-ref --format='%(objectname) %(refname)' \
		>"$TMP/git.refs" 2>&1
	"$REFTABLE" -C "$_repo" list --format='%(objectname) %(refname)' refs \
		>"$TMP/tool.refs" 2>&1
	same "$_name: git for-each-ref = reftable list" "$TMP/git.refs" \
		"$TMP/tool.refs"
	"$GIT" -C "$_repo" rev-parse -q --verify HEAD >"$TMP/git.head" 2>/dev/null
	"$REFTABLE" -C "$_repo" show HEAD >"$TMP/tool.head" 2>/dev/null
	same "$_name: git rev-parse HEAD = reftable show HEAD" "$TMP/git.head" \
		"$TMP/tool.head"
	# `git reflog` walks commits: an entry whose new id is null (the
	# first half of a branch rename) keeps its number but is not shown.
	for _ref in "$@"; do
		"$GIT" -C "$_repo" reflog show --format='%gD %H %gs' "$_ref" -- \
			>"$TMP/git.log" 2>&1
		"$REFTABLE" -C "$_repo" log \
			--format='%(selector) %(new) %(message)' "$_ref" 2>&1 |
			grep -v "^[^ ]* 0\{40,64\} " >"$TMP/tool.log"
		same "$_name: git reflog $_ref = reftable log" "$TMP/git.log" \
			"$TMP/tool.log"
	done
	agree_checks "$_name" "$_repo" "$_st" "$_hash"
}

agree_checks() {
	"$GIT" -C "$2" refs verify >"$TMP/verify" 2>&1
	_rc=$?
	if [ $_rc -eq 0 ] && [ ! -s "$TMP/verify" ]; then
		ok "$1: git refs verify"
	else
		not_ok "$1: git refs verify" "exit $_rc" "$(head -5 "$TMP/verify")"
	fi
	"$GIT" -C "$2" fsck --no-progress >"$TMP/fsck" 2>&1
	_rc=$?
	if [ $_rc -eq 0 ]; then
		ok "$1: git fsck"
	else
		not_ok "$1: git fsck" "exit $_rc" "$(head -5 "$TMP/fsck")"
	fi
	run -C "$2" verify -q
	expect_rc "$1: reftable verify" 0
	[ -n "$RECORDS" ] || return 0
	_h=
	[ "$4" = sha256 ] && _h=sha256
	"$RECORDS" stack "$3" $_h >"$TMP/git.records" 2>&1
	"$REFTABLE" dump --records "$3" >"$TMP/tool.records" 2>&1
	same "$1: git-reftable-records = reftable dump --records" \
		"$TMP/git.records" "$TMP/tool.records"
}
