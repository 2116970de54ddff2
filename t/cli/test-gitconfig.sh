#!/bin/sh
# The tool reads Git's configuration as Git does: the files (system,
# global, the repository's, their includes and includeIf conditions), the
# environment, and the settings that apply to it (reftable.*,
# core.sharedRepository, core.logAllRefUpdates, core.bare, --lock-timeout).
# Every expected value below is what Git 2.55 reads; where Git is present
# (../shared/tools/git, $GIT, or a git on PATH that knows reftable) each
# is also checked against `git config --get` on the same files.
. "$(dirname "$0")/lib.sh"

GET=${GITCONFIG_GET:-$(dirname "$REFTABLE")/../t/cli-unit/gitconfig-get}
if [ ! -x "$GET" ]; then
	echo "not ok - gitconfig-get not found at $GET (make cli-test builds it)"
	exit 1
fi

GITBIN=$(find_git "$GIT")
[ -n "$GITBIN" ] || echo "# no reftable-capable Git: checking against Git 2.55's recorded values only"

A=1111111111111111111111111111111111111111
B=2222222222222222222222222222222222222222
GIT_COMMITTER_NAME="Test User"
GIT_COMMITTER_EMAIL=test@example.com
GIT_COMMITTER_DATE="1700000000 +0000"
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
# Nothing of the machine's or the user's configuration leaks in.
HOME=$TMP/home
mkdir -p "$HOME"
export HOME
unset XDG_CONFIG_HOME GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_CONFIG_COUNT \
	GIT_CONFIG_PARAMETERS GIT_DIR
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_NOSYSTEM

# repo DIR [bare]: a Git repository using reftable, built without Git: a
# .git directory (or DIR itself if bare) with config, HEAD and reftable/.
repo() {
	if [ "$2" = bare ]; then gd=$1; else gd=$1/.git; fi
	mkdir -p "$gd/refs" "$gd/objects"
	echo "ref: refs/heads/.invalid" >"$gd/HEAD"
	bare=false
	[ "$2" = bare ] && bare=true
	printf '[core]\n\trepositoryformatversion = 1\n\tbare = %s\n[extensions]\n\trefstorage = reftable\n' \
		"$bare" >"$gd/config"
	"$REFTABLE" init "$gd/reftable" >/dev/null
	"$REFTABLE" -C "$gd" update --symref HEAD refs/heads/main >/dev/null
}

# same NAME GITDIR [--bool] KEY WANT: the tool reads WANT for KEY (empty
# WANT: unset), and so does Git.
same() {
	name=$1 gd=$2
	shift 2
	opt=
	if [ "$1" = --bool ]; then opt=--bool; shift; fi
	key=$1 want=$2
	ours=$("$GET" $opt "$gd" "$key" 2>&1)
	if [ "$ours" != "$want" ]; then
		not_ok "$name" "$key: the tool reads '$ours', Git 2.55 '$want'"
		return
	fi
	if [ -n "$GITBIN" ]; then
		if [ -n "$opt" ]; then opt=--type=bool; fi
		theirs=$("$GITBIN" --git-dir="$gd" config $opt --get "$key" 2>&1)
		if [ "$theirs" != "$want" ]; then
			not_ok "$name" "$key: Git reads '$theirs', expected '$want'"
			return
		fi
	fi
	ok "$name"
}

# --- the syntax --------------------------------------------------------------
R=$TMP/syntax
repo "$R"
G=$R/.git
cat >>"$G/config" <<'EOF'
; comments and odd spacing
[Tricky "Sub.Case"]
	Value = "  quoted  " tail # comment
	esc = a\tb\\c\"d
	cont = one \
two
	flag
	empty =
[tricky.Legacy]
	v = legacy
[tricky]   later = 1
	later = 2
EOF
same "a quoted value keeps its blanks" "$G" tricky.Sub.Case.value "  quoted   tail"
same "escapes" "$G" tricky.Sub.Case.esc "$(printf 'a\tb\\c"d')"
same "a backslash joins lines" "$G" tricky.Sub.Case.cont "one two"
same "subsections are case-sensitive" "$G" tricky.sub.case.value ""
same "a key without = is true" "$G" --bool tricky.Sub.Case.flag true
same "an empty value is false" "$G" --bool tricky.Sub.Case.empty false
same "[section.Sub] is lower-cased" "$G" tricky.legacy.v legacy
same "the last value wins" "$G" TRICKY.LATER 2

