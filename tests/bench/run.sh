#!/bin/sh
# make bench: the engine's figures with 1000 VMs defined, side by side with
# the targets of issue 2 and with the floor of the same operation. A private
# engine runs with the test runner (tests/runner) standing in for vmtop-vm;
# tests/bench/vmtop-bench is the client that times the socket round trips,
# and also a runner whose guests fill their console as Linux does.
# Figures never fail the bench: it exits non-zero only when something broke
# (an engine that did not start, a missing reply, a start that failed).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/lib.sh"
BENCH="$TOP/tests/bench/vmtop-bench"
NVMS=1000		# VMs defined
NPIPE=100		# started at once over one connection
NBATCH=200		# started by one `vmtop -c 'start a; start b; ...'`
NSINGLE=50		# started by one `vmtop -c 'start a'` each
LIST_TARGET_MS=10	# engine CPU per list round trip
RSS_TARGET_MIB=16	# engine VmHWM

# The engine stops its VMs on SIGINT (stop_engine); their runners end.
cleanup() {
	trap - EXIT INT TERM HUP
	stop_engine
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

need_built "$VMTOP" "$TEST_RUNNER" "$BENCH"

# alive: give up if the engine is gone (a client would start another).
alive() { kill -0 "$ENGINE_PID" 2>/dev/null || broke "the engine died"; }
vb() { alive; vt "$@"; }
# kv LINE KEY: the value of KEY=value in a line of vmtop-bench output.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# calc EXPR: floating point arithmetic, one decimal unless told.
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now_ns() { date +%s%N; }
# status FIELD: VmRSS or VmHWM of the engine, in KiB.
status_kib() {
	sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$EPID/status"
}
nfds() { ls "/proc/$EPID/fd" | wc -l; }
# count STATE: how many VMs the engine reports in STATE.
count() { alive; vtj status 2>/dev/null | grep -c "\"state\":\"$1\""; }
# verdict VALUE LIMIT: "target met" when VALUE < LIMIT.
verdict() {
	awk "BEGIN { exit !($1 < $2) }" && echo "target met" ||
	    echo "target missed"
}
# list_target US, rss_target KIB: the target column of a row.
list_target() {
	echo "< $LIST_TARGET_MS ms: $(verdict "$1" $((LIST_TARGET_MS * 1000)))"
}
rss_target() {
	echo "< $RSS_TARGET_MIB MiB: $(verdict "$1" $((RSS_TARGET_MIB * 1024)))"
}
# bench ARGS...: run vmtop-bench against the engine, or give up.
bench() {
	out=$("$BENCH" "$SOCK" "$@") || broke "vmtop-bench $1 failed"
	printf '%s\n' "$out"
}
names() { awk -v a="$1" -v b="$2" -v p="$3" -v s="$4" \
    'BEGIN { for (i = a; i <= b; i++) printf "%sv%04d%s", p, i, s }'; }
# engine CONF: start a private engine on CONF and wait for its hello.
engine() {
	CONF=$1
	start_engine
	[ -S "$SOCK" ] || broke "the engine did not start"
	line=$(bench hello 5 0.1) || exit 1
	EPID=$(kv "$line" pid)
	[ -n "$EPID" ] && [ -r "/proc/$EPID/status" ] ||
	    broke "no engine pid from its hello"
}

rows=
# row FIGURE MEASURED [TARGET [FLOOR]]: one line of the table.
row() { rows="$rows$(printf '%-40s %-22s %-26s %s' "$1" "$2" "${3:--}" \
    "${4:-}")
"; }
mib() { calc "$1 / 1024"; }
ms() { calc "$1 / 1000" "${2:-2}"; }

touch "$T/kernel"
awk -v k="$T/kernel" -v n="$NVMS" 'BEGIN {
	printf "k = \"%s\"\n", k
	for (i = 1; i <= n; i++)
		printf "vm \"v%04d\" { kernel $k; cmdline \"test=run\" }\n", i
}' >"$T/vm.conf"
head -n 2 "$T/vm.conf" >"$T/one.conf"
echo "bench: $NVMS VMs, test runner, $(nproc) CPUs, $(uname -r)"

# The floor for memory: the same engine with one VM.
engine "$T/one.conf"
rss1=$(status_kib VmRSS)
stop_engine

engine "$T/vm.conf"
rss_idle=$(status_kib VmRSS); hwm_idle=$(status_kib VmHWM)

echo "bench: round trips"
hello=$(bench hello 100000 1) || exit 1
one=$(bench list 100000 1 v0500) || exit 1
all=$(bench list 3000 3) || exit 1
[ "$(kv "$all" vms)" = "$NVMS" ] || broke "list gave $(kv "$all" vms) VMs"
rss_list=$(status_kib VmRSS); hwm_list=$(status_kib VmHWM)
cpu=$(kv "$all" cpu_us)
row "list, $NVMS VMs: engine CPU" "$(ms "$cpu") ms" "$(list_target "$cpu")" \
    "list of 1 VM: $(ms "$(kv "$one" cpu_us)" 3) ms"
row "list, $NVMS VMs: round trip median" \
    "$(ms "$(kv "$all" median_us)") ms" "" \
    "list of 1 VM: $(ms "$(kv "$one" median_us)" 3) ms"
row "list, $NVMS VMs: round trip p95" "$(ms "$(kv "$all" p95_us)") ms" \
    "" "list of 1 VM: $(ms "$(kv "$one" p95_us)" 3) ms"
row "connect + hello: round trip median" \
    "$(ms "$(kv "$hello" median_us)" 3) ms" "" \
    "engine CPU $(ms "$(kv "$hello" cpu_us)" 3) ms"
row "engine RSS, $NVMS VMs, idle" \
    "$(mib "$rss_idle") MiB (HWM $(mib "$hwm_idle"))" \
    "$(rss_target "$hwm_idle")" \
    "1 VM: $(mib "$rss1") MiB"
row "engine RSS, $NVMS VMs, after the lists" \
    "$(mib "$rss_list") MiB (HWM $(mib "$hwm_list"))" \
    "$(rss_target "$hwm_list")"

echo "bench: starts"
fds_idle=$(nfds)
pipe=$(bench start $(names 1 "$NPIPE" "" " ")) || exit 1
[ "$(count running)" -eq "$NPIPE" ] || broke "$NPIPE VMs are not running"
rss_pipe=$(status_kib VmRSS); hwm_pipe=$(status_kib VmHWM); fds_pipe=$(nfds)
busy=$(bench list 1000 1) || exit 1
vb "stop -a -w" >/dev/null || broke "stop -a -w failed"

# At most NBATCH + NSINGLE run at once: 3 fds each fit a 1024-fd limit.
b=$((NPIPE + 1)); e=$((NPIPE + NBATCH))
t0=$(now_ns)
vb "$(names "$b" "$e" "start " "; ")" >/dev/null ||
    broke "batch start failed"
t1=$(now_ns)
batch_ms=$(calc "($t1 - $t0) / 1e6")

b=$((e + 1)); e=$((e + NSINGLE))
t0=$(now_ns)
for v in $(names "$b" "$e" "" " "); do
	vb "start $v" >/dev/null || broke "start $v failed"
done
t1=$(now_ns)
single_ms=$(calc "($t1 - $t0) / 1e6")
nrun=$((NBATCH + NSINGLE))
[ "$(count running)" -eq "$nrun" ] || broke "$nrun VMs are not running"
# The floor of one vmtop process: the cheapest request it can make.
t0=$(now_ns)
for v in $(names 1 "$NSINGLE" "" " "); do
	vb "status $v" >/dev/null || broke "status $v failed"
done
t1=$(now_ns)
status_ms=$(calc "($t1 - $t0) / 1e6")
rss_run=$(status_kib VmRSS); hwm_run=$(status_kib VmHWM); fds_run=$(nfds)

t0=$(now_ns)
vb "stop -a -w" >/dev/null || broke "stop -a -w failed"
t1=$(now_ns)
stop_ms=$(calc "($t1 - $t0) / 1e6")
[ "$(count stopped)" -eq "$NVMS" ] || broke "not every VM stopped"
rss_stop=$(status_kib VmRSS); hwm_stop=$(status_kib VmHWM); fds_stop=$(nfds)
nofile=$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "/proc/$EPID/limits")

