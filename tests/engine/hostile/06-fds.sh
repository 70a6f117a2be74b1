# 6: idle connections. Each uid other than root gets at most
# limits.user_clients of them, everyone but root at most limits.clients,
# root a reserve beyond that; a client that never says hello is dropped; at the
# cap the engine stops listening until a slot frees, and when accept runs
# out of fds it backs off; the log says so once per interval.

log06=$(wc -c <"$T/engine.log")
fds06=$(engine_fds)

# Thousands of connections from one uid: 64 get in, the rest are told why.
raw_as $HOSTILE_UID "$T/hold.out" hold 3000
check_out "06: one uid gets limits.user_clients connections" \
    "held 64 refused 2936" cat "$T/hold.out"
check_out "06: the others are refused, saying why" \
    "refusal: engine: connection refused: uid $HOSTILE_UID has 64 connections, the limit per user" \
    cat "$T/hold.out"
fds=$(engine_fds)
check "06: the engine's fds stay bounded ($fds, $fds06 before)" \
    test "$fds" -le $((fds06 + 64 + 4))
root_answers "06 (held)"
raw_kill
check "06: the connections close with the holder" \
    wait_for "engine fds back" fds_at_most $((fds06 + 2))
check_out "06: the uid is served again" nobodys hv status

# Connections that never say hello are dropped after limits.hello_timeout.
check_out "06: no hello, dropped" "all 64 dropped" \
    timeout 120 setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID \
    --clear-groups "$RAW" "$SOCK" holdraw 64
check "06: and their fds closed" \
    wait_for "engine fds back" fds_at_most $((fds06 + 2))

# Many uids together: everyone but root stops at limits.clients (1024);
# root still gets its reserve of 16 beyond it; with all 1040 taken the
# engine stops listening, and listens again when a connection closes.
for u in $(seq 60001 60016); do
	raw_as $u "$T/hold.$u" hold 64
done
check_out "06: 16 uids hold 1024 connections" "held 64 refused 0" \
    cat "$T/hold.60016"
raw_as 60017 "$T/hold.60017" hold 16
check_out "06: the next uid is refused at the cap for users" \
    "held 0 refused 16" cat "$T/hold.60017"
check_out "06: saying so" "its limit for users other than root" \
    cat "$T/hold.60017"
root_answers "06 (1024 held)"
raw_as 0 "$T/hold.root" hold 16
check_out "06: root gets its reserve" "held 16 refused 0" cat "$T/hold.root"
check "06: the engine holds 1040 connections" \
    test "$(engine_fds)" -ge $((fds06 + 1040))
"$VMTOP" -S "$SOCK" -c status >"$T/late.out" 2>&1 &
late=$!
# The engine is not listening: root's status waits in the backlog until
# a holder leaves and a slot frees.
first=$(echo $RAW_PIDS | cut -d' ' -f1)
kill "$first"; wait "$first" 2>/dev/null
if timeout 120 sh -c "while kill -0 $late 2>/dev/null; do sleep 0.1; done"; then
	wait $late
	check_out "06: a freed slot lets the waiting client in" roots \
	    cat "$T/late.out"
else
	not_ok "06: a freed slot lets the waiting client in (still waiting)"
	kill $late
fi
raw_kill
check "06: every connection closed" \
    wait_for "engine fds back" fds_at_most $((fds06 + 2))

# Out of fds: accept backs off instead of spinning, and says so once.
prlimit --pid "$ENGINE_PID" --nofile=$((fds06 + 4)):20000
cpu0=$(awk '{ print $14 + $15 }' "/proc/$ENGINE_PID/stat")
raw_bg $HOSTILE_UID "$T/hold.nofd" hold 16
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
raw_kill
check "06: every connection closed" \
    wait_for "engine fds back" fds_at_most $((fds06 + 2))

# The figures come from vm.conf: smaller ones, reloaded, hold for the
# connections that follow.
cp "$CONF" "$T/conf.06"
printf 'limit clients 4 per-user 2\nlimit hello-timeout 1\n' >>"$CONF"
check "06: reload with smaller limits" vt reload
raw_as $HOSTILE_UID "$T/hold.small" hold 5
check_out "06: limit clients per-user from vm.conf" "held 2 refused 3" \
    cat "$T/hold.small"
raw_as 60001 "$T/hold.small2" hold 5
check_out "06: limit clients from vm.conf" "held 2 refused 3" \
    cat "$T/hold.small2"
check_out "06: saying which limit" "its limit for users other than root" \
    cat "$T/hold.small2"
root_answers "06 (small limits)"
raw_kill
check "06: every connection closed" \
    wait_for "engine fds back" fds_at_most $((fds06 + 2))
check_out "06: limit hello-timeout from vm.conf" "all 2 dropped" \
    timeout 120 setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID \
    --clear-groups "$RAW" "$SOCK" holdraw 2
cp "$T/conf.06" "$CONF"
check "06: reload with the usual limits" vt reload

log=$(( $(wc -c <"$T/engine.log") - log06 ))
check "06: the log grew by $log bytes" test "$log" -lt 8192
root_answers 06
