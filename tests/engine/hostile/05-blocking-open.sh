# Opening a VM's files never blocks the engine: a FIFO is refused at once
# (opened without blocking, it is no regular file), and a file behind a
# FUSE file system that never answers leaves the VM starting while root's
# status is answered, and stopping it works.
SLOWFS="$TOP/tests/runner/vmtop-slowfs"
mkfifo "$T/fifo"
chmod 666 "$T/fifo"
check_fail "05: a FIFO as kernel is refused at once" \
    "vm f1: kernel $T/fifo: not a regular file or block device" \
    timeout 60 "$VMTOP" -S "$SOCK" -c "start f1 -k $T/fifo"
check_fail "05: and as the second uid's disk" \
    "vm f2: disk $T/fifo: not a regular file or block device" \
    as_hostile timeout 60 "$VMTOP" -S "$SOCK" -c "start f2 -k $T/kernel -d $T/fifo"
root_answers "05 (fifo)"

mkdir -p "$T/slow"
: >"$T/slowfs.out"
"$SLOWFS" "$T/slow" >"$T/slowfs.out" 2>&1 &
slowfs=$!
i=0
while ! grep -q ready "$T/slowfs.out" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
if grep -q ready "$T/slowfs.out"; then
	# the start waits for ever: run it in the background
	as_hostile "$VMTOP" -S "$SOCK" -c "start s1 -k $T/slow/kernel" \
	    >"$T/s1.out" 2>&1 &
	starter=$!
	wait_state s1 starting 300 && ok "05: a hung open leaves the vm starting" ||
	    not_ok "05: a hung open leaves the vm starting"
	root_answers "05 (hung open)"
	check "05: the second uid's status answers too" hv status
	check "05: stopping the vm whose open hangs works" hv stop -w s1
	check_out "05: it is stopped" stopped vt status s1
	wait "$starter"
	check_out "05: its start was told" "stopped before it was ready" \
	    cat "$T/s1.out"
	# the file system goes: the stuck opener ends, the name is free
	umount -l "$T/slow" 2>/dev/null
	kill "$slowfs" 2>/dev/null; wait "$slowfs" 2>/dev/null
	check "05: the vm starts once its file is reachable" \
	    hv start s1 -k "$T/kernel" -a test=run
	check "05: stop it" hv stop -w s1
else
	not_ok "05: the slow file system mounted ($(cat "$T/slowfs.out"))"
	kill "$slowfs" 2>/dev/null
fi
root_answers 05
