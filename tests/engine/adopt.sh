#!/bin/sh
# Adoption suite: runners outlive their engine. An engine is killed (or
# told to keep its VMs), the test runner's processes carry on, and the
# next engine finds each runner's socket in STATEDIR/runners, checks who
# listens on it and adopts it: same pids, states, restarts and console.
# Stale sockets, another uid's listener, a runner that dies while being
# adopted, two engines racing, guests that end while no engine runs, a
# changed config block and disk locks held by an orphaned runner.
# Sourced by tests/engine/run.sh (which gives it lib.sh) or run alone.
# Runners outlive engines, so every one this suite starts is found by the
# socket it holds under its folder and ended by the trap, also on failure.
command -v check >/dev/null 2>&1 || . "$(dirname "$0")/../lib.sh"
RAW="$TOP/tests/runner/vmtop-rawclient"
A="$T/adopt"
mkdir -p "$A"
chmod 755 "$A"
SOCK="$A/engine.sock"
CONF="$A/vm.conf"
VMTOP_STATE_DIR="$A/state"
export VMTOP_STATE_DIR
RUNNERS="$VMTOP_STATE_DIR/runners"
K="$A/kernel"
: >"$K"
: >>"$T/engine.log"
ENGINES=

# The VMs of every case; each case starts only its own.
{
	echo "k = \"$K\""
	for i in $(seq -w 1 20); do
		echo "vm \"c$i\" { kernel \$k; memory 64M; cmdline \"test=run ticker=1\" }"
	done
	echo 'vm "rb1" { kernel $k; cmdline "test=reboot:7" }'
	echo 'vm "gone2" { kernel $k; cmdline "test=run" }'
	echo 'vm "other3" { kernel $k; cmdline "test=run" }'
	echo 'vm "die4" { kernel $k; cmdline "test=dieonadopt" }'
	echo 'vm "peer4" { kernel $k; cmdline "test=run" }'
	for i in 1 2 3 4 5 6; do
		echo "vm \"race$i\" { kernel \$k; cmdline \"test=run\" }"
	done
	echo 'vm "keep6" { kernel $k; cmdline "test=run" }'
	echo 'vm "keep6b" { kernel $k; cmdline "test=run" }'
	echo 'vm "rb7" { kernel $k; cmdline "test=reboot:3" }'
	echo 'vm "po7" { kernel $k; cmdline "test=poweroff:3" }'
	echo 'vm "ch8" { kernel $k; memory 64M; cmdline "test=run" }'
	echo "vm \"dk9\" { kernel \$k; disk \"$A/disk9.img\"; cmdline \"test=run\" }"
	echo "vm \"dk9b\" { kernel \$k; disk \"$A/disk9.img\"; cmdline \"test=run\" }"
} >"$CONF"
truncate -s 1M "$A/disk9.img"

