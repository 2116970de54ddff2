#!/bin/sh
# `update --stdin` against Git 2.55's `update-ref --stdin` (issue 19,
# differences 1 to 8): each case of update-git.cases states what Git does
# (exit status, standard output, and the records the run adds and
# removes, from `dump --records` before and after).
#
# With Git (REFTABLE_TEST_GIT, else ../shared/tools/git beside the
# checkout, else a `git` on PATH that knows --ref-format=reftable): the
# base repository and each case's setup are made by Git, copied, and the
# case runs through Git and through the tool; both must agree with each
# other and with the statement. Without Git: the tool builds the same
# base (the same commit ids, dates and messages, so the same records) and
# must agree with the statement alone.
#
# Case format, one block per case ("### NAME" starts it):
#   config KEY VALUE   set section.key in .git/config (VALUE --unset:
#                      remove it; `git init` writes bare = false and
#                      logallrefupdates = true in [core])
#   args ARGS          options of update (default --stdin)
#   setup FMT          printf format run as --stdin input before the case
#   input FMT          the case's input ($A, $B, $Z are ids; \0 is NUL)
#   rc ok|fail         Git's exit status class
#   out LINE           a line Git prints on standard output, in order
#   rec LINE           a line of the records diff (< removed, > added);
#                      ids as A, B, Z; "T <t@e> 1700000000 0 " left out
. "$(dirname "$0")/lib.sh"

CASES=$TESTDIR/update-git.cases
A=dfe7b1d9e1e855a11d313b7051b6f012416e35e1
B=0eea8e831bf436ec8476bb80b8bf4df9f0abbde8
Z=0000000000000000000000000000000000000000
GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@e
GIT_COMMITTER_DATE="1700000000 +0000"
GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@e GIT_AUTHOR_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE
# No global or system config may change what Git does.
HOME=$TMP GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export HOME GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL

GIT=$(find_git "$REFTABLE_TEST_GIT")
if [ -n "$GIT" ]; then
	# Git runs helpers from its own directory first.
	PATH=$(dirname "$GIT"):$PATH
	export PATH
fi

# base DIR: HEAD -> master, commits a (A) then b (B), as `git commit`
# leaves them.
base_git() {
	"$GIT" init -q --template= --ref-format=reftable "$1" &&
		"$GIT" -C "$1" -c maintenance.auto=false commit -q \
			--allow-empty -m a &&
		"$GIT" -C "$1" -c maintenance.auto=false commit -q \
			--allow-empty -m b
}
base_tool() {
	mkdir -p "$1/.git" &&
		printf 'ref: refs/heads/.invalid\n' >"$1/.git/HEAD" &&
		printf '[extensions]\n\trefstorage = reftable\n[core]\n\trepositoryformatversion = 1\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n' \
			>"$1/.git/config" &&
		"$REFTABLE" init "$1/.git/reftable" >/dev/null &&
		"$REFTABLE" -C "$1" update --symref HEAD refs/heads/master &&
		"$REFTABLE" -C "$1" update -m "commit (initial): a" HEAD "$A" &&
		"$REFTABLE" -C "$1" update -m "commit: b" HEAD "$B" "$A"
}

# records DIR: the merged records, ids named, the pinned committer cut.
records() {
	"$REFTABLE" dump --records "$1/.git/reftable" |
		sed "s/$A/A/g; s/$B/B/g; s/$Z/Z/g; s/T <t@e> 1700000000 0 //"
}

# run_case WHO DIR: run the case's input through Git or the tool in DIR,
# leaving rc, stdout in DIR.out and the records diff in DIR.rec.
run_case() {
	records "$2" >"$2.before"
	# shellcheck disable=SC2086 # args are words
	if [ "$1" = git ]; then
		(cd "$2" && "$GIT" update-ref $c_args <"$TMP/input" \
			>"$2.out" 2>"$2.err")
	else
		(cd "$2" && "$REFTABLE" update $c_args <"$TMP/input" \
			>"$2.out" 2>"$2.err")
	fi
	rc=$?
	records "$2" >"$2.after"
	diff "$2.before" "$2.after" | grep '^[<>]' >"$2.rec"
	if [ "$rc" -eq 0 ]; then
		rc=ok
	else
		rc=fail
	fi
}

# expand FMT: the bytes a case's printf format stands for, with $A, $B
# and $Z replaced (a NUL written \0 stays one before an id's digits).
expand() {
	# shellcheck disable=SC2059 # the case's text is the format
	printf "$(printf '%s' "$1" | sed 's/\\0/\\0000/g' |
		sed "s/\$A/$A/g; s/\$B/$B/g; s/\$Z/$Z/g")"
}

