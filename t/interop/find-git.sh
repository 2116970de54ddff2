#!/bin/sh
# Print the Git the interop tests use, or nothing: $1/git (the shared
# tools, Git 2.55), else a `git` on PATH that can create a reftable
# repository (2.45 or newer; Debian 12's 2.39 cannot).
# Usage: GIT=$(sh t/interop/find-git.sh "$GIT_TOOLS_DIR")
if [ -n "$1" ] && [ -x "$1/git" ]; then
	echo "$1/git"
	exit 0
fi
git=$(command -v git 2>/dev/null) || exit 0
probe=$(mktemp -d "${TMPDIR:-/tmp}/find-git.XXXXXX") || exit 0
if "$git" init -q --template= --ref-format=reftable "$probe/r" \
	>/dev/null 2>&1; then
	echo "$git"
fi
rm -rf "$probe"
