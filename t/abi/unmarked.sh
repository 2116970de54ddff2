#!/bin/sh
# Print FILE: NAME for each function that a public header declares without
# REFTABLE_API on the line before (or before its return-type line): built
# with hidden visibility, it would silently be missing from the shared
# library. Usage: unmarked.sh HEADER...
awk '
	FNR == 1 { marked = ret = -1 }
	/^REFTABLE_API$/ { marked = FNR; next }
	/^[a-z]/ && !/^typedef/ && /\(/ {
		ok = marked == FNR - 1 || (ret == FNR - 1 && marked == FNR - 2)
		if (!ok) {
			name = $0
			sub(/\(.*/, "", name)
			n = split(name, w, /[ *]+/)
			print FILENAME ": " w[n]
		}
		next
	}
	/^[a-z]/ && !/[;{]$/ { ret = FNR }
' "$@"
