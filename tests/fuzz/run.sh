#!/bin/sh
# The fuzz suite: the multi-connection protocol fuzzer (fuzz_engine_conns)
# and the checksum-file fuzzer (fuzz_sums), each for a bounded number of
# inputs from its seeds, under ASan, UBSan and LSan. `make check` runs
# them short; `make fuzz-engine` runs the protocol fuzzer for FUZZ_RUNS
# (a million by default). Usage: run.sh [RUNS]
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNS=${1:-20000}
T=$(mktemp -d /tmp/vmtop-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

# fuzz NAME SEEDS RUNS WHAT: run one fuzzer with a fixed seed (the same
# runs every time), its artifacts in $T; WHAT says what an input is.
fuzz() {
	fuzzer="$TOP/tests/fuzz/$1"
	if [ ! -x "$fuzzer" ]; then
		echo "not ok - $1: $fuzzer is not built (make check-build)"
		failed=$((failed + 1))
		return
	fi
	rm -rf "$T/corpus" "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-*
	mkdir "$T/corpus"
	cp "$TOP/tests/fuzz/$2"/* "$T/corpus/"
	if "$fuzzer" -seed=1 -runs="$3" -artifact_prefix="$T/" \
	    -print_final_stats=1 "$T/corpus" >"$T/log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log")
		cov=$(grep -o 'cov: [0-9]*' "$T/log" | tail -n 1)
		echo "ok - $1: ${runs:-?} inputs$4, clean ($cov)"
		passed=$((passed + 1))
		return
	fi
	grep -v '^#[0-9]' "$T/log" | head -n 60 | sed 's/^/#   /'
	for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-*; do
		[ -f "$a" ] && echo "# input: $(base64 -w0 "$a")"
	done
	echo "not ok - $1: a crash, leak or fd kept (above)"
	failed=$((failed + 1))
}

fuzz fuzz_engine_conns engine-conns-seeds "$RUNS" ", 4 clients each"
fuzz fuzz_sums sums-seeds "$RUNS" " (checksum files and catalogs)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
