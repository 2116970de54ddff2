# Sourced by run-all.sh: lyingfs itself behaves as t/fs/README.md says,
# through the mounts fs_hosts made for MODE ($1). Sets failed=1 on a
# miss.
fs_self_check() {
	root="$FS_TMP/$1/back/self"
	a="$FS_TMP/$1/A/self"
	b="$FS_TMP/$1/B/self"
	mkdir -p "$a" || { failed=1; return; }
	miss=""

	echo one >"$a/f"
	cat "$b/f" >/dev/null
	ino=$(stat -c %i "$b/f")
	echo twotwo >"$a/g" && mv "$a/g" "$a/f"
	# A stat through B still answers from its cache.
	[ "$(stat -c %i "$b/f")" = "$ino" ] || miss="$miss stat-cached"
	# An open through B: the new file (cto) or the cached one (nocto).
	want=twotwo
	[ "$1" = nocto ] && want=one
	[ "$(cat "$b/f" 2>/dev/null)" = "$want" ] || miss="$miss open-$1"

	# A descriptor on B of a file A removes goes stale.
	echo data >"$a/h"
	exec 3<"$b/h"
	rm "$a/h"
	cat <&3 >/dev/null 2>"$FS_TMP/$1/self.err" && miss="$miss estale"
	grep -q "Stale file handle" "$FS_TMP/$1/self.err" || miss="$miss estale-msg"
	exec 3<&-

	# A file removed where it is open is hidden until closed.
	echo x >"$a/k"
	exec 4<"$a/k"
	rm "$a/k"
	ls -a "$root" | grep -q '^\.fuse_hidden' || miss="$miss hidden"
	[ "$(cat <&4)" = x ] || miss="$miss hidden-read"
	exec 4<&-
	# The kernel sends FUSE's release after close returns, asynchronously:
	# wait for the removal (up to 5 s), do not assume it is done.
	tries=0
	while ls -a "$root" | grep -q '^\.fuse_hidden' && [ $tries -lt 100 ]; do
		sleep 0.05
		tries=$((tries + 1))
	done
	ls -a "$root" | grep -q '^\.fuse_hidden' && miss="$miss hidden-kept"

	if [ -n "$miss" ]; then
		echo "   FAIL $1 lyingfs self-check:$miss"
		failed=1
	else
		echo "   ok $1 lyingfs self-check (stale stat, $1 open," \
		     "ESTALE, .fuse_hidden)"
	fi
}