# prepare DIR: the base and the case's config and setup.
prepare() {
	cp -a "$TMP/base" "$1" || return 1
	if [ -s "$TMP/config" ]; then
		while read -r key value; do
			if [ -n "$GIT" ]; then
				if [ "$value" = "--unset" ]; then
					"$GIT" -C "$1" config --unset "$key"
				else
					"$GIT" -C "$1" config "$key" "$value"
				fi
			elif [ "$value" = "--unset" ]; then
				grep -iv "^	${key#*.} =" "$1/.git/config" \
					>"$TMP/config.new" &&
					mv "$TMP/config.new" "$1/.git/config"
			else
				printf '[%s]\n\t%s = %s\n' "${key%%.*}" \
					"${key#*.}" "$value" >>"$1/.git/config"
			fi
		done <"$TMP/config"
	fi
	if [ -n "$c_setup" ]; then
		expand "$c_setup" >"$TMP/setup"
		if [ -n "$GIT" ]; then
			(cd "$1" && "$GIT" update-ref --stdin <"$TMP/setup")
		else
			(cd "$1" && "$REFTABLE" update --stdin <"$TMP/setup" \
				>/dev/null)
		fi || return 1
	fi
}

# check_case: the case just read, run and judged.
check_case() {
	[ -n "$c_name" ] || return 0
	rm -rf "$TMP/g" "$TMP/t"
	expand "$c_input" >"$TMP/input"
	if ! prepare "$TMP/g"; then
		not_ok "$c_name: setup"
		return
	fi
	if [ -n "$GIT" ]; then
		cp -a "$TMP/g" "$TMP/t"
		run_case git "$TMP/g"
		g_rc=$rc
		if [ -n "$REFTABLE_TEST_PRINT" ]; then # to write a case down
			echo "### $c_name" >&2
			echo "rc $g_rc" >&2
			sed 's/^/out /' "$TMP/g.out" >&2
			sed 's/^/rec /' "$TMP/g.rec" >&2
		fi
		run_case tool "$TMP/t"
		if [ "$g_rc" != "$c_rc" ] ||
			! cmp -s "$TMP/g.out" "$TMP/want.out" ||
			! cmp -s "$TMP/g.rec" "$TMP/want.rec"; then
			not_ok "$c_name: Git 2.55 does what the case states" \
				"git: $g_rc" "$(cat "$TMP/g.err")" \
				"$(cat "$TMP/g.out" "$TMP/g.rec")"
		fi
	else
		mv "$TMP/g" "$TMP/t"
		run_case tool "$TMP/t"
	fi
	if grep -q Sanitizer "$TMP/t.err"; then
		ERR=$TMP/t.err not_ok "$c_name: sanitizer report"
	elif [ "$rc" = "$c_rc" ] && cmp -s "$TMP/t.out" "$TMP/want.out" &&
		cmp -s "$TMP/t.rec" "$TMP/want.rec"; then
		ok "$c_name"
	else
		ERR=$TMP/t.err not_ok "$c_name" "tool: $rc, Git: $c_rc" \
			"stdout: $(cat "$TMP/t.out")" \
			"records: $(cat "$TMP/t.rec")" \
			"Git's records: $(cat "$TMP/want.rec")"
	fi
}

if [ -n "$GIT" ]; then
	echo "# comparing with $GIT"
	# The base the tool builds without Git is Git's, record for record.
	base_git "$TMP/bg" >/dev/null 2>&1
	base_tool "$TMP/bt" >/dev/null 2>&1
	records "$TMP/bg" >"$TMP/bg.rec"
	records "$TMP/bt" >"$TMP/bt.rec"
	expect_same "the base the tool builds is Git's" "$TMP/bg.rec" \
		"$TMP/bt.rec"
	expect_same "its config is Git's" "$TMP/bg/.git/config" \
		"$TMP/bt/.git/config"
else
	echo "# no Git with reftable: checking the stated Git behaviour only"
fi
# The base, made once; each case works on a copy.
if [ -n "$GIT" ]; then
	base_git "$TMP/base" >/dev/null 2>&1
else
	base_tool "$TMP/base" >/dev/null 2>&1
fi || not_ok "making the base repository"
c_name=
while IFS= read -r line; do
	key=${line%% *}
	rest=${line#* }
	case $key in
	'###')
		check_case
		c_name=$rest c_args=--stdin c_setup= c_input= c_rc=ok
		: >"$TMP/config"
		: >"$TMP/want.out"
		: >"$TMP/want.rec"
		;;
	config) printf '%s\n' "$rest" >>"$TMP/config" ;;
	args) c_args=$rest ;;
	setup) c_setup=$rest ;;
	input) c_input=$rest ;;
	rc) c_rc=$rest ;;
	out) printf '%s\n' "$rest" >>"$TMP/want.out" ;;
	rec) printf '%s\n' "$rest" >>"$TMP/want.rec" ;;
	esac
done <"$CASES"
check_case
[ "$test_failed" -eq 0 ]