# --- files, includes and conditions ------------------------------------------
R=$TMP/work/proj
repo "$R"
G=$R/.git
mkdir -p "$HOME/.config/git" "$TMP/inc"
printf '[t]\n\tglobal = home\n\torder = home\n' >"$HOME/.gitconfig"
printf '[t]\n\txdg = xdg\n\torder = xdg\n' >"$HOME/.config/git/config"
printf '[t]\n\tsystem = sys\n\torder = sys\n' >"$TMP/system"
printf '[t]\n\trel = relative\n' >"$G/rel.inc"
printf '[t]\n\thome = tilde\n' >"$HOME/tilde.inc"
printf '[t]\n\tgitdir = yes\n' >"$TMP/inc/gitdir"
printf '[t]\n\tgitdiri = yes\n' >"$TMP/inc/gitdiri"
printf '[t]\n\tbranch = main\n' >"$TMP/inc/main"
printf '[t]\n\tbranch = other\n' >"$TMP/inc/other"
printf '[t]\n\tnever = set\n' >"$TMP/inc/never"
printf '[t]\n\trelgitdir = yes\n' >"$TMP/inc/relgitdir"
printf '[t]\n\tnested = deep\n[include]\n\tpath = nested2\n' >"$TMP/inc/nested"
printf '[t]\n\tnested2 = deeper\n' >"$TMP/inc/nested2"
UPPER=$(echo "$TMP/work/" | tr a-z A-Z)
cat >>"$G/config" <<EOF
[include]
	path = rel.inc
	path = ~/tilde.inc
	path = $TMP/inc/nested
	path = does-not-exist
[includeIf "gitdir:$TMP/work/"]
	path = $TMP/inc/gitdir
[includeIf "gitdir:proj/.git"]
	path = $TMP/inc/relgitdir
[includeIf "gitdir:**/proj/.git"]
	path = $TMP/inc/gitdir
[includeIf "gitdir/i:$UPPER"]
	path = $TMP/inc/gitdiri
[includeIf "gitdir:$UPPER"]
	path = $TMP/inc/never
[includeIf "onbranch:main"]
	path = $TMP/inc/main
[includeIf "onbranch:ma"]
	path = $TMP/inc/never
[includeIf "unknown:x"]
	path = $TMP/inc/never
[t]
	local = here
EOF
same "the global file" "$G" t.global home
same "the XDG file" "$G" t.xdg xdg
same "~/.gitconfig is read after the XDG file" "$G" t.order home
same "GIT_CONFIG_NOSYSTEM skips the system file" "$G" t.system ""
same "the repository's file" "$G" t.local here
same "include.path relative to the including file" "$G" t.rel relative
same "include.path with ~/" "$G" t.home tilde
same "includes nest" "$G" t.nested2 deeper
same "includeIf gitdir: with a trailing slash" "$G" t.gitdir yes
same "includeIf gitdir: relative matches at any depth" "$G" t.relgitdir yes
same "includeIf gitdir/i: ignores case" "$G" t.gitdiri yes
same "includeIf onbranch: reads HEAD from the reftable stack" "$G" t.branch main
same "conditions that do not hold include nothing" "$G" t.never ""
export GIT_CONFIG_SYSTEM=$TMP/system
GIT_CONFIG_NOSYSTEM=0
same "GIT_CONFIG_SYSTEM names the system file" "$G" t.system sys
export GIT_CONFIG_GLOBAL=$TMP/inc/nested
same "GIT_CONFIG_GLOBAL replaces both global files" "$G" t.global ""
same "GIT_CONFIG_GLOBAL's own includes" "$G" t.nested2 deeper
same "the system file comes first" "$G" t.order sys
unset GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM
GIT_CONFIG_NOSYSTEM=1
"$REFTABLE" -C "$G" update --symref HEAD refs/heads/other >/dev/null
same "onbranch: follows HEAD" "$G" t.branch ""

# extensions.worktreeConfig: the main work tree's config.worktree.
printf '[t]\n\twt = worktree\n' >"$G/config.worktree"
same "config.worktree is read only with extensions.worktreeConfig" "$G" t.wt ""
printf '[extensions]\n\tworktreeConfig = true\n' >>"$G/config"
same "extensions.worktreeConfig reads config.worktree" "$G" t.wt worktree

# --- the environment ---------------------------------------------------------
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=T.Local GIT_CONFIG_VALUE_0=env \
	GIT_CONFIG_KEY_1=t.Sub.X GIT_CONFIG_VALUE_1=y
