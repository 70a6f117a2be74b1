#!/bin/sh
# make bench: a root engine under a hostile local user. A root engine runs
# with the test runner standing in for vmtop-vm and a few VMs running;
# its RSS and root's `status` latency are measured idle, then while other
# uids hold every connection they can get: BENCH_SUBS (1000) subscribers
# that never read (8 per uid from BENCH_SUB_UIDS uids), and uid 65534
# opening BENCH_CONNS (10000) connections that say hello and then
# nothing (those beyond the limits are refused by the engine, which tells
# them why). Latency is that of `vmtop -c status` as root, BENCH_STATUS
# (200) runs one after another, each its own process (connect, hello,
# list, exit), and that of a list round trip on one open connection.
# Idle and hostile figures are printed side by side with the targets (RSS
# < 64 MiB, latency < 50 ms); figures never fail the bench: it exits
# non-zero only when something broke. It needs root (a second uid).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/lib.sh"
BENCH="$TOP/tests/bench/vmtop-bench"
RAW="$TOP/tests/runner/vmtop-rawclient"
BENCH_CONNS=${BENCH_CONNS:-10000}
BENCH_SUBS=${BENCH_SUBS:-1000}
BENCH_STATUS=${BENCH_STATUS:-200}
SUBS_PER_UID=8			# limits.subscribers, the default
HOSTILE_UID=65534
RSS_TARGET_MIB=64
LATENCY_TARGET_MS=50
HOLDERS=

