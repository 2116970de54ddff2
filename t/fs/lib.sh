# Mounting lyingfs for the tests: two mounts of one backing directory are
# two hosts sharing an export. Source it with LYINGFS set; fs_cleanup
# runs on exit and unmounts whatever fs_mount mounted.

FS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/reftable-fs.XXXXXX") || exit 1
FS_MOUNTED=""

fs_umount() {
	fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null ||
		fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
}

fs_cleanup() {
	for m in $FS_MOUNTED; do
		fs_umount "$m"
	done
	FS_MOUNTED=""
	rm -rf "$FS_TMP"
}
trap fs_cleanup EXIT
trap 'exit 130' INT TERM

# Why FUSE cannot be mounted here, or nothing.
fs_unavailable() {
	[ -x "$LYINGFS" ] || { echo "lyingfs not built"; return; }
	[ -c /dev/fuse ] || { echo "no /dev/fuse"; return; }
	if [ "$(id -u)" != 0 ] && ! command -v fusermount3 >/dev/null; then
		echo "not root and no fusermount3"
		return
	fi
	mkdir -p "$FS_TMP/probe-back" "$FS_TMP/probe"
	if ! "$LYINGFS" "$FS_TMP/probe-back" "$FS_TMP/probe" 2>"$FS_TMP/err"
	then
		echo "cannot mount: $(head -n 1 "$FS_TMP/err")"
		return
	fi
	fs_umount "$FS_TMP/probe"
}

# fs_mount BACKING MOUNTPOINT MODE TIMEOUT
fs_mount() {
	mkdir -p "$1" "$2"
	"$LYINGFS" --mode "$3" --timeout "$4" "$1" "$2" || return 1
	FS_MOUNTED="$FS_MOUNTED $2"
}

# fs_hosts MODE TIMEOUT: $FS_TMP/MODE/{back,A,B}, A and B mounted.
fs_hosts() {
	fs_mount "$FS_TMP/$1/back" "$FS_TMP/$1/A" "$1" "$2" &&
		fs_mount "$FS_TMP/$1/back" "$FS_TMP/$1/B" "$1" "$2"
}