same "GIT_CONFIG_COUNT comes after the files" "$G" t.local env
same "GIT_CONFIG_KEY_n keeps the subsection's case" "$G" t.Sub.x y
export GIT_CONFIG_PARAMETERS="'t.local'='param' 't.it'\\''s.k=v' 'T.Flag'"
same "GIT_CONFIG_PARAMETERS comes last" "$G" t.local param
same "GIT_CONFIG_PARAMETERS's old 'key=value' form" "$G" "t.it's.k" v
same "a parameter without a value is true" "$G" --bool t.flag true
unset GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0 GIT_CONFIG_KEY_1 \
	GIT_CONFIG_VALUE_1 GIT_CONFIG_PARAMETERS

# --- errors ------------------------------------------------------------------
R=$TMP/bad
repo "$R"
printf '[include]\n\tpath = broken\n' >>"$R/.git/config"
printf '[t]\n\tok = 1\n\tbad line\n' >"$R/.git/broken"
want="fatal: bad config line 3 in file $R/.git/broken"
ours=$("$GET" "$R/.git" t.ok 2>&1)
if [ "$ours" != "$want" ]; then
	not_ok "a bad line in an included file" "the tool says '$ours'" \
		"Git 2.55 says '$want'"
elif [ -n "$GITBIN" ] &&
	[ "$("$GITBIN" --git-dir="$R/.git" config --get t.ok 2>&1)" != "$want" ]; then
	not_ok "a bad line in an included file" "Git says otherwise"
else
	ok "a bad line in an included file is Git's error"
fi
run -C "$R" list
expect_fail "the tool stops at a broken configuration, as Git" 1 \
	"bad config line 3 in file .*broken"
printf '[include]\n\tpath = loop\n' >"$R/.git/loop"
printf '[include]\n\tpath = loop\n' >"$R/.git/broken"
run -C "$R" list
expect_fail "circular includes stop at Git's depth" 1 \
	"exceeded maximum include depth \(10\)"

# --- the settings the tool applies -------------------------------------------
# reftable.blockSize, restartInterval, indexObjects: our compaction lays the
# table out block for block as Git's pack-refs does with the same settings.
R=$TMP/layout
repo "$R"
i=0
while [ $i -lt 60 ]; do
	i=$((i + 1))
	echo "update refs/heads/branch$i $A"
done | "$REFTABLE" -C "$R" update --stdin --no-compact >/dev/null
"$REFTABLE" -C "$R" update --no-compact refs/tags/v1 "$B" >/dev/null
cat >>"$R/.git/config" <<'EOF'
[reftable]
	blockSize = 1k
	restartInterval = 5
	indexObjects = false
EOF
[ -n "$GITBIN" ] && cp -r "$R" "$TMP/layout-git"
"$REFTABLE" -C "$R" compact >/dev/null
run -C "$R" dump --blocks
if [ "$rc" -eq 0 ] && grep -q "block size 1024" "$OUT" &&
	! grep -q ' obj ' "$OUT" && grep -q ' index ' "$OUT"; then
	ok "blockSize and indexObjects shape the compacted table"
else
	not_ok "blockSize and indexObjects shape the compacted table" \
		"$(head -5 "$OUT")"
fi
if [ -n "$GITBIN" ]; then
	# The same tables compacted by Git's pack-refs: the same blocks.
	grep -v '^table\| log ' "$OUT" >"$TMP/ours.txt"
	"$GITBIN" -C "$TMP/layout-git" pack-refs 2>"$ERR"
	"$REFTABLE" -C "$TMP/layout-git" dump --blocks |
		grep -v '^table\| log ' >"$TMP/git.txt"
	expect_same "the layout is Git's for the same settings" \
		"$TMP/ours.txt" "$TMP/git.txt"
fi
sed -i 's/restartInterval = 5/restartInterval = 70000/' "$R/.git/config"
run -C "$R" update refs/heads/x "$A"
expect_fail "a restart interval Git refuses is refused" 1 \
	"restart interval cannot exceed 65535"
sed -i 's/restartInterval = 70000/restartInterval = 5/; s/blockSize = 1k/blockSize = 4x/' "$R/.git/config"
run -C "$R" update refs/heads/x "$A"
expect_fail "a bad number gets Git's message" 1 \
	"bad numeric config value '4x' for 'reftable.blocksize' in file .*config: invalid unit"
run -C "$R" list refs/heads/branch1
expect_rc "reads do not look at the write settings (as Git)" 0

# reftable.lockTimeout and --lock-timeout: an empty lock, as Git leaves
# while it writes, is kept; the writer waits for it as long as told.
R=$TMP/lock
repo "$R"
: >"$R/.git/reftable/tables.list.lock"
printf '[reftable]\n\tlockTimeout = -2\n' >>"$R/.git/config"
run -C "$R" update refs/heads/x "$A"
expect_fail "lockTimeout below -1 is refused as Git refuses it" 1 \
	"reftable lock timeout does not support negative values other than -1"
