#!/bin/sh
# Check one configuration of the stack model with Spin.
#   check.sh NAME pass|fail OUTDIR [-DFLAG ...]
# pass: the exhaustive search must end with no error; fail: Spin must
# find a counterexample, whose trail (the steps of each process) is
# saved as OUTDIR/NAME.trail.txt. Prints one line of figures: states
# stored, depth reached, memory, seconds.
set -e
name=$1 expect=$2 out=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/$name.d
rm -rf "$work"
mkdir -p "$work"
cp "$here"/*.pml "$work/"
cd "$work"
spin -a "$@" stack.pml >spin.log 2>&1 || { cat spin.log; exit 2; }
${CC:-cc} -O0 -w -DSAFETY -DMEMLIM=${MODEL_MEMLIM:-2048} -DVECTORSZ=4096 \
	${PAN_CFLAGS:-} -o pan pan.c
start=$(date +%s.%N)
./pan -m200000 ${PAN_FLAGS:-} >pan.log 2>&1 || true
end=$(date +%s.%N)
secs=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' pan.log)
depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log)
mem=$(sed -n 's/^ *\([0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p' pan.log)
errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log)
figures="states=$states depth=$depth memory=${mem}MB time=${secs}s"
if grep -q "reached -DMEMLIM bound\|max search depth too small" pan.log; then
	echo "INCOMPLETE $name ($*): $figures"; grep -m1 "reached\|too small" pan.log
	exit 1
fi
if [ "$expect" = pass ]; then
	if [ "$errors" = 0 ]; then
		echo "pass $name ($*): $figures"
		exit 0
	fi
	spin -t "$@" stack.pml >trail.log 2>&1 || true
	echo "FAIL $name ($*): Spin found a violation: $figures"
	grep -m3 "assertion violated\|text of failed\|invalid end" pan.log trail.log
	echo "trail: $work/trail.log (spin -t -p $* stack.pml in $work)"
	exit 1
fi
if [ "$errors" = 0 ] || [ ! -f stack.pml.trail ]; then
	echo "FAIL $name ($*): expected a counterexample, Spin found none: $figures"
	exit 1
fi
# The trail: each step of each process, without Spin's bookkeeping.
{
	echo "# spin -t $* stack.pml: the system calls of the counterexample"
	spin -t "$@" stack.pml 2>&1 | sed -n '1,/text of failed assertion/p' |
		grep -v '^ *$' | sed 's/^ *//; s/  */ /g; s/( /(/g; s/ )/)/g; s/ ,/,/g' | head -400
} >"$out/$name.trail.txt"
what=$(sed -n 's/.*text of failed assertion: //p' "$out/$name.trail.txt" | head -1)
steps=$(grep -c "^ *P[0-9]" "$out/$name.trail.txt" || true)
echo "found $name ($*): $what; trail of $steps steps in $out/$name.trail.txt; $figures"
