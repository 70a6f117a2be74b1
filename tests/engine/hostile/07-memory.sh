# 7: memory. Waits and subscriptions per client are bounded, a client
# that does not read is dropped, and a status of any number of VMs
# reaches a client that reads it.

hv start nobodys >/dev/null 2>&1
check_out "07: nobodys runs" running hv status nobodys
fds07=$(engine_fds)

# 100000 pipelined waits, never read: past limits.waiters each is refused,
# and the refusals that pile up unread get the client dropped.
timeout 300 setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups \
    "$RAW" "$SOCK" waits 100000 nobodys >"$T/waits.out" 2>&1
check_out "07: 100000 pipelined waits: dropped" "dropped after" \
    cat "$T/waits.out"
check_out "07: the waits past the limit are refused, saying why" \
    "wait: refused: this connection has 256 requests waiting, the limit" \
    cat "$T/waits.out"
check_out "07: the engine says why it dropped the client" \
    "dropping client pid [0-9]* uid $HOSTILE_UID: it does not read" \
    cat "$T/engine.log"
rss=$(engine_rss_kb)
check "07: engine RSS after the waits: $rss KiB" test "$rss" -lt 65536
root_answers "07 (waits)"

# 300 subscribers that never read: 8 subscriptions per user, and a
# subscriber that leaves its updates unread is dropped.
raw_as $HOSTILE_UID "$T/subs.out" subscribe 300
check_out "07: 8 subscriptions per user" "subscribed 8 refused 292" \
    cat "$T/subs.out"
check_out "07: the others are refused, saying why" \
    "subscribe: refused: uid $HOSTILE_UID has 8 subscriptions, the limit per user" \
    cat "$T/subs.out"
rss=$(engine_rss_kb)
check "07: engine RSS with the subscribers: $rss KiB" test "$rss" -lt 65536
root_answers "07 (subscribers)"
check "07: subscribers that do not read are dropped" \
    wait_for "a dropped subscriber" grep -q "has not read its" \
    "$T/engine.log"
rss=$(engine_rss_kb)
check "07: engine RSS after them: $rss KiB" test "$rss" -lt 65536
raw_kill
check "07: their connections close" \
    wait_for "engine fds back" fds_at_most $((fds07 + 1))
raw_as $HOSTILE_UID "$T/sub1.out" subscribe 1
check_out "07: the uid may subscribe again" "subscribed 1 refused 0" \
    cat "$T/sub1.out"
raw_kill

# A status of 20000 VMs reaches root's client in full, a chunk at a time
# (a second engine with a config of 20000 vm blocks and a state folder of
# its own, so it has no runner of the first one to adopt).
awk -v k="$T/kernel" 'BEGIN { for (i = 1; i <= 20000; i++)
    printf "vm \"big%d\" { kernel \"%s\" }\n", i, k }' >"$T/big.conf"
VMTOP_STATE_DIR="$T/big-state" "$VMTOP" -D -S "$T/big.sock" -f "$T/big.conf" >>"$T/big.log" 2>&1 &
big=$!
wait_for "the second engine" test -S "$T/big.sock"
timeout 300 "$VMTOP" -S "$T/big.sock" -c status >"$T/big.out" 2>&1
n=$(grep -c ' big[0-9]* *stopped ' "$T/big.out")
check "07: a status of 20000 vms lists them all ($n)" test "$n" -eq 20000
check_out "07: and the raw list has them all" "listed 20000" \
    timeout 300 "$RAW" "$T/big.sock" list
check_out "07: a client that asks for them and does not read is dropped" \
    dropped timeout 300 "$RAW" "$T/big.sock" listnoread
check_out "07: saying so" "dropping client pid [0-9]* uid 0: it has not read its reply" \
    cat "$T/big.log"
kill $big; wait $big 2>/dev/null
root_answers 07
