#!/bin/sh
# The stress harness over two lyingfs mounts of one backing directory
# (two hosts), cto mode: writers, readers and compactors alternate
# between the mounts, kills included. Readers may lag acknowledgements
# by the attribute timeout (--stale-bound), which the summary reports.
#
#   STRESS=... LYINGFS=... sh t/fs/stress-fs.sh [TIMEOUT [harness args]]
set -u
: "${LYINGFS:?}" "${STRESS:?}"
timeout=${1:-1}
[ $# -gt 0 ] && shift
. "$(dirname "$0")/lib.sh"

why=$(fs_unavailable)
if [ -n "$why" ]; then
	echo "== stress-fs: skipped: FUSE cannot mount here ($why)"
	exit 0
fi
fs_hosts cto "$timeout" || { echo "stress-fs: cannot mount"; exit 2; }
echo "== stress-fs: two mounts, cto, attribute timeout ${timeout}s"
# Lag bound: the timeout, plus a little for the reader's own scheduling.
"$STRESS" --dir "$FS_TMP" --mounts "$FS_TMP/cto/A,$FS_TMP/cto/B" \
	--stale-bound "$(awk "BEGIN { print $timeout + 0.5 }")" "$@"
