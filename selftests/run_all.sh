#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every guestmem kselftest binary (*_test) found next to this script, in
# name order, or only the ones named on the command line.  Each binary prints
# its own TAP (kselftest_harness.h); this script adds "# " lines around them
# and exits non-zero if any binary failed (or none was found).
# busybox sh compatible.

dir=$(cd "$(dirname "$0")" && pwd)

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
	"$t" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "# guestmem selftest $name: exit 0"
	else
		echo "# guestmem selftest $name: FAILED (exit $rc)"
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
