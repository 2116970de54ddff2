#!/bin/sh
# list --format and patterns as git for-each-ref, and log's choice of
# reflog as git reflog show. Each expected output is what Git 2.55 prints
# for the same refs; where Git is present (../shared/tools/git, $GIT, or a
# git on PATH that knows reftable) Git is also run on the same repository
# and must print it too. The repository is built by the tool with ids of
# no object: Git's for-each-ref reads no objects for these placeholders.
. "$(dirname "$0")/lib.sh"

GITBIN=$(find_git "$GIT")
[ -n "$GITBIN" ] || echo "# no reftable-capable Git: checking against Git 2.55's recorded output only"

A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
HOME=$TMP/home
mkdir -p "$HOME"
GIT_CONFIG_NOSYSTEM=1
export HOME GIT_CONFIG_NOSYSTEM
unset GIT_CONFIG_GLOBAL GIT_CONFIG_COUNT GIT_CONFIG_PARAMETERS GIT_DIR

# build_repo DIR: the refs the list tests read (ids need no objects).
build_repo() {
	d=$1/.git
	mkdir -p "$d/refs" "$d/objects"
	echo "ref: refs/heads/.invalid" >"$d/HEAD"
	printf '[core]\n\trepositoryformatversion = 1\n\tbare = false\n[extensions]\n\trefstorage = reftable\n' >"$d/config"
	"$REFTABLE" init "$d/reftable" >/dev/null
	{
		for r in refs/heads/main refs/heads/feature refs/remotes/feature \
			refs/tags/heads/feature refs/tags/v1 refs/tags/a/b/c \
			refs/remotes/origin/main refs/heads/deep/er/topic; do
			echo "update $r $A"
		done
		echo "update refs/heads/other $B"
		echo "symref-update refs/heads/sym refs/heads/feature"
		echo "symref-update refs/heads/chain refs/heads/sym"
		echo "symref-update refs/remotes/origin/HEAD refs/remotes/origin/main"
		echo "symref-update refs/heads/dang refs/heads/nothere"
	} | "$REFTABLE" -C "$d" update --stdin >/dev/null
	"$REFTABLE" -C "$d" update --no-deref --symref HEAD refs/heads/sym >/dev/null
}

R=$TMP/repo
build_repo "$R"

# check_format NAME FORMAT PATTERN... <<EXPECTED: the tool prints what Git
# 2.55 prints (the dangling symref, which Git skips, left out on both).
check_format() {
	name=$1 fmt=$2
	shift 2
	cat >"$TMP/want.txt"
	"$REFTABLE" -C "$R" list --exclude=refs/heads/dang --format="$fmt" \
		"$@" >"$OUT" 2>"$ERR"
	rc=$?
	expect_output "list --format: $name" "$TMP/want.txt"
	if [ -n "$GITBIN" ]; then
		(cd "$R" && "$GITBIN" for-each-ref --exclude=refs/heads/dang \
			--format="$fmt" "$@") >"$TMP/git.txt" 2>&1
		expect_same "git for-each-ref agrees: $name" "$TMP/want.txt" \
			"$TMP/git.txt"
	fi
}