row "starts/s, $NPIPE sent at once" "$(kv "$pipe" per_s)/s" "" \
    "engine CPU $(ms "$(kv "$pipe" cpu_us)") ms a start"
row "starts/s, $NBATCH in one vmtop -c" \
    "$(calc "$NBATCH * 1000 / $batch_ms" 0)/s" "" \
    "sent at once: $(kv "$pipe" per_s)/s"
row "starts/s, one vmtop -c each ($NSINGLE)" \
    "$(calc "$NSINGLE * 1000 / $single_ms" 0)/s" "" \
    "vmtop -c status: $(calc "$status_ms / $NSINGLE" 2) ms a process"
row "stops/s, stop -a -w ($nrun running)" \
    "$(calc "$nrun * 1000 / $stop_ms" 0)/s"
row "list, $NVMS VMs, $NPIPE running: CPU" \
    "$(ms "$(kv "$busy" cpu_us)") ms" "$(list_target "$(kv "$busy" cpu_us)")" \
    "median $(ms "$(kv "$busy" median_us)") ms"
row "engine RSS, $NPIPE running" \
    "$(mib "$rss_pipe") MiB (HWM $(mib "$hwm_pipe"))" \
    "$(rss_target "$hwm_pipe")" \
    "$fds_pipe fds open"
