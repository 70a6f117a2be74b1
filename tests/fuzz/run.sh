#!/bin/sh
# The fuzz suite: the multi-connection protocol fuzzer (fuzz_engine_conns)
# for a bounded number of inputs, from its seeds, under ASan, UBSan and
# LSan. `make check` runs it short; `make fuzz-engine` runs FUZZ_RUNS
# (a million by default). Usage: run.sh [RUNS]
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNS=${1:-20000}
FUZZER="$TOP/tests/fuzz/fuzz_engine_conns"
SEEDS="$TOP/tests/fuzz/engine-conns-seeds"

if [ ! -x "$FUZZER" ]; then
	echo "not ok - fuzz_engine_conns: $FUZZER is not built (make check-build)"
	echo "0 passed, 1 failed"
	exit 1
fi
T=$(mktemp -d /tmp/vmtop-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/corpus"
cp "$SEEDS"/* "$T/corpus/"
# A fixed seed: the same runs every time; the artifacts land in $T.
if "$FUZZER" -seed=1 -runs="$RUNS" -artifact_prefix="$T/" \
    -print_final_stats=1 "$T/corpus" >"$T.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T.log")
	cov=$(grep -o 'cov: [0-9]*' "$T.log" | tail -n 1)
	echo "ok - fuzz_engine_conns: ${runs:-?} inputs, 4 clients each, clean ($cov)"
	echo "1 passed, 0 failed"
	rm -f "$T.log"
	exit 0
fi
grep -v '^#[0-9]' "$T.log" | head -n 60 | sed 's/^/#   /'
for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-*; do
	[ -f "$a" ] && echo "# input: $(base64 -w0 "$a")"
done
echo "not ok - fuzz_engine_conns: a crash, leak or fd kept (above)"
echo "0 passed, 1 failed"
rm -f "$T.log"
exit 1