check_format "refname, short names and HEAD" '%(refname)|%(refname:short)|%(HEAD)' 'refs' <<'EOF'
refs/heads/chain|chain| 
refs/heads/deep/er/topic|deep/er/topic| 
refs/heads/feature|refs/heads/feature|*
refs/heads/main|main| 
refs/heads/other|other| 
refs/heads/sym|sym| 
refs/remotes/feature|remotes/feature| 
refs/remotes/origin/HEAD|origin| 
refs/remotes/origin/main|origin/main| 
refs/tags/a/b/c|a/b/c| 
refs/tags/heads/feature|tags/heads/feature| 
refs/tags/v1|v1| 
EOF
check_format "symref resolves chains, with modifiers" '%(symref)|%(symref:short)|%(symref:lstrip=-1)|%(symref:rstrip=1)' 'refs/heads' 'refs/remotes' <<'EOF'
refs/heads/feature|refs/heads/feature|feature|refs/heads
|||
|||
|||
|||
refs/heads/feature|refs/heads/feature|feature|refs/heads
|||
refs/remotes/origin/main|origin/main|main|refs/remotes/origin
|||
EOF
check_format "lstrip and rstrip, negative too" '%(refname:lstrip=2)|%(refname:strip=-2)|%(refname:rstrip=1)|%(refname:rstrip=-1)|%(refname:lstrip=9)|%(refname:rstrip=-9)' 'refs/heads/deep' 'refs/tags/a' <<'EOF'
deep/er/topic|er/topic|refs/heads/deep/er|refs||refs/heads/deep/er/topic
a/b/c|b/c|refs/tags/a/b|refs||refs/tags/a/b/c
EOF
check_format "objectname and its abbreviations" '%(objectname)|%(objectname:short)|%(objectname:short=2)|%(objectname:short=12)' 'refs/heads/main' 'refs/heads/other' <<'EOF'
1111111111111111111111111111111111111111|1111111|1111|111111111111
2222222222222222222222222222222222222222|2222222|2222|222222222222
EOF
check_format "if, then, else" '%(if)%(symref)%(then)->%(symref)%(else)plain%(end)' 'refs/heads' <<'EOF'
->refs/heads/feature
plain
plain
plain
plain
->refs/heads/feature
EOF
check_format "if:equals and if:notequals" '%(if:equals=refs/heads/main)%(refname)%(then)yes%(else)no%(end) %(if:notequals=2222222222222222222222222222222222222222)%(objectname)%(then)one%(end)' 'refs/heads' <<'EOF'
no one
no one
no one
yes one
no 
no one
EOF
check_format "a blank condition is false" '%(if)%(HEAD)%(then)head%(else)-%(end)' 'refs/heads' <<'EOF'
-
-
head
-
-
-
EOF
check_format "align, nested with if" '[%(align:10)%(refname:short)%(end)][%(align:right,10)%(refname:short)%(end)][%(align:width=9,position=middle)%(refname:lstrip=-1)%(end)][%(align:4)%(if)%(symref)%(then)sym%(end)%(end)]' 'refs/heads' <<'EOF'
[chain     ][     chain][  chain  ][sym ]
[deep/er/topic][deep/er/topic][  topic  ][    ]
[refs/heads/feature][refs/heads/feature][ feature ][    ]
[main      ][      main][  main   ][    ]
[other     ][     other][  other  ][    ]
[sym       ][       sym][   sym   ][sym ]
EOF
check_format "%% and %xx" '100%% %41%(refname:short)%4g%zz% %(refname:short)%%' 'refs/heads/main' <<'EOF'
100% Amain%4g%zz% main%
EOF
check_format "globs: ** crosses slashes" '%(refname)' 'refs/**/v*' '**/topic' 'refs/tags/**' <<'EOF'
refs/heads/deep/er/topic
refs/tags/a/b/c
refs/tags/heads/feature
refs/tags/v1
EOF
check_format "globs: * and ? do not" '%(refname)' 'refs/*/topic' 'refs/heads/?ain' 'refs/*/*/c' <<'EOF'
refs/heads/main
EOF
check_format "a prefix matches whole components" '%(refname)' 'refs/heads/deep' 'refs/tags/a/' 'refs/hea' <<'EOF'
refs/heads/deep/er/topic
refs/tags/a/b/c
EOF

