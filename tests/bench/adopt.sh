#!/bin/sh
# make bench: adoption. A private engine starts BENCH_ADOPT (100) VMs of
# the test runner and is SIGKILLed; a new engine on the same state folder
# adopts every runner. Measured: the time from the new engine's start to
# a `status` that lists all of them running, and its RSS then, beside the
# RSS of the engine that started them. Figures never fail the bench: it
# exits non-zero only when something broke.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/lib.sh"
RAW="$TOP/tests/runner/vmtop-rawclient"
NADOPT=${BENCH_ADOPT:-100}
ADOPT_TARGET_MS=1000

# Runners outlive their engine: end the last engine with its VMs, and any
# runner still holding a socket in our state folder.
cleanup() {
	trap - EXIT INT TERM HUP
	[ -n "$ENGINE_PID" ] && kill -INT "$ENGINE_PID" 2>/dev/null &&
	    wait "$ENGINE_PID" 2>/dev/null
	awk -v p="$VMTOP_STATE_DIR/runners/" 'NR > 1 && index($8, p) == 1 {
	    print $7 }' /proc/net/unix >"$T/inodes" 2>/dev/null
	find /proc/[0-9]*/fd -lname 'socket:*' -printf '%h %l\n' 2>/dev/null |
	    sed -n 's|^/proc/\([0-9]*\)/fd socket:\[\([0-9]*\)\]$|\2 \1|p' |
	    awk 'NR == FNR { want[$1]; next } $1 in want { print $2 }' \
	    "$T/inodes" - | sort -u | while read -r p; do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

need_built "$VMTOP" "$TEST_RUNNER" "$RAW"

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
mib() { calc "$1 / 1024"; }
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$ENGINE_PID/status"; }
now_ns() { date +%s%N; }
running() {
	"$VMTOP" -S "$SOCK" -j -c status 2>/dev/null | grep -c '"state": *"running"'
}
verdict() {
	awk "BEGIN { exit !($1 < $2) }" && echo "target met" ||
	    echo "target missed"
}
# engine: one in the foreground, waited for until it answers.
engine() {
	"$VMTOP" -D -S "$SOCK" -f "$CONF" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	i=0
	until "$RAW" "$SOCK" list >/dev/null 2>&1; do
		kill -0 "$ENGINE_PID" 2>/dev/null || broke "the engine died"
		[ $i -lt 600 ] || broke "the engine did not answer"
		sleep 0.1; i=$((i + 1))
	done
}

touch "$T/kernel"
awk -v n="$NADOPT" -v k="$T/kernel" 'BEGIN { for (i = 1; i <= n; i++)
    printf "vm \"a%03d\" { kernel \"%s\"; memory 64M; cmdline \"test=run\" }\n",
    i, k }' >"$CONF"
engine
starts=$(awk -v n="$NADOPT" 'BEGIN { for (i = 1; i <= n; i++)
    printf "start a%03d; ", i }')
vt "$starts" >/dev/null || broke "the $NADOPT VMs did not start"
[ "$(running)" -eq "$NADOPT" ] || broke "not all $NADOPT VMs run"
rss_start=$(kib VmRSS)
hwm_start=$(kib VmHWM)
kill -9 "$ENGINE_PID"; wait "$ENGINE_PID" 2>/dev/null

t0=$(now_ns)
"$VMTOP" -D -S "$SOCK" -f "$CONF" >>"$T/engine.log" 2>&1 &
ENGINE_PID=$!
n=0
i=0
# as fast as a client can ask: each status is its own process
until [ "$n" -eq "$NADOPT" ]; do
	kill -0 "$ENGINE_PID" 2>/dev/null || broke "the adopting engine died"
	[ $i -lt 100000 ] || broke "only $n of $NADOPT VMs adopted"
	n=$(running)
	i=$((i + 1))
done
t1=$(now_ns)
rss_adopt=$(kib VmRSS)
hwm_adopt=$(kib VmHWM)
ms=$(calc "($t1 - $t0) / 1000000")
"$VMTOP" -S "$SOCK" -c kill-engine >/dev/null 2>&1 ||
    broke "kill-engine after adoption failed"
wait "$ENGINE_PID" 2>/dev/null
ENGINE_PID=

echo
printf '%-40s %-22s %-26s %s\n' FIGURE MEASURED TARGET "FLOOR / PEER"
printf '%-40s %-22s %-26s %s\n' "adopt $NADOPT running VMs (start to status)" \
    "$ms ms" "< $ADOPT_TARGET_MS ms: $(verdict "$ms" $ADOPT_TARGET_MS)" \
    "$i status runs"
printf '%-40s %-22s %-26s %s\n' "engine RSS, $NADOPT adopted" \
    "$(mib "$rss_adopt") MiB (HWM $(mib "$hwm_adopt"))" \
    "the starter's: $(verdict "$rss_adopt" $((rss_start + 1)))" \
    "starter: $(mib "$rss_start") MiB (HWM $(mib "$hwm_start"))"
exit 0
