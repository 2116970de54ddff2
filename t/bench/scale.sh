#!/bin/sh
# Run the benchmark driver at several ref counts and print one table:
# a row per figure, a column per N.
#
#   sh t/bench/scale.sh ./build-bench/t/bench/bench 10000 100000 ...
#
# Each N runs in its own process (peak_rss is a per-process maximum).
# The raw output of each run is kept in $SCALE_OUT (default a temp dir).

set -e
bin=$1
shift
[ $# -gt 0 ] || set -- 10000 100000 1000000 10000000

out=${SCALE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/reftable-scale-XXXXXX")}
mkdir -p "$out"
status=0
for n in "$@"; do
	echo "== N=$n" >&2
	if ! "$bin" "$n" >"$out/$n.txt"; then
		echo "scale: the run at N=$n failed (see $out/$n.txt)" >&2
		status=1
	fi
	cat "$out/$n.txt" >&2
done

# Rows in the order of the first run's lines; "workload" gives the digest.
for n in "$@"; do
	printf '%s\n' "$out/$n.txt"
done | awk '
	{ files[++nf] = $0 }
	END {
		for (f = 1; f <= nf; f++) {
			while ((getline line < files[f]) > 0) {
				split(line, part, ": ")
				name = part[1]
				rest = substr(line, length(name) + 3)
				if (name == "workload") {
					split(rest, w, " ")
					rest = w[4]
					unit[name] = "digest"
				} else {
					nw = split(rest, w, " ")
					rest = w[1]
					unit[name] = nw > 1 ? w[2] : ""
				}
				if (!(name in seen)) {
					seen[name] = 1
					order[++nr] = name
				}
				val[name, f] = rest
			}
			close(files[f])
			split(files[f], p, "/")
			col[f] = p[length(p)]
			sub(/\.txt$/, "", col[f])
		}
		printf "%-22s", "N"
		for (f = 1; f <= nf; f++)
			printf " %16s", col[f]
		printf "  %s\n", "unit"
		for (r = 1; r <= nr; r++) {
			name = order[r]
			printf "%-22s", name
			for (f = 1; f <= nf; f++)
				printf " %16s", ((name, f) in val) ? val[name, f] : "-"
			printf "  %s\n", unit[name]
		}
	}'
[ -n "$SCALE_OUT" ] || rm -rf "$out"
exit $status
