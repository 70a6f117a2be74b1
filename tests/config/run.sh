#!/bin/sh
# Check vm.conf parsing with `vmtop -n`: for each NAME.conf here, its output
# and exit status must match NAME.ok (the output, then "exit N"). Files
# named print-*.conf are checked with `vmtop -n -v`, which prints the
# config back.
#
# usage: tests/config/run.sh path/to/vmtop

if [ $# -ne 1 ]; then
	echo "usage: $0 vmtop" >&2
	exit 2
fi
case $1 in
/*)	VMTOP=$1 ;;
*)	VMTOP=$(pwd)/$1 ;;
esac
if [ ! -x "$VMTOP" ]; then
	echo "$0: $VMTOP is not executable" >&2
	exit 2
fi

cd "$(dirname "$0")" || exit 2
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
# vmtop may make the path absolute; the expected output has it as given.
here=$(pwd -P)

passed=0
failed=0
for conf in *.conf; do
	name=${conf%.conf}
	case $name in
	print-*)	flags=-nv ;;
	*)		flags=-n ;;
	esac
	{ "$VMTOP" $flags -f "$conf" 2>&1; echo "exit $?"; } |
	    sed "s|$here/||g" >"$out"
	if [ ! -f "$name.ok" ]; then
		echo "FAIL $name: no $name.ok"
		failed=$((failed + 1))
	elif diff -u "$name.ok" "$out" >/dev/null; then
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		diff -u "$name.ok" "$out" | sed 's/^/	/'
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
