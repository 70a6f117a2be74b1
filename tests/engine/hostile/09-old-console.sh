# 9: a VM name another user owned before. Its console ring and log files
# are its owner's: a name that changes owners (an ad hoc VM dropped and
# started again by someone else, or a reload that gives it to another
# user) shows the new owner nothing the old one's guest wrote, and
# capture of another user's VM is refused.

LOGDIR09="$T/state/vmtop"
# gone09 VM: the engine no longer knows the VM.
gone09() { ! vt "status $1" >/dev/null 2>&1; }

check_fail "09: capture of root's vm is refused" \
    "vm roots: permission denied (not its owner)" hv capture roots

# An ad hoc VM of root's that fails is dropped; its log stays.
check "09: root starts an ad hoc vm that prints a secret, then crashes" \
    vt "start reused09 -k $T/kernel -a 'test=crash:1 say=root-secret-09'"
check "09: it is dropped once it failed" wait_for "09" gone09 reused09
check_out "09: root's log holds the secret" root-secret-09 \
    cat "$LOGDIR09/reused09.log"
check "09: the second uid starts a vm of that name" \
    hv "start reused09 -k $T/kernel -a 'test=run say=nobodys-line-09'"
check "09: and stops it" hv stop -w reused09
out=$(hv capture reused09 2>&1)
check_out "09: its capture has its own output" nobodys-line-09 \
    printf '%s\n' "$out"
check "09: and none of root's" \
    sh -c '! printf "%s\n" "$1" | grep -q root-secret-09' sh "$out"
check "09: nor does any log file of that name" \
    sh -c '! cat "$1"/reused09.log* | grep -q root-secret-09' sh "$LOGDIR09"
check "09: the log is the second uid's now" \
    test "$(stat -c %u "$LOGDIR09/reused09.log")" -eq $HOSTILE_UID

# A reload that gives root's configured VM to the second uid.
cp "$CONF" "$T/conf09"
printf 'vm "given09" { kernel "%s"; cmdline "test=run say=root-secret-09b" }\n' \
    "$T/kernel" >>"$CONF"
check "09: reload with a vm of root's" vt reload
check "09: root runs it" vt start given09
check "09: its console has the secret" \
    wait_for "09" sh -c '"$1" -S "$2" -c "capture given09" | grep -q root-secret-09b' \
    sh "$VMTOP" "$SOCK"
check "09: and stops it" vt stop -w given09
check_fail "09: the second uid may not capture it" \
    "vm given09: permission denied (not its owner)" hv capture given09
cp "$T/conf09" "$CONF"
printf 'vm "given09" { kernel "%s"; owner %d; cmdline "test=run" }\n' \
    "$T/kernel" $HOSTILE_UID >>"$CONF"
check "09: reload that gives it to the second uid" vt reload
out=$(hv capture given09 2>&1)
check "09: its capture has none of root's output ($out)" \
    sh -c '! printf "%s\n" "$1" | grep -q root-secret-09b' sh "$out"
check "09: the second uid starts it and stops it" \
    hv "start given09; stop -w given09"
out=$(hv capture given09 2>&1)
check_out "09: now its capture has its own output" "given09: booted" \
    printf '%s\n' "$out"
check "09: and still none of root's" \
    sh -c '! printf "%s\n" "$1" | grep -q root-secret-09b' sh "$out"
check "09: nor any log file of that name" \
    sh -c '! cat "$1"/given09.log* | grep -q root-secret-09b' sh "$LOGDIR09"
cp "$T/conf09" "$CONF"
check "09: reload without it" vt reload
root_answers "09"
