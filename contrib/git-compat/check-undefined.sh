#!/bin/sh
# The compat object may leave undefined only what the C library, zlib and
# pthreads define, and fsync_component (Git's fsync policy, contrib/
# git-compat/fs.c). Anything else would bind, in Git's link, to one of
# Git's functions that merely shares a name with one of ours.
set -eu
obj=$1
libs=$(for l in c z pthread m; do
	f=$(${CC:-cc} -print-file-name=lib$l.so.6 2>/dev/null)
	[ -f "$f" ] || f=$(${CC:-cc} -print-file-name=lib$l.so.1 2>/dev/null)
	[ -f "$f" ] && echo "$f"
done)
known=$(for f in $libs; do nm -D --defined-only "$f"; done |
	awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u)
bad=$(nm -u "$obj" | awk '{ print $2 }' | sort -u |
	grep -vxF "$known" |
	grep -vx 'fsync_component\|_GLOBAL_OFFSET_TABLE_\|__tls_get_addr\|__stack_chk_fail' |
	grep -v '^__\(asan\|ubsan\|lsan\|sanitizer\)_' || true)
if [ -n "$bad" ]; then
	echo "$obj: undefined symbols that Git would supply:" >&2
	echo "$bad" >&2
	exit 1
fi