row "engine RSS, $nrun running" \
    "$(mib "$rss_run") MiB (HWM $(mib "$hwm_run"))" \
    "$(rss_target "$hwm_run")" \
    "$fds_run fds open"
row "engine RSS, all stopped again" \
    "$(mib "$rss_stop") MiB (HWM $(mib "$hwm_stop"))" "" \
    "$((NPIPE + nrun)) VMs have run"
fpv=$(calc "($fds_run - $fds_stop) / $nrun")
row "engine fds per running VM" "$fpv" "" \
    "limit ${nofile:-?}: $(calc "(${nofile:-0} - $fds_idle) / $fpv" 0) running"

# Every VM with an owner: a list then names each one's owner.
echo "bench: owners"
owner=$(id -un)
getent passwd nobody >/dev/null && owner=nobody
cp "$T/vm.conf" "$T/plain.conf"
sed "s/cmdline \"test=run\" }/cmdline \"test=run\"; owner $owner }/" \
    "$T/plain.conf" >"$T/vm.conf"
t0=$(now_ns)
vb reload >/dev/null || broke "reload failed"
t1=$(now_ns)
reload_ms=$(calc "($t1 - $t0) / 1e6")
owned=$(bench list 1000 2) || exit 1
row "list, $NVMS VMs with owner $owner: CPU" \
    "$(ms "$(kv "$owned" cpu_us)") ms" \
    "$(list_target "$(kv "$owned" cpu_us)")" \
    "p95 $(ms "$(kv "$owned" p95_us)") ms"
row "reload, $NVMS VMs changed" "$reload_ms ms" "" \
    "vmtop -c status: $(calc "$status_ms / $NSINGLE" 2) ms"
vb kill-engine >/dev/null 2>&1
stop_engine

# Guests that boot as Linux does: each fills its console capture.
echo "bench: noisy guests"
printf '#!/bin/sh\nexec "%s" - runner "$@"\n' "$BENCH" >"$T/noisy-runner"
chmod +x "$T/noisy-runner"
VMTOP_RUNNER="$T/noisy-runner"
engine "$T/plain.conf"
logs() { cat "$VMTOP_STATE_DIR"/*.log 2>/dev/null | wc -c; }
before=$(logs)
noisy=$(bench start $(names 1 "$nrun" "" " ")) || exit 1
i=0
while [ $(($(logs) - before)) -lt $((nrun * 65536)) ]; do
	[ $i -lt 100 ] || broke "the console output did not arrive"
	sleep 0.1; i=$((i + 1))
done
rss_noisy=$(status_kib VmRSS); hwm_noisy=$(status_kib VmHWM)
vb "stop -a -w" >/dev/null || broke "stop -a -w failed"
rss_nstop=$(status_kib VmRSS); hwm_nstop=$(status_kib VmHWM)
vb kill-engine >/dev/null 2>&1
stop_engine
VMTOP_RUNNER="$TEST_RUNNER"
row "engine RSS, $nrun running, 64 KiB console" \
    "$(mib "$rss_noisy") MiB (HWM $(mib "$hwm_noisy"))" \
    "$(rss_target "$hwm_noisy")" "quiet guests: $(mib "$rss_run") MiB"
row "engine RSS, they stopped" \
    "$(mib "$rss_nstop") MiB (HWM $(mib "$hwm_nstop"))" "" \
    "quiet guests: $(mib "$rss_stop") MiB"

echo
printf '%-40s %-22s %-26s %s\n' FIGURE MEASURED TARGET "FLOOR / PEER"
printf '%s' "$rows"
echo
echo "per VM: list $(calc "($(kv "$all" cpu_us) - $(kv "$one" cpu_us)) / \
($NVMS - 1)" 2) us of engine CPU, $(calc "$(kv "$all" bytes) / $NVMS" 0) \
bytes; $(calc "($rss_idle - $rss1) / ($NVMS - 1)" 2) KiB of RSS defined"
echo "runs: list $(kv "$all" n), list of 1 VM $(kv "$one" n), hello \
$(kv "$hello" n); engine CPU is utime+stime from /proc/PID/stat"
sh "$(dirname "$0")/vm.sh" || exit 1
sh "$(dirname "$0")/tui.sh" || exit 1
exit 0