cleanup() {
	trap - EXIT INT TERM HUP
	for p in $HOLDERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	stop_engine
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: engine under a hostile user: skipped (it needs root)"
	exit 0
fi
need_built "$VMTOP" "$TEST_RUNNER" "$BENCH" "$RAW"

alive() { kill -0 "$ENGINE_PID" 2>/dev/null || broke "the engine died"; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$ENGINE_PID/status"; }
nfds() { ls "/proc/$ENGINE_PID/fd" | wc -l; }
mib() { calc "$1 / 1024"; }
verdict() {
	awk "BEGIN { exit !($1 < $2) }" && echo "target met" ||
	    echo "target missed"
}
# as UID COMMAND...: run a command as uid (and gid) UID, no groups, with
# room for the fds it holds.
as() {
	u=$1; shift
	prlimit --nofile=$((BENCH_CONNS + 64)) setpriv --reuid="$u" \
	    --regid="$u" --clear-groups "$@"
}
# wait_line FILE: until a holder has printed its first line (2 minutes).
wait_line() {
	i=0
	while [ ! -s "$1" ]; do
		alive
		[ $i -lt 1200 ] || broke "no word from the holder ($1)"
		sleep 0.1; i=$((i + 1))
	done
}
# status_latency: median and p99, in ms, of BENCH_STATUS `vmtop -c status`
# run as root one after another: "median p99".
status_latency() {
	: >"$T/lat"
	i=0
	while [ $i -lt "$BENCH_STATUS" ]; do
		alive
		t0=$(date +%s%N)
		"$VMTOP" -S "$SOCK" -c status >/dev/null 2>&1 ||
		    broke "root's status failed"
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$T/lat"
		i=$((i + 1))
	done
	sort -n "$T/lat" | awk '{ v[NR] = $1 } END {
		p = int((NR * 99 + 99) / 100)
		printf "%.2f %.2f", v[int((NR + 1) / 2)] / 1e6, v[p] / 1e6 }'
}
# measure NAME: the engine's figures now, as NAME_rss, NAME_hwm, ...
measure() {
	lat=$(status_latency)
	rt=$("$BENCH" "$SOCK" list "$BENCH_STATUS" 30) ||
	    broke "vmtop-bench list failed"
	eval "$1_med=\${lat% *} $1_p99=\${lat#* }"
	eval "$1_rtmed=\$(calc \"\$(kv \"\$rt\" median_us) / 1000\" 2)"
	eval "$1_rtp99=\$(calc \"\$(kv \"\$rt\" p99_us) / 1000\" 2)"
	eval "$1_rss=\$(kib VmRSS) $1_hwm=\$(kib VmHWM) $1_fds=\$(nfds)"
}

touch "$T/kernel"
chmod 755 "$T"
{
	echo "k = \"$T/kernel\""
	for v in roots web db build spare; do
		echo "vm \"$v\" { kernel \$k; cmdline \"test=run\" }"
	done
} >"$CONF"
start_engine
[ -S "$SOCK" ] || broke "the engine did not start"
vt "start roots; start web; start db; start build" >/dev/null ||
    broke "the VMs did not start"
running=$(vtj status | grep -c '"state":"running"')
echo "bench: engine under a hostile user: $running of 5 VMs running," \
    "test runner, $(nproc) CPUs, $(uname -r)"

measure idle

# The subscribers first: they would take the room the holders leave.
nuids=$(( (BENCH_SUBS + SUBS_PER_UID - 1) / SUBS_PER_UID ))
u=0
while [ $u -lt $nuids ]; do
	n=$SUBS_PER_UID
	[ $(( (u + 1) * SUBS_PER_UID )) -le "$BENCH_SUBS" ] ||
	    n=$((BENCH_SUBS - u * SUBS_PER_UID))
	as $((61001 + u)) "$RAW" "$SOCK" subscribe "$n" >"$T/sub.$u" 2>&1 &
	HOLDERS="$HOLDERS $!"
	wait_line "$T/sub.$u"
	u=$((u + 1))
done
subscribed=$(cat "$T"/sub.* | sed -n 's/^subscribed \([0-9]*\) .*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }')
as $HOSTILE_UID "$RAW" "$SOCK" hold "$BENCH_CONNS" >"$T/hold" 2>&1 &
HOLDERS="$HOLDERS $!"
wait_line "$T/hold"
held=$(sed -n 's/^held \([0-9]*\) .*/\1/p' "$T/hold")
refused=$(sed -n 's/^held [0-9]* refused \([0-9]*\)/\1/p' "$T/hold")
refusal=$(sed -n 's/^refusal: //p' "$T/hold")
echo "bench: $subscribed of $BENCH_SUBS subscribers that never read" \
    "($nuids uids); uid $HOSTILE_UID: $BENCH_CONNS connections, $held held," \
    "$refused refused"
[ -z "$refusal" ] || echo "bench: refused with: $refusal"
# The subscriptions' updates pile up while nobody reads them.
sleep 5
measure hostile

rows=
row() { rows="$rows$(printf '%-34s %-16s %-16s %s' "$1" "$2" "$3" "$4")
"; }
row "engine RSS" "$(mib "$idle_rss") MiB" "$(mib "$hostile_rss") MiB" \
    "< $RSS_TARGET_MIB MiB: $(verdict "$hostile_rss" $((RSS_TARGET_MIB * 1024)))"
row "engine RSS high-water mark" "$(mib "$idle_hwm") MiB" \
    "$(mib "$hostile_hwm") MiB" \
    "< $RSS_TARGET_MIB MiB: $(verdict "$hostile_hwm" $((RSS_TARGET_MIB * 1024)))"
row "root's vmtop -c status, median" "$idle_med ms" "$hostile_med ms" \
    "< $LATENCY_TARGET_MS ms: $(verdict "$hostile_med" $LATENCY_TARGET_MS)"
row "root's vmtop -c status, p99" "$idle_p99 ms" "$hostile_p99 ms" \
    "< $LATENCY_TARGET_MS ms: $(verdict "$hostile_p99" $LATENCY_TARGET_MS)"
row "list round trip, median" "$idle_rtmed ms" "$hostile_rtmed ms" \
    "< $LATENCY_TARGET_MS ms: $(verdict "$hostile_rtmed" $LATENCY_TARGET_MS)"
row "list round trip, p99" "$idle_rtp99 ms" "$hostile_rtp99 ms" \
    "< $LATENCY_TARGET_MS ms: $(verdict "$hostile_rtp99" $LATENCY_TARGET_MS)"
row "engine fds" "$idle_fds" "$hostile_fds" ""

echo
printf '%-34s %-16s %-16s %s\n' FIGURE IDLE HOSTILE TARGET
printf '%s' "$rows"
echo "($BENCH_STATUS runs each; hostile: $subscribed non-reading" \
    "subscribers and $held of $BENCH_CONNS connections of uid $HOSTILE_UID" \
    "held by the engine)"
exit 0
