#!/bin/sh
# The man page and the bash completion cover every command, and the
# committed man page is what its Markdown source generates.
. "$(dirname "$0")/lib.sh"

ROOT=$TESTDIR/../..
MD=$ROOT/Documentation/reftable.1.md
MAN=$ROOT/Documentation/reftable.1
COMP=$ROOT/contrib/completion/reftable.bash

awk -f "$ROOT/cli/md2man.awk" "$MD" >"$TMP/reftable.1"
expect_same "Documentation/reftable.1 is up to date (make man)" \
	"$TMP/reftable.1" "$MAN"

run --help
commands=$(sed -n 's/^  \([a-z]*\)  .*/\1/p' "$OUT")
if [ -n "$commands" ]; then
	ok "--help lists commands"
else
	not_ok "--help lists commands"
fi
for c in $commands; do
	if grep -q "^## $c" "$MD" && grep -q "^\\.SS \"$c" "$MAN"; then
		ok "man page documents $c"
	else
		not_ok "man page documents $c"
	fi
	if grep -q "^	$c)" "$COMP" && grep -q "commands=\".*$c" "$COMP"; then
		ok "completion knows $c"
	else
		not_ok "completion knows $c"
	fi
	# every long option of the command is in the completion
	"$REFTABLE" "$c" --help >"$TMP/help.txt"
	missing=""
	for o in $(sed -n '/^options:/,$s/^  .*--\(\[no-\]\)\{0,1\}\([a-z-]*\).*/\2/p' "$TMP/help.txt"); do
		grep "^	$c)" -A2 "$COMP" | grep -q -- "--$o" || missing="$missing --$o"
	done
	if [ -z "$missing" ]; then
		ok "completion has every option of $c"
	else
		not_ok "completion has every option of $c" "missing:$missing"
	fi
done

if command -v bash >/dev/null 2>&1; then
	got=$(bash -c ". '$COMP'; COMP_WORDS=(reftable ver); COMP_CWORD=1; _reftable; echo \${COMPREPLY[*]}")
	if [ "$got" = "verify --version" ] || [ "$got" = "--version verify" ] ||
		[ "$got" = "verify" ]; then
		ok "completion completes a command"
	else
		not_ok "completion completes a command" "got '$got'"
	fi
	got=$(bash -c ". '$COMP'; COMP_WORDS=(reftable -C '$FIXTURES/basic/reftable' show refs/t); COMP_CWORD=4; PATH='$(dirname "$REFTABLE")':\$PATH; reftable() { '$REFTABLE' \"\$@\"; }; _reftable; echo \${COMPREPLY[*]}")
	if [ "$got" = "refs/tags/ann refs/tags/light" ]; then
		ok "completion completes ref names of the -C stack"
	else
		not_ok "completion completes ref names of the -C stack" "got '$got'"
	fi
else
	not_ok "bash is needed to test the completion"
fi
finish
