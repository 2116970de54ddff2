#!/bin/sh
# Print, sorted, the name of every function the public headers mark with
# REFTABLE_API (the line after the marker holds the declaration, or its
# return type when the name starts the line after that).
# Usage: public-names.sh HEADER...
awk '
	/^REFTABLE_API$/ { want = 1; next }
	want && /\(/ {
		sub(/\(.*/, "")
		n = split($0, w, /[ *]+/)
		print w[n]
		want = 0
	}
' "$@" | sort
