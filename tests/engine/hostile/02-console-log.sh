# 2: a guest that writes without end to its console. The console log is
# rotated at console_log_size into NAME.log.1 .. NAME.log.KEEP (1 MiB x 2
# by default), so it never takes more than size x (keep + 1); the files
# are 0600, the owner's, and the newest lines are in NAME.log.

LOGDIR02="$T/state/vmtop"
# log_has_last VM: NAME.log ends with the last line the VM prints.
log_has_last() {
	tail -n 1 "$LOGDIR02/$1.log" 2>/dev/null |
	    grep -q "print line 0000081920 of 0000081920"
}

# 81920 lines, over 4 MiB.
check "02: the second uid starts a vm that prints over 4 MiB" \
    hv "start chatty -k $T/kernel -a 'test=run print=5120'"
check "02: its last line reaches NAME.log" wait_for "the last line" log_has_last chatty
total=$(cat "$LOGDIR02"/chatty.log* | wc -c)
check "02: the logs hold at most 1 MiB x 3 ($total bytes)" \
    test "$total" -le $((3 * 1048576))
check "02: and were rotated (NAME.log.2 is full)" \
    test "$(wc -c <"$LOGDIR02/chatty.log.2")" -eq 1048576
check "02: no more than keep rotated files" \
    test ! -e "$LOGDIR02/chatty.log.3"
check_out "02: NAME.log.1 holds the lines just before" \
    "print line 00000[0-9]* of 0000081920" tail -n 1 "$LOGDIR02/chatty.log.1"
modes=$(stat -c '%a %u' "$LOGDIR02"/chatty.log* | sort -u)
check "02: each file is 0600 and the owner's ($modes)" \
    test "$modes" = "600 $HOSTILE_UID"
check_out "02: capture gives the newest lines" \
    "print line 0000081920 of 0000081920" hv capture chatty
check "02: the vm stops" hv stop -w chatty
check_out "02: once stopped, capture still gives them" \
    "print line 0000081920 of 0000081920" hv capture chatty
root_answers "02"