# alive PID: the process exists and is not a zombie.
alive() {
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "${s%% *}" != Z ]
}
# runner_pids [PATH]: the processes, engines aside, that hold a socket
# bound at PATH or under $A: an orphaned runner has no other tie to us.
runner_pids() {
	awk -v p="${1:-$A/}" -v exact="${1:+1}" 'NR > 1 && ($8 == p ||
	    (!exact && index($8, p) == 1)) { print $7 }' /proc/net/unix \
	    >"$A/inodes"
	find /proc/[0-9]*/fd -lname 'socket:*' -printf '%h %l\n' 2>/dev/null |
	    sed -n 's|^/proc/\([0-9]*\)/fd socket:\[\([0-9]*\)\]$|\2 \1|p' |
	    awk 'NR == FNR { want[$1]; next } $1 in want { print $2 }' \
	    "$A/inodes" - | sort -u | while read -r p; do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$VMTOP" ] ||
		    echo "$p"
	done
}
no_runners() { [ -z "$(runner_pids)" ]; }
gone() { ! alive "$1"; }
not() { ! "$@"; }
# restarts_at_least VM N, changed VM: its status says so.
restarts_at_least() { [ "$(field "$1" restarts)" -ge "$2" ] 2>/dev/null; }
changed() { [ $(($(field "$1" flags) & 16)) -ne 0 ]; }
# wait_until WHAT COMMAND...: poll until it succeeds (3 minutes at most,
# a bound that only catches what is stuck).
wait_until() {
	what=$1; shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge "${ADOPT_WAIT:-1800}" ] &&
		    { echo "# gave up waiting: $what"; return 1; }
		sleep 0.1
	done
}
# adopt_engine [SOCKET]: an engine in the foreground on SOCKET (ours by
# default), waited for until it answers; its pid joins ENGINES.
adopt_engine() {
	"$VMTOP" -D -S "${1:-$SOCK}" -f "$CONF" >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	ENGINES="$ENGINES $ENGINE_PID"
	wait_until "an engine on ${1:-$SOCK}" "$RAW" "${1:-$SOCK}" list
}
# crash_engine: SIGKILL the engine, as a crash or the OOM killer would.
crash_engine() {
	kill -9 "$ENGINE_PID" 2>/dev/null
	wait "$ENGINE_PID" 2>/dev/null
	ENGINE_PID=
}
# reap_engine WHAT: wait for the engine to exit (it was told to), then
# reap it; one that does not exit fails WHAT and is killed.
reap_engine() {
	if wait_until "the engine to exit" gone "$ENGINE_PID"; then
		ok "$1"
	else
		not_ok "$1"
		kill -9 "$ENGINE_PID" 2>/dev/null
	fi
	wait "$ENGINE_PID" 2>/dev/null
	ENGINE_PID=
}
# reap_all: the same for every engine of ENGINES, without a verdict.
reap_all() {
	for p in $ENGINES; do
		wait_until "engine $p to exit" gone "$p" || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ENGINES=
	ENGINE_PID=
}
# kill_all: end every engine and runner of this suite (the trap).
kill_all() {
	for p in $ENGINES $(pgrep -f -- "-S $A/" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	for p in $(runner_pids); do kill -9 "$p" 2>/dev/null; done
	for p in $ENGINES; do wait "$p" 2>/dev/null; done
	ENGINES=
	ENGINE_PID=
}
trap 'kill_all; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
# mark, since: what the engine logged from the mark on.
mark() { MARK=$(wc -c <"$T/engine.log"); }
since() { tail -c +$((MARK + 1)) "$T/engine.log"; }
# rows [SOCKET]: "NAME STATE PID RESTARTS FLAGS" of each VM, by name.
rows() {
	"$VMTOP" -S "${1:-$SOCK}" -j -c status 2>/dev/null | sed -n \
	    's/.*"name": *"\([^"]*\)", *"state": *"\([a-z]*\)".*"pid": *\([0-9]*\), *"restarts": *\([0-9]*\), *"flags": *\([0-9]*\).*/\1 \2 \3 \4 \5/p' |
	    sort
}
# field VM KEY: one number or word of the VM's status.
field() {
	vtj "status $1" 2>/dev/null |
	    sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\).*/\1/p"
}
# ticks VM: the numbers of the "tick N" lines in the VM's capture.
ticks() { vt "capture $1" 2>/dev/null | sed -n 's/.*tick \([0-9]*\).*/\1/p'; }
# ticks_from_one VM: its ticks run 1, 2, 3 ... with none missing.
ticks_from_one() {
	ticks "$1" | awk '$1 != NR { bad = 1 } END { exit bad || NR == 0 }'
}
# said VM TEXT: the VM's capture shows TEXT.
said() { vt "capture $1" 2>/dev/null | grep -q -- "$2"; }
# files_gone NAME: neither NAME.sock nor NAME.state is left.
files_gone() { [ ! -e "$RUNNERS/$1.sock" ] && [ ! -e "$RUNNERS/$1.state" ]; }
# stopped_with_runner VM PID: stopped (or failed) and its runner ended.
stopped_with_runner() {
	s=$(state "$1")
	[ "$s" = stopped ] || [ "$s" = failed ] || return 1
	! alive "$2"
}
# end_case N: kill-engine stops what is left; nothing of it remains.
end_case() {
	check "$1: kill-engine" vt kill-engine
	reap_all
	check "$1: no runner left" wait_until "runners of $1 to end" no_runners
	check_out "$1: no file left in runners/" "^0\$" \
	    sh -c "ls -A '$RUNNERS' 2>/dev/null | wc -l"
}

