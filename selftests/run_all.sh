#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every guestmem kselftest binary (*_test) found next to this script, in
# name order, or only the ones named on the command line.  Each binary prints
# its own TAP (kselftest_harness.h); this script adds "# " lines around them
# (with each binary's run time, where /proc/uptime exists) and exits
# non-zero if any binary failed (or none was found).
# busybox sh compatible.

dir=$(cd "$(dirname "$0")" && pwd)

# Time since boot in centiseconds (/proc/uptime has two decimals), or empty.
uptime_cs() {
	local up rest cs
	read -r up rest < /proc/uptime 2>/dev/null || return 0
	case "$up" in
	*.??) ;;
	*) return 0 ;;
	esac
	cs=${up#*.}
	echo $(( ${up%.*} * 100 + ${cs#0} ))	# "08" is not octal
}

# " (S.SS s)" since @1 (from uptime_cs), or nothing.
took() {
	local now
	now=$(uptime_cs)
	[ -n "$1" ] && [ -n "$now" ] || return 0
	printf ' (%d.%02d s)' $(( (now - $1) / 100 )) $(( (now - $1) % 100 ))
}

if [ $# -gt 0 ]; then
	list=
	for name in "$@"; do
		list="$list $dir/${name##*/}"
	done
else
	list=$(ls "$dir" | grep '_test$' | sort | sed "s|^|$dir/|")
fi

total=0
failed=0
failed_names=
for t in $list; do
	name=${t##*/}
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		echo "# guestmem selftest $name: missing or not executable"
		total=$((total + 1))
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		continue
	fi
	total=$((total + 1))
	echo "GUESTMEM-VM: run $name"
	start=$(uptime_cs)
	"$t" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "# guestmem selftest $name: exit 0$(took "$start")"
	else
		echo "# guestmem selftest $name: FAILED (exit $rc)$(took "$start")"
		failed=$((failed + 1))
		failed_names="$failed_names $name"
	fi
done

if [ "$total" -eq 0 ]; then
	echo "# guestmem selftests: no *_test binary in $dir"
	exit 1
fi
echo "# guestmem selftests: $total programs, $failed failed${failed_names:+:$failed_names}"
[ "$failed" -eq 0 ]