# check_error FORMAT MESSAGE: refused before anything is read, with Git's
# message (Git dies with it; the tool exits 1).
check_error() {
	run -C "$R" list --format="$1" refs/heads/main
	if [ "$rc" -eq 1 ] && [ ! -s "$OUT" ] &&
		[ "$(sed 's/^reftable list: error: //' "$ERR")" = "$2" ]; then
		ok "list --format='$1' says Git's '$2'"
	else
		not_ok "list --format='$1' says Git's '$2'" "exit $rc"
	fi
	if [ -n "$GITBIN" ]; then
		got=$(cd "$R" && "$GITBIN" for-each-ref --format="$1" \
			refs/heads/main 2>&1 | head -n 1 |
			sed 's/^fatal: //; s/^error: //')
		[ "$got" = "$2" ] || not_ok "Git says '$2' for '$1'" "Git: '$got'"
	fi
}
check_error '%(nope)' 'unknown field name: nope'
check_error '%(refname:foo)' 'unrecognized %(refname) argument: foo'
check_error '%(refname:lstrip=x)' 'Integer value expected refname:lstrip=x'
check_error '%(symref:rstrip=1x)' 'Integer value expected refname:rstrip=1x'
check_error '%(objectname:short=0)' "positive value expected '0' in %(objectname:short=0)"
check_error '%(objectname:long)' 'unrecognized %(objectname) argument: long'
check_error '%(HEAD:x)' '%(HEAD) does not take arguments'
check_error '%(if:foo)' 'unrecognized %(if) argument: foo'
check_error '%(align)' 'expected format: %(align:<width>,<position>)'
check_error '%(align:position=up,3)' 'unrecognized position:up'
check_error '%(align:right)' 'positive width expected with the %(align) atom'
check_error '%(align:3' 'malformed format string %(align:3'
check_error '%(then)' 'format: %(then) atom used without a %(if) atom'
check_error '%(else)' 'format: %(else) atom used without a %(if) atom'
check_error '%(end)' 'format: %(end) atom used without corresponding atom'
check_error '%(if)x' 'format: %(end) atom missing'
check_error '%(if)x%(then)y%(then)%(end)' 'format: %(then) atom used more than once'
check_error '%(if)%(else)%(end)' 'format: %(else) atom used without a %(then) atom'
check_error '%(if)%(end)' 'format: %(if) atom used without a %(then) atom'
check_error '%()' 'malformed field name: '

# core.warnAmbiguousRefs=false shortens against the earlier rules only;
# core.abbrev sets the digits of :short (given here as `git -c` does).
GIT_CONFIG_PARAMETERS="'core.warnAmbiguousRefs'='false' 'core.abbrev'='10'"
export GIT_CONFIG_PARAMETERS
check_format "core.warnAmbiguousRefs and core.abbrev" '%(refname:short) %(objectname:short)' refs/heads/feature refs/remotes/feature refs/tags/heads <<'EOF'
feature 1111111111
remotes/feature 1111111111
tags/heads/feature 1111111111
EOF
unset GIT_CONFIG_PARAMETERS

# Placeholders and options that need objects say so (Git would read them).
run -C "$R" list --format='%(subject)'
expect_fail "a placeholder that needs objects says so" 1 \
	"%\(subject\) needs the object database"
run -C "$R" list --format='%(upstream)'
expect_fail "%(upstream) says what it would need" 1 \
	"needs Git's branch configuration"
for o in --contains --no-contains --merged --no-merged; do
	run -C "$R" list $o=main
	expect_fail "$o needs objects and says so" 1 "$o needs the object database"
done
run -C "$R" list --sort=committerdate
expect_fail "--sort by anything but refname is refused" 1 "sorts by refname only"