# 1: thirty VMs, config and ad hoc, some paused, and one that reboots now
# and then: SIGKILL the engine, the runners live on, the next engine
# lists each with its pid, state and restarts, and the console lines the
# guests printed while no engine ran are in its capture.
adopt_engine
starts=
for i in $(seq -w 1 20); do starts="$starts start c$i;"; done
for i in $(seq -w 1 10); do
	starts="$starts start a$i -k $K -m 32M -a 'test=run ticker=1';"
done
check "1: start 30 vms" vt "$starts start rb1"
check "1: pause five" vt "pause c01; pause c02; pause c03; pause a01; pause a02"
check "1: rb1 rebooted once" wait_until "rb1 to reboot" \
    restarts_at_least rb1 1
check "1: c10 ticks" wait_until "c10 to tick" said c10 "tick 2"
rows | awk '$2 != "stopped" && $2 != "failed"' >"$A/before1"
before_ticks=$(ticks c10 | tail -n 1)
check_out "1: 31 vms listed before" "^31\$" sh -c "wc -l <'$A/before1'"
check_out "1: 26 running, 5 paused before" "^26 5\$" awk \
    '$2 == "running" { r++ } $2 == "paused" { p++ } END { print r + 0, p + 0 }' \
    "$A/before1"
crash_engine
dead=0
for p in $(awk '{ print $3 }' "$A/before1"); do
	alive "$p" || dead=$((dead + 1))
done
[ "$dead" -eq 0 ] && ok "1: every runner outlives the SIGKILLed engine" ||
    not_ok "1: every runner outlives the SIGKILLed engine ($dead gone)"
check_out "1: each vm has its socket and state file" "^31 31\$" sh -c \
    "echo \$(ls '$RUNNERS' | grep -c '\\.sock\$') \$(ls '$RUNNERS' | grep -c '\\.state\$')"
# The guests print a tick a second while no engine runs.
sleep 3
adopt_engine
check "1: the new engine answers" vt status
rows | awk '$2 != "stopped" && $2 != "failed"' >"$A/after1"
# rb1 may reboot meanwhile: a new runner, one restart more.
grep -v '^rb1 ' "$A/before1" | cut -d' ' -f1-4 >"$A/want1"
grep -v '^rb1 ' "$A/after1" | cut -d' ' -f1-4 >"$A/got1"
check "1: same names, states, pids and restarts after adoption" \
    diff "$A/want1" "$A/got1"
check_out "1: every one adopted (VMINFO_ADOPTED)" "^30\$" awk \
    '$1 != "rb1" && int($5 / 8) % 2 == 1 { n++ } END { print n + 0 }' \
    "$A/after1"
r_before=$(awk '$1 == "rb1" { print $4 }' "$A/before1")
r_after=$(awk '$1 == "rb1" { print $4 }' "$A/after1")
[ -n "$r_after" ] && [ "$r_after" -ge "${r_before:-1}" ] &&
    ok "1: rb1's restarts kept ($r_before, now $r_after)" ||
    not_ok "1: rb1's restarts kept ($r_before, now $r_after)"
check_out "1: text status lists the paused ones" "^5\$" sh -c \
    "\"$VMTOP\" -S '$SOCK' -c status | grep -c ' paused '"
check_out "1: and the running ones" "^2[67]\$" sh -c \
    "\"$VMTOP\" -S '$SOCK' -c status | grep -c ' running '"
# What c10 printed while no engine ran came with its adoption, in order.
check "1: ticks printed with no engine are in the capture" wait_until \
    "c10's capture to go on past tick $((before_ticks + 3))" \
    said c10 "tick $((before_ticks + 3))"
check "1: c10's ticks run from 1 with none missing" ticks_from_one c10
check "1: so do a05's" ticks_from_one a05
check_out "1: the console log goes on" "tick $((before_ticks + 3))" \
    cat "$VMTOP_STATE_DIR/c10.log"
# What an engine does with its own VMs it does with adopted ones.
check "1: pause an adopted vm" vt pause c04
check_out "1: c04 paused" paused vt status c04
check "1: unpause one that was paused before" vt unpause c01
check_out "1: c01 running" running vt status c01
check "1: c01 still ticks after unpause" wait_until "c01 to tick on" \
    said c01 "tick 2"
