#!/bin/sh
# Run every test suite, or those named (scripts unit config engine tui images
# disk net fuzz e2e e2e-net; engine includes the hostile-user suite), and end
# with one "N passed, M failed" line.
# TOP, if set, is where the programs were built (make asan's build/asan);
# by default the tree itself.
cd "$(dirname "$0")/.." || exit 1
TOP=${TOP:-$(pwd)}
export TOP
# the suites named on the command line, or every one
want=${*:-all}
total_pass=0
total_fail=0
suites_failed=

count() {	# count LOG: add a suite's "N passed, M failed" line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
}

run_suite() {	# run_suite NAME COMMAND...: if NAME's group was asked for
	name=$1; shift
	[ "$want" = all ] ||
	    case " $want " in *" ${name%%:*} "*) ;; *) return 0 ;; esac
	log=$(mktemp)
	echo "== $name"
	began=$(date +%s)
	if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
	cat "$log"
	echo "# $name took $(($(date +%s) - began)) s"
	count "$log"
	if [ "$rc" -ne 0 ]; then
		# a suite that fails counts a failure even if it printed none
		# (a sanitizer report, a crash after its last case)
		suites_failed="$suites_failed $name"
		[ "${f:-0}" -gt 0 ] || total_fail=$((total_fail + 1))
	fi
	rm -f "$log"
}

# cmocka binaries print "[  PASSED  ] N test(s)." and "[  FAILED  ] N"
run_cmocka() {
	out=$(mktemp)
	# a unit test that hangs fails instead of stopping the whole run
	if timeout 900 "$1" >"$out" 2>&1; then crc=0; else crc=$?; fi
	cat "$out"
	cp=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
	cf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out")
	rm -f "$out"
	echo "${cp:-0} passed, ${cf:-0} failed"
	[ "$crc" -eq 0 ] && [ -n "$cp" ]
}

run_suite "scripts" sh tests/scripts/run.sh
for t in "$TOP"/tests/unit/test_*; do
	case "$t" in *.c|*.o|*.d) continue ;; esac
	run_suite "unit: ${t##*/}" run_cmocka "$t"
done
run_suite "config" sh tests/config/run.sh "$TOP/vmtop"
run_suite "engine" sh tests/engine/run.sh
run_suite "engine: hostile" sh tests/engine/hostile.sh
run_suite "engine: sandbox" sh tests/engine/sandbox.sh
run_suite "engine: cloudinit" sh tests/engine/cloudinit.sh
run_suite "fuzz" sh tests/fuzz/run.sh
run_suite "tui" sh tests/tui/run.sh
run_suite "tui: service" sh tests/tui/service.sh
run_suite "tui: pull" sh tests/tui/pull.sh
run_suite "disk" sh tests/disk/run.sh
run_suite "net" sh tests/net/run.sh
run_suite "images" sh tests/images/test.sh
run_suite "e2e-where" sh tests/e2e/where-test.sh
run_suite "e2e" sh tests/e2e/run.sh
run_suite "e2e: adopt" sh tests/e2e/adopt.sh
run_suite "e2e: cdrom" sh tests/e2e/cdrom.sh
run_suite "e2e-net" sh tests/e2e/net.sh
run_suite "e2e-console" sh tests/e2e/console.sh

echo
[ -n "$suites_failed" ] && echo "failed suites:$suites_failed"
echo "$total_pass passed, $total_fail failed"
[ -z "$suites_failed" ]
