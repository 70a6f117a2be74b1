#!/bin/sh
# VMs outlive their engine, with real guests under the real runner: four
# VMs (disk writes a synced counter to a qcow2 disk, talk prints numbered
# lines and answers what is typed, nap ticks and is paused, cue reboots
# when the host writes a cue into its disk), the engine SIGKILLed, 10 s
# with no engine, then a new engine adopts them. Same pids and states, the
# lines printed meanwhile in the capture, the disk written meanwhile and
# clean after a clean stop, the rebooted guest running again and counted;
# stop, pause, unpause and the console on adopted VMs. Runs where
# tests/e2e/run.sh runs (the nested-KVM host here).
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
G="$TOP/build/guest"
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	. "$E2E/where.sh"
	e2e_guest_where "$E2E/adopt.sh"
fi

. "$TOP/tests/lib.sh"
. "$E2E/lib.sh"
. "$E2E/vmtop.sh"
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 300 || echo 60)}
STOP_TIMEOUT=60
CMDLINE="console=ttyS0 quiet"
RUNNERS=
# lives PID: the process runs (an exited runner whose new parent has not
# reaped it yet counts as gone).
lives() {
	s=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "${s%% *}" != Z ]
}
unset TMUX
tm() { tmux -S "$T/tmux.sock" -f /dev/null "$@"; }
cleanup() {
	vm_cleanup; stop_engine
	for p in $RUNNERS; do lives "$p" && kill -9 "$p" 2>/dev/null; done
	tm kill-server 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE
guests="disk talk nap cue"

qemu-img create -q -f qcow2 "$T/disk.qcow2" 16M
truncate -s 16M "$T/cue.img"
vm_add disk 1 "$CMDLINE vmtop.test=counter" "$T/disk.qcow2"
vm_add talk 1 "$CMDLINE vmtop.test=lines"
vm_add nap 2 "$CMDLINE vmtop.test=cpus,ticks"
vm_add cue 1 "$CMDLINE vmtop.test=rebootcue,lines" "$T/cue.img"
vm_setup
start_guests
boot_guests
expect disk "writes its disk" '^vmtop-guest: counter 3$'
expect talk "prints lines" '^vmtop-guest: line 3$'
expect nap "ticks" '^vmtop-guest: tick 2 '
expect cue "waits for the host's cue" '^vmtop-guest: boot 1 waits'

# newest WORD: N of the newest "WORD N" line in NAME's capture.
newest() {
	vm_console "$1" | sed -n "s/^vmtop-guest: $2 \([0-9]*\)\$/\1/p" | tail -n 1
}
case_ nap "pause" vm_pause nap
nap_tick=$(last_tick nap)
before=
for vm in $guests; do
	p=$(vm_pid "$vm")
	before="$before $vm=$p:$(vm_state "$vm")"
	[ "${p:-0}" -gt 0 ] && RUNNERS="$RUNNERS $p"
done
echo "# before:$before"
# disk_counter: the counter in the first block of disk.qcow2, read while
# the guest runs (its only cluster is allocated by the first write).
disk_counter() {
	timeout 60 qemu-img convert -U -O raw "$T/disk.qcow2" "$T/disk.raw" 2>/dev/null &&
	    head -c 512 "$T/disk.raw" | tr -d '\000' |
	    sed -n 's/^vmtop-counter \([0-9]*\)$/\1/p'
}
# talk's pseudo-terminal, which its runner keeps while no engine runs
talk_tty=$(vtj "status talk" 2>/dev/null | sed -n 's/.*"tty": *"\([^"]*\)".*/\1/p')
count0=$(disk_counter)
line0=$(newest talk line)

# --- no engine for 10 s ------------------------------------------------
kill -9 "$ENGINE_PID"
wait "$ENGINE_PID" 2>/dev/null
ENGINE_PID=
alive() {
	for p in $RUNNERS; do
		lives "$p" || { echo "runner $p is gone"; return 1; }
	done
}
check "every runner outlives the SIGKILLed engine" alive
printf 'vmtop-reboot\n' |
    dd of="$T/cue.img" bs=4096 seek=256 conv=notrunc,fsync 2>/dev/null
# typed_away: with no engine, type into talk's pty and read the answer
# there; the next engine's capture must hold it too.
typed_away() {
	[ -c "$talk_tty" ] || { echo "talk's tty \"$talk_tty\" is not a tty"; return 1; }
	exec 3<>"$talk_tty" || return 1
	printf 'no-engine-here\r' >&3
	timeout 60 sed -n '/heard no-engine-here/{p;q;}' <&3 | grep -q . ||
	    { exec 3<&-; echo "no answer on $talk_tty"; return 1; }
	exec 3<&-
}
case_ talk "typed into its pty while no engine runs, the guest answers" typed_away
sleep 10
acked() {
	a=$(dd if="$T/cue.img" bs=4096 skip=257 count=1 2>/dev/null | tr -d '\000' | head -n 1)
	[ "$a" = vmtop-reboot-ack ] || { echo "no ack at 1 MiB + 4 KiB: \"$a\""; return 1; }
}
case_ cue "took the cue and rebooted while no engine ran" acked
count_gap=$(disk_counter)
check "disk wrote its disk while no engine ran (counter $count0 -> $count_gap)" \
    test "${count_gap:-0}" -gt "${count0:-0}"

# --- the next engine adopts them ----------------------------------------
start_engine
after=
for vm in disk talk nap; do
	after="$after $vm=$(vm_pid "$vm"):$(vm_state "$vm")"
done
echo "# after: $after"
for vm in disk talk nap; do
	b=$(echo "$before" | tr ' ' '\n' | grep "^$vm=")
	check "$vm is adopted with its pid and state (${b#*=})" \
	    test "$vm=$(vm_pid "$vm"):$(vm_state "$vm")" = "$b"
done
in_capture() {
	vm_console "$1" | grep -q "^vmtop-guest: $2\$" ||
	    { echo "no \"$2\" in the capture of $1"; vm_console "$1" | tail -n 5; return 1; }
}
case_ talk "the capture holds what the guest printed while no engine ran" \
    in_capture talk "heard no-engine-here"
# unbroken: every line from before the kill to now is in the capture
unbroken() {
	last=$(newest talk line)
	n=$(vm_console talk | sed -n 's/^vmtop-guest: line \([0-9]*\)$/\1/p' |
	    awk -v a="$line0" -v b="$last" '$1 >= a && $1 <= b' | sort -un | wc -l)
	[ "$n" -eq $((last - line0 + 1)) ] ||
	    { echo "lines $line0 to $last: $n of them in the capture"; return 1; }
	echo "lines $line0 to $last, all in the capture"
}
case_ talk "no console line is lost across the restart" unbroken
case_ disk "the capture holds a counter written while no engine ran" \
    in_capture disk "counter ${count_gap:-none}"
still_paused() {
	sleep 2
	t=$(last_tick nap)
	[ "$t" = "$nap_tick" ] || { echo "ticked while paused: $nap_tick -> $t"; return 1; }
}
case_ nap "stayed paused through the engine's restart" still_paused
case_ cue "is running again after its reboot" wait_for cue running 60
RUNNERS="$RUNNERS $(vm_pid cue)"
expect cue "booted a second time" '^vmtop-guest: boot 2$' "$BOOT_TIMEOUT"
case_ cue "the reboot is counted once adopted" test "$(vm_restarts cue)" = 1

# --- what an adopted VM does --------------------------------------------
resumes() {
	vm_unpause nap || return 1
	wait_console nap "^vmtop-guest: tick $((nap_tick + 2)) " 60
}
case_ nap "unpause after adoption: ticks again" resumes
case_ nap "pause after adoption" vm_pause nap
case_ nap "is paused" test "$(vm_state nap)" = paused
case_ nap "unpause again" vm_unpause nap
# A console in a tmux pane: what is typed reaches the adopted guest.
pane() { tm capture-pane -p -t con; }
pane_shows() {	# pane_shows PATTERN: until the pane shows it (bounded)
	i=0
	until pane | grep -q -- "$1"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "no \"$1\" in the pane:"; pane; return 1; }
		sleep 0.1
	done
}
typed() {
	command -v tmux >/dev/null 2>&1 || { echo "tmux is not installed"; return 1; }
	tm new-session -d -s con -x 100 -y 30 \
	    "$VMTOP -S $SOCK -f $CONF -c 'console -r 0 talk'; echo console-exit=\$?; sleep 600" &&
	    pane_shows "console of talk (" || return 1
	tm send-keys -t con "adopted-hello" Enter
	wait_console talk '^vmtop-guest: heard adopted-hello' 30 || return 1
	tm send-keys -t con Enter "~." && pane_shows "console-exit=0"
}
case_ talk "the console carries what is typed to the adopted VM, and detaches" typed
case_ disk "stop presses the power button of an adopted VM" vm_stop disk
case_ disk "is stopped" wait_for disk stopped 30
clean() { timeout 60 qemu-img check "$T/disk.qcow2"; }
case_ disk "qemu-img check of its qcow2 disk is clean" clean
last_written() {
	timeout 60 qemu-img convert -O raw "$T/disk.qcow2" "$T/disk.raw" || return 1
	n=$(head -c 512 "$T/disk.raw" | tr -d '\000' | sed -n 's/^vmtop-counter \([0-9]*\)$/\1/p')
	last=$(newest disk counter)
	[ -n "$n" ] && [ "$n" -ge "${last:-0}" ] && [ "$n" -gt "${count_gap:-0}" ] ||
	    { echo "the disk holds counter ${n:-none}; the guest printed ${last:-none}"; return 1; }
}
case_ disk "the disk holds the last counter the guest printed" last_written
for vm in talk nap cue; do
	case_ "$vm" "stop -f" vm_stop "$vm" -f
	case_ "$vm" "is stopped" wait_for "$vm" stopped 30
done
gone() {
	for p in $RUNNERS; do
		i=0
		while lives "$p" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		! lives "$p" || { echo "runner $p still runs"; return 1; }
	done
}
check "every adopted runner ended with its VM" gone
finish