pid11=$(field c11 pid)
check "1: stop an adopted vm and wait" vt stop c11 -w
check_out "1: c11 stopped" stopped vt status c11
check "1: its runner ended" wait_until "c11's runner to end" \
    gone $pid11
check "1: its files removed" wait_until "c11's files to go" files_gone c11
check "1: start it again under the new engine" vt start c11
check_out "1: c11 running again" running vt status c11
pida=$(field a03 pid)
check "1: stop an adopted ad hoc vm" vt stop a03 -w
check "1: its runner ended" wait_until "a03's runner to end" \
    gone $pida
end_case 1

# 2: a stale socket, whose runner was killed while no engine ran: the new
# engine removes its files, names it in its log and shows it stopped.
adopt_engine
check "2: start gone2 and c01" vt "start gone2; start c01"
pid2=$(field gone2 pid)
crash_engine
for p in $(runner_pids "$RUNNERS/gone2.sock"); do kill -9 "$p"; done
check "2: gone2's runner is gone" wait_until "gone2's runner to end" \
    gone $pid2
check "2: its socket stays behind" test -S "$RUNNERS/gone2.sock"
mark
adopt_engine
check_out "2: gone2 is stopped" '^stopped$' state gone2
check_out "2: not failed: no reason given" '^$' field gone2 reason
check_out "2: c01 is adopted beside it" running vt status c01
check "2: gone2's socket and state file are removed" files_gone gone2
check_out "2: the log names it" "gone2" since
check "2: gone2 starts again" vt start gone2
end_case 2

# 3: as root, a listener at runners/NAME.sock run by uid 65534 beside a
# real NAME.state: refused, not running, the log says why, left alone.
if [ "$(id -u)" -eq 0 ]; then
	adopt_engine
	check "3: start other3" vt start other3
	pid3=$(field other3 pid)
	crash_engine
	for p in $(runner_pids "$RUNNERS/other3.sock"); do kill -9 "$p"; done
	wait_until "other3's runner to end" \
	    gone $pid3
	rm -f "$RUNNERS/other3.sock"
	for kind in forge silent garbage; do
		"$RAW" "$RUNNERS/other3.sock" runner 65534 $kind \
		    >"$A/fake3.out" 2>&1 &
		fake3=$!
		check "3 ($kind): uid 65534 listens on other3.sock" wait_until \
		    "the fake runner" grep -q listening "$A/fake3.out"
		# the state file names it, with its start time (field 22)
		start3=$(sed 's/.*) //' "/proc/$fake3/stat" | cut -d' ' -f20)
		sed -i "s/^pid .*/pid $fake3/; s/^pid-start .*/pid-start $start3/" \
		    "$RUNNERS/other3.state"
		mark
		adopt_engine
		check "3 ($kind): the engine answers" timeout 60 "$VMTOP" -S "$SOCK" -c status
		s3=$(state other3)
		[ "$s3" != running ] && [ "$s3" != paused ] &&
		    ok "3 ($kind): other3 is not running ($s3)" ||
		    not_ok "3 ($kind): other3 is not running ($s3)"
		check_out "3 ($kind): the log names the vm and the uid" \
		    "other3.*65534\|65534.*other3" since
		check "3 ($kind): the listener is not killed" kill -0 $fake3
		check "3 ($kind): its files are left alone" test -S \
		    "$RUNNERS/other3.sock" -a -f "$RUNNERS/other3.state"
		check_fail "3 ($kind): other3 cannot start over it" "other3" \
		    vt start other3
		check "3 ($kind): kill-engine" vt kill-engine
		reap_all
		check "3 ($kind): the listener outlives kill-engine" kill -0 $fake3
		kill $fake3; wait $fake3 2>/dev/null
		rm -f "$RUNNERS/other3.sock"
	done
	rm -f "$RUNNERS/other3.state"
	check "3: nothing left" no_runners
fi

# 4: a runner that dies when an engine connects to adopt it: the engine
# does not hang, shows the VM stopped or failed and cleans up.
adopt_engine
check "4: start die4 and peer4" vt "start die4; start peer4"
pid4=$(field die4 pid)
crash_engine
adopt_engine
check "4: the engine answers" timeout 60 "$VMTOP" -S "$SOCK" -c status
check "4: die4 is not running and its runner is gone" wait_until \
    "die4 to end" stopped_with_runner die4 "$pid4"
