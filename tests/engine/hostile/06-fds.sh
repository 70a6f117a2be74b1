# 6: idle connections. Each uid other than root gets at most
# limits.user_clients of them, everyone but root at most limits.clients
# less root's reserve; a client that never says hello is dropped; at the
# cap the engine stops listening until a slot frees, and when accept runs
# out of fds it backs off; the log says so once per interval.

# wait_for WHAT COMMAND...: poll until the command succeeds (2 minutes).
wait_for() {
	what=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 1200 ]; then
			echo "# gave up waiting: $what"
			return 1
		fi
		sleep 0.1
	done
}
# fds_back_to N: the engine holds N fds or fewer again.
fds_back_to() { [ "$(engine_fds)" -le "$1" ]; }
# hold_until_ready FILE UID N MODE: a holder in the background, once it
# has printed its first line.
hold_until_ready() {
	setpriv --reuid="$2" --regid="$2" --clear-groups \
	    "$RAW" "$SOCK" "$4" "$3" >"$1" 2>&1 &
	HOLDERS="$HOLDERS $!"
	wait_for "holder $2" test -s "$1"
}
kill_holders() {
	for p in $HOLDERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HOLDERS=
}

log06=$(wc -c <"$T/engine.log")
fds06=$(engine_fds)
HOLDERS=

# Thousands of connections from one uid: 64 get in, the rest are told why.
hold_until_ready "$T/hold.out" $HOSTILE_UID 3000 hold
check_out "06: one uid gets limits.user_clients connections" \
    "held 64 refused 2936" cat "$T/hold.out"
check_out "06: the others are refused, saying why" \
    "refusal: engine: connection refused: uid $HOSTILE_UID has 64 connections, the limit per user" \
    cat "$T/hold.out"
fds=$(engine_fds)
check "06: the engine's fds stay bounded ($fds, $fds06 before)" \
    test "$fds" -le $((fds06 + 64 + 4))
root_answers "06 (held)"
kill_holders
check "06: the connections close with the holder" \
    wait_for "engine fds back" fds_back_to $((fds06 + 2))
check_out "06: the uid is served again" nobodys hv status

# Connections that never say hello are dropped after limits.hello_timeout.
check_out "06: no hello, dropped" "all 64 dropped" \
    timeout 120 setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID \
    --clear-groups "$RAW" "$SOCK" holdraw 64
check "06: and their fds closed" \
    wait_for "engine fds back" fds_back_to $((fds06 + 2))

# Many uids together: everyone but root stops at limits.clients (1024)
# less root's reserve (16); root still gets in; at the cap the engine
# stops listening, and listens again when a connection closes.
for u in $(seq 60001 60015); do
	hold_until_ready "$T/hold.$u" $u 64 hold
done
check_out "06: 15 uids hold 960 connections" "held 64 refused 0" \
    cat "$T/hold.60015"
hold_until_ready "$T/hold.60016" 60016 64 hold
check_out "06: the next uid stops at the cap for users" \
    "held 48 refused 16" cat "$T/hold.60016"
check_out "06: saying so" "its limit for users other than root" \
    cat "$T/hold.60016"
root_answers "06 (1008 held)"
hold_until_ready "$T/hold.root" 0 16 hold
check_out "06: root gets its reserve" "held 16 refused 0" cat "$T/hold.root"
check "06: the engine holds 1024 connections" \
    test "$(engine_fds)" -ge $((fds06 + 1024))
"$VMTOP" -S "$SOCK" -c status >"$T/late.out" 2>&1 &
late=$!
# The engine is not listening: root's status waits in the backlog until
# a holder leaves and a slot frees.
first=$(echo $HOLDERS | cut -d' ' -f1)
kill "$first"; wait "$first" 2>/dev/null
if timeout 120 sh -c "while kill -0 $late 2>/dev/null; do sleep 0.1; done"; then
	wait $late
	check_out "06: a freed slot lets the waiting client in" roots \
	    cat "$T/late.out"
else
	not_ok "06: a freed slot lets the waiting client in (still waiting)"
	kill $late
fi
kill_holders
check "06: every connection closed" \
    wait_for "engine fds back" fds_back_to $((fds06 + 2))

# Out of fds: accept backs off instead of spinning, and says so once.
prlimit --pid "$ENGINE_PID" --nofile=$((fds06 + 4)):20000
cpu0=$(awk '{ print $14 + $15 }' "/proc/$ENGINE_PID/stat")
setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups \
    "$RAW" "$SOCK" hold 16 >"$T/hold.nofd" 2>&1 &
HOLDERS=$!
check "06: accept runs out of fds" wait_for "EMFILE in the log" \
    grep -q "accept: Too many open files" "$T/engine.log"
sleep 2
cpu1=$(awk '{ print $14 + $15 }' "/proc/$ENGINE_PID/stat")
check "06: out of fds, the engine does not spin ($((cpu1 - cpu0)) ticks)" \
    test $((cpu1 - cpu0)) -lt 50
prlimit --pid "$ENGINE_PID" --nofile=20000:20000
check "06: fds back, the waiting connections get in" \
    wait_for "holder served" grep -q "held 16 refused 0" "$T/hold.nofd"
n=$(grep -c "Too many open files" "$T/engine.log")
check "06: EMFILE logged once per interval ($n lines)" test "$n" -le 2
kill_holders
check "06: every connection closed" \
    wait_for "engine fds back" fds_back_to $((fds06 + 2))

log=$(( $(wc -c <"$T/engine.log") - log06 ))
check "06: the log grew by $log bytes" test "$log" -lt 8192
root_answers 06