run -C "$R" update --lock-timeout=0 refs/heads/x "$A"
expect_fail "--lock-timeout overrides the configuration" 3 "lock"
run -C "$R" update --lock-timeout=-2 refs/heads/x "$A"
expect_fail "--lock-timeout takes -1 or more" 1 "bad --lock-timeout"
sed -i 's/lockTimeout = -2/lockTimeout = 600/' "$R/.git/config"
t0=$(date +%s%N)
run -C "$R" update refs/heads/x "$A"
t1=$(date +%s%N)
waited=$(((t1 - t0) / 1000000))
if [ "$rc" -eq 3 ] && [ "$waited" -ge 600 ]; then
	ok "reftable.lockTimeout is how long a writer waits"
else
	not_ok "reftable.lockTimeout is how long a writer waits" \
		"exit $rc after $waited ms (want 3 after at least 600)"
fi
for cmd in compact clean relist; do
	run -C "$R" $cmd --lock-timeout=0
	expect_fail "$cmd takes --lock-timeout" 3 "lock"
done
rm -f "$R/.git/reftable/tables.list.lock"

# core.sharedRepository: the modes Git gives new tables and tables.list.
mode_of() {
	stat -c %a "$1"
}
for setting in group:664 0640:640 everybody:664 umask:644; do
	value=${setting%%:*}
	want=${setting#*:}
	R=$TMP/shared-$value
	repo "$R"
	printf '[core]\n\tsharedRepository = %s\n' "$value" >>"$R/.git/config"
	(umask 022 && "$REFTABLE" -C "$R" update refs/heads/x "$A" >/dev/null)
	table=$R/.git/reftable/$(tail -n 1 "$R/.git/reftable/tables.list")
	got="$(mode_of "$table") $(mode_of "$R/.git/reftable/tables.list")"
	if [ "$got" = "$want $want" ]; then
		ok "core.sharedRepository=$value gives mode $want"
	else
		not_ok "core.sharedRepository=$value gives mode $want" "got $got"
	fi
	if [ -n "$GITBIN" ]; then
		(umask 022 && cd "$R" && "$GITBIN" update-ref refs/heads/y "$A" 2>/dev/null)
		table=$R/.git/reftable/$(tail -n 1 "$R/.git/reftable/tables.list")
		got="$(mode_of "$table") $(mode_of "$R/.git/reftable/tables.list")"
		[ "$got" = "$want $want" ] ||
			not_ok "Git gives mode $want for $value" "Git gives $got"
	fi
done

# core.logAllRefUpdates and core.bare: which new refs get a reflog.
# reflog_of DIR REF: 1 if the stack holds a reflog entry for REF.
reflog_of() {
	"$REFTABLE" -C "$1" dump --records |
		grep -c "^log $2 " || true
}
check_reflog() {
	name=$1 dir=$2 ref=$3 want=$4
	got=$(reflog_of "$dir" "$ref")
	[ "$got" -gt 0 ] && got=1
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "reflog entries of $ref: $got, Git writes $want"
	fi
}
R=$TMP/logs-false
repo "$R"
printf '[core]\n\tlogAllRefUpdates = false\n' >>"$R/.git/config"
"$REFTABLE" -C "$R" update refs/heads/new "$A" >/dev/null
check_reflog "logAllRefUpdates=false: a new branch has no reflog" "$R" refs/heads/new 0
R=$TMP/logs-always
repo "$R"
printf '[core]\n\tlogAllRefUpdates = always\n' >>"$R/.git/config"
"$REFTABLE" -C "$R" update refs/tags/t1 "$A" >/dev/null
check_reflog "logAllRefUpdates=always: a tag has a reflog" "$R" refs/tags/t1 1
R=$TMP/logs-default
repo "$R"
"$REFTABLE" -C "$R" update refs/heads/new "$A" >/dev/null
check_reflog "unset, with a work tree: a new branch has a reflog" "$R" refs/heads/new 1
R=$TMP/logs-bare.git
repo "$R" bare
"$REFTABLE" -C "$R" update refs/heads/new "$A" >/dev/null
check_reflog "unset, bare: a new branch has no reflog" "$R" refs/heads/new 0
printf '[core]\n\tlogAllRefUpdates = maybe\n' >>"$R/config"
run -C "$R" update refs/heads/b2 "$A"
expect_fail "a bad logAllRefUpdates gets Git's message" 1 \
	"bad boolean config value 'maybe' for 'core.logallrefupdates'"

finish