check "4: its files are removed" wait_until "die4's files to go" files_gone die4
check_out "4: peer4 is adopted beside it" running vt status peer4
end_case 4

# 5: two engines, on two sockets, one state folder, started at once:
# each VM is running in exactly one of them.
adopt_engine
starts=
for i in 1 2 3 4 5 6; do starts="$starts start race$i;"; done
check "5: start six vms" vt "$starts"
rows | grep '^race' >"$A/before5"
crash_engine
"$VMTOP" -D -S "$A/e1.sock" -f "$CONF" >>"$T/engine.log" 2>&1 &
e1=$!
"$VMTOP" -D -S "$A/e2.sock" -f "$CONF" >>"$T/engine.log" 2>&1 &
e2=$!
ENGINES="$ENGINES $e1 $e2"
# the loser may refuse to start at all (the engine lock), or list them
# stopped; it must not answer before adoption is over
wait_until "one engine to answer" sh -c \
    "'$RAW' '$A/e1.sock' list || '$RAW' '$A/e2.sock' list"
wait_until "the other to answer or end" sh -c \
    "{ '$RAW' '$A/e1.sock' list || ! kill -0 $e1; } &&
    { '$RAW' '$A/e2.sock' list || ! kill -0 $e2; }"
{ rows "$A/e1.sock"; rows "$A/e2.sock"; } | awk '$2 == "running" ||
    $2 == "paused" { n[$1]++ } END { for (v in n) print v, n[v] }' |
    sort >"$A/count5"
printf '%s 1\n' race1 race2 race3 race4 race5 race6 >"$A/want5"
check "5: each vm runs in exactly one engine" diff "$A/want5" "$A/count5"
cut -d' ' -f1,3 "$A/before5" >"$A/pids5"
{ rows "$A/e1.sock"; rows "$A/e2.sock"; } |
    awk '$2 == "running" { print $1, $3 }' | sort >"$A/got5"
check "5: with the pid it had" diff "$A/pids5" "$A/got5"
# the loser first, so the winner's kill-engine stops the VMs
for e in 1 2; do
	if "$RAW" "$A/e$e.sock" list >/dev/null 2>&1 &&
	    [ -z "$(rows "$A/e$e.sock" | awk '$2 == "running"')" ]; then
		"$VMTOP" -S "$A/e$e.sock" -c kill-engine >/dev/null 2>&1
	fi
done
for e in 1 2; do
	"$RAW" "$A/e$e.sock" list >/dev/null 2>&1 &&
	    SOCK="$A/e$e.sock" check "5: kill-engine the winner" \
	    "$VMTOP" -S "$A/e$e.sock" -c kill-engine
done
reap_all
check "5: no runner left" wait_until "race runners to end" no_runners
check_out "5: no file left in runners/" "^0\$" \
    sh -c "ls -A '$RUNNERS' 2>/dev/null | wc -l"

# 6: kill-engine -k and SIGTERM leave the runners for the next engine;
# SIGINT and a plain kill-engine stop them.
adopt_engine
check "6: start keep6 and keep6b" vt "start keep6; start keep6b; pause keep6b"
rows | grep '^keep6' | cut -d' ' -f1-4 >"$A/before6"
check "6: kill-engine -k" vt kill-engine -k
reap_engine "6: the engine exits after kill-engine -k"
for p in $(awk '{ print $3 }' "$A/before6"); do
	check "6: runner $p outlives kill-engine -k" alive "$p"
done
check "6: their state files are kept" test -f "$RUNNERS/keep6.state" -a \
    -f "$RUNNERS/keep6b.state"
adopt_engine
rows | grep '^keep6' | cut -d' ' -f1-4 >"$A/after6"
check "6: adopted after kill-engine -k" diff "$A/before6" "$A/after6"
kill -TERM "$ENGINE_PID"
reap_engine "6: the engine exits on SIGTERM"
for p in $(awk '{ print $3 }' "$A/before6"); do
	check "6: runner $p outlives SIGTERM" alive "$p"