# --sort, --count, --exclude, --ignore-case as Git's (output recorded from
# git for-each-ref 2.55 on the same refs).
check_format "--sort=-refname --count=3" '%(refname)' --sort=-refname --count=3 refs <<'EOF'
refs/tags/v1
refs/tags/heads/feature
refs/tags/a/b/c
EOF
check_format "--count" '%(refname)' --count=2 refs <<'EOF'
refs/heads/chain
refs/heads/deep/er/topic
EOF
check_format "--exclude" '%(refname)' --exclude='refs/heads/*' --exclude='refs/remotes/**' refs <<'EOF'
refs/heads/deep/er/topic
refs/tags/a/b/c
refs/tags/heads/feature
refs/tags/v1
EOF
check_format "--ignore-case" '%(refname)' --ignore-case 'REFS/TAGS/V*' 'refs/remotes/**' <<'EOF'
refs/remotes/feature
refs/remotes/origin/HEAD
refs/remotes/origin/main
refs/tags/v1
EOF
# Git resolves --points-at through objects; with a full id the tool
# lists the refs at it (Git: the same, for real objects).
run -C "$R" list --points-at="$B" --format='%(refname)'
printf 'refs/heads/other\n' >"$TMP/want.txt"
expect_output "--points-at a full id" "$TMP/want.txt"
run -C "$R" list --points-at=main
expect_fail "--points-at a name is refused" 1 "full object ids only"
# A symref whose target is missing: listed, its id empty (Git skips it).
run -C "$R" list --format='%(refname) [%(objectname)] %(symref)' refs/heads/dang
printf 'refs/heads/dang [] refs/heads/nothere\n' >"$TMP/want.txt"
expect_output "a dangling symref is listed with no id" "$TMP/want.txt"

# --- log NAME: git reflog show's choice ---------------------------------
# refs/tags/main beside refs/heads/main: the tag (no reflog: tags get none)
# comes first among the candidates, but Git shows the branch's reflog.
"$REFTABLE" -C "$R" update refs/tags/main "$B" >/dev/null
run -C "$R" log --oneline main
if [ "$rc" -eq 0 ] && grep -q "^$A refs/heads/main@{0}" "$OUT" &&
	grep -q "refname 'main' is ambiguous" "$ERR"; then
	ok "log NAME shows the first candidate that has a reflog"
else
	not_ok "log NAME shows the first candidate that has a reflog" "$(cat "$OUT")"
fi
run -C "$R" log refs/tags/main
if [ "$rc" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "log of a ref without a reflog prints nothing, as Git"
else
	not_ok "log of a ref without a reflog prints nothing, as Git" "exit $rc"
fi
run -C "$R" log dang
expect_fail "log of a dangling symref fails (Git: exit 128)" 1 \
	"dang leads to refs/heads/nothere, which does not exist"
run -C "$R" log nothere
expect_fail "log of nothing fails" 1 "no such ref: nothere"
if [ -n "$GITBIN" ]; then
	# git reflog show needs real objects: the same refs, made by Git.
	GR=$TMP/gitrepo
	"$GITBIN" init -q --template= --ref-format=reftable -b main "$GR"
	(cd "$GR" && "$GITBIN" commit -q --allow-empty -m one &&
		"$GITBIN" tag main && "$GITBIN" symbolic-ref refs/heads/dang refs/heads/nothere) 2>/dev/null
	for name in main refs/tags/main dang nothere; do
		(cd "$GR" && "$GITBIN" reflog show "$name" >"$TMP/g.out" 2>/dev/null)
		grc=$?
		run -C "$GR" log --oneline "$name"
		# exit classes agree, and both print the same number of entries
		if { [ "$grc" -eq 0 ] && [ "$rc" -eq 0 ]; } ||
			{ [ "$grc" -ne 0 ] && [ "$rc" -ne 0 ]; } &&
			[ "$(wc -l <"$TMP/g.out")" -eq "$(wc -l <"$OUT")" ]; then
			ok "log $name behaves as git reflog show"
		else
			not_ok "log $name behaves as git reflog show" \
				"Git: exit $grc, $(wc -l <"$TMP/g.out") lines;" \
				"tool: exit $rc, $(wc -l <"$OUT") lines"
		fi
	done
fi

# --- update --stdin: an indented command is refused, as by Git ------------
printf ' update refs/heads/indented %s\n' "$A" >"$TMP/in.txt"
run_in "$TMP/in.txt" -C "$R" update --stdin
expect_fail "an indented command is refused (Git: whitespace before command)" 1 \
	"whitespace before command"

finish