done
adopt_engine
rows | grep '^keep6' | cut -d' ' -f1-4 >"$A/after6"
check "6: adopted after SIGTERM" diff "$A/before6" "$A/after6"
kill -INT "$ENGINE_PID"
reap_engine "6: the engine exits on SIGINT"
ENGINES=
for p in $(awk '{ print $3 }' "$A/before6"); do
	check "6: SIGINT ends runner $p" wait_until "runner $p to end" \
	    gone $p
done
check "6: SIGINT leaves no file in runners/" wait_until "runners/ to empty" \
    sh -c "[ -z \"\$(ls -A '$RUNNERS')\" ]"
adopt_engine
check "6: start keep6 again" vt start keep6
end_case 6

# 7: guests that end while no engine runs: one that reboots runs again
# once adopted, one restart more; one that powers off is stopped.
adopt_engine
check "7: start rb7 and po7" vt "start rb7; start po7"
rows | grep '^rb7\|^po7' >"$A/before7"
pid7=$(awk '$1 == "po7" { print $3 }' "$A/before7")
crash_engine
# both end three seconds after they became ready; their runners wait
sleep 5
adopt_engine
check "7: po7 is stopped after adoption" wait_until "po7 to stop" \
    stopped_with_runner po7 "$pid7"
check_out "7: po7 did not fail" '^stopped$' state po7
check "7: rb7 runs again, one restart more" wait_until "rb7 to restart" \
    restarts_at_least rb7 1
check_out "7: rb7 is running" running vt status rb7
check "7: in a new runner" sh -c "[ '$(field rb7 pid)' != \
    '$(awk '$1 == "rb7" { print $3 }' "$A/before7")' ]"
check "7: po7's files are removed" files_gone po7
end_case 7

# 8: a config block that changed while no engine ran: the VM keeps what
# it was started with, and show says a restart applies the change.
adopt_engine
check "8: start ch8" vt start ch8
pid8=$(field ch8 pid)
crash_engine
sed -i 's/^vm "ch8" { kernel $k; memory 64M;/vm "ch8" { kernel $k; memory 128M;/' "$CONF"
check_out "8: the config says 128M now" 'vm "ch8" { kernel $k; memory 128M' cat "$CONF"
adopt_engine
check_out "8: ch8 is running" running vt status ch8
check_out "8: with its pid" "^$pid8\$" field ch8 pid
check_out "8: and its old memory" "^67108864\$" field ch8 memory
check_out "8: show says a restart applies the change" \
    "config changed: a restart applies it" vt show ch8
check "8: its status flags say changed (VMINFO_CHANGED)" changed ch8
check_out "8: show --json says changed" '"changed": *true' vtj show ch8
check "8: restart ch8" vt restart ch8 -f
check "8: running again" wait_state ch8 running 1800
check_out "8: with the new memory" "^134217728\$" field ch8 memory
check "8: no longer changed" not changed ch8
sed -i 's/^vm "ch8" { kernel $k; memory 128M;/vm "ch8" { kernel $k; memory 64M;/' "$CONF"
end_case 8

# 9: an orphaned runner keeps its disk locked: an engine of another state
# folder (which adopts nothing) cannot start the disk under another name.
adopt_engine
check "9: start dk9" vt start dk9
crash_engine
OTHER9="$A/other9"
mkdir -p "$OTHER9"
VMTOP_STATE_DIR="$OTHER9"
adopt_engine "$A/e9.sock"
VMTOP_STATE_DIR="$A/state"
check_fail "9: dk9b on the same disk fails, naming it" "$A/disk9.img" \
    "$VMTOP" -S "$A/e9.sock" -c "start dk9b"
check_out "9: dk9b is not running" "failed\|stopped" \
    "$VMTOP" -S "$A/e9.sock" -c "status dk9b"
check "9: the other engine ends" "$VMTOP" -S "$A/e9.sock" -c kill-engine
reap_engine "9: it exits"
adopt_engine
check_out "9: dk9 adopted by an engine of its folder" running vt status dk9
check_fail "9: dk9b fails there too" "disk9.img\|dk9" vt start dk9b
end_case 9

trap - EXIT INT TERM HUP
kill_all
SOCK="$T/run/engine.sock"
CONF="$T/vm.conf"
VMTOP_STATE_DIR="$T/state/vmtop"
ENGINE_PID=
case "$0" in
*adopt.sh) finish ;;
esac
