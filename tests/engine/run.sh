#!/bin/sh
# Engine integration tests: the real engine on a private socket, driven
# by `vmtop -c`, with the test runner (tests/runner) standing in for
# vmtop-vm so starts, crashes, reboots and hangs can be ordered up.
. "$(dirname "$0")/../lib.sh"
RAW="$TOP/tests/runner/vmtop-rawclient"

touch "$T/kernel" "$T/kernel2" "$T/boot.iso" "$T/locked.iso"
chmod 600 "$T/locked.iso"
truncate -s 1M "$T/disk0.img" "$T/disk1.img"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "web" { kernel \$k; disk "$T/disk0.img"; cmdline "test=run write=WEBDATA" }
vm "db" { kernel \$k; disk "$T/disk0.img"; cmdline "test=run" }
vm "nodisk" { kernel \$k; disk "$T/missing.img" }
vm "crashy" { kernel \$k; cmdline "test=crash:1" }
vm "rebooty" { kernel \$k; cmdline "test=reboot:0" }
vm "slowboot" { kernel \$k; cmdline "test=reboot:7" }
vm "offsoon" { kernel \$k; cmdline "test=poweroff:1" }
vm "hangs" { kernel \$k; cmdline "test=hang" }
vm "broken" { kernel \$k; cmdline "test=error" }
vm "stubborn" { kernel \$k; cmdline "test=noshutdown" }
vm "auto" { kernel \$k; enable }
vm "nobodys" { kernel \$k; owner 65534; cmdline "test=run" }
vm "roots" { kernel \$k; cmdline "test=run" }
vm "iso" { cdrom "$T/boot.iso" }
vm "isohd" { disk "$T/disk1.img"; cdrom "$T/boot.iso" }
vm "noiso" { cdrom "$T/missing.iso" }
vm "lockediso" { owner 65534; cdrom "$T/locked.iso" }
CONF

# The first client starts the engine on demand, like a tmux server.
check_out "engine starts on demand" "web" vt status
check "enabled vm started with the engine" wait_state auto running
check "kill-engine" vt kill-engine
check_fail "engine gone after kill-engine" "No such file\|Connection refused" \
    "$RAW" "$SOCK" nohello
# The rest talk to an engine in the foreground, whose log we keep.
start_engine
check_fail "second engine refuses the socket" "already serves" \
    "$VMTOP" -D -S "$SOCK" -f "$CONF"

# start, pause, unpause, stop
check "start web" vt start web
check_out "web is running" running vt status web
check_out "runner got the right disk fd" WEBDATA head -c 7 "$T/disk0.img"
check "pause web" vt pause web
check_out "web is paused" paused vt status web
check_fail "pause twice" "is paused, not running" vt pause web
check "unpause web" vt unpause web
check_out "capture shows console output" "web: booted with 1 vcpus, 1 disks" \
    vt capture web
check_fail "disk locked by another vm" "locked by vm web" vt start db
check_out "db failed with the reason" "failed" vt status db
check "stop web and wait" vt stop web -w
check_out "web stopped" stopped vt status web
check_out "capture kept after stop" "power button pressed" vt capture web
check "db starts once web let go" vt "start db; stop db -f"
check_out "console log file" "web: booted" cat "$VMTOP_STATE_DIR/web.log"

# failures that name the vm and the resource
check_fail "missing disk" "vm nodisk: disk $T/missing.img: No such file" \
    vt start nodisk
check_fail "runner error" "vm broken: the test asked for an error" \
    vt start broken
check_fail "unknown vm" "vm nosuch: no such vm" vt start nosuch
check_fail "batch stops at first failure" "no such vm" \
    vt "status; start nosuch; start web"
check_out "nothing after the failure ran" stopped vt status web

# the cdrom and the firmware's boot order (the run parameters)
check_fail "missing ISO" "vm noiso: cdrom $T/missing.iso: No such file" \
    vt start noiso
if [ "$(id -u)" -eq 0 ]; then
	check_fail "ISO its owner may not read" \
	    "vm lockediso: cdrom $T/locked.iso: Permission denied" \
	    vt start lockediso
fi
check "start iso" vt start iso
check_out "a cdrom alone boots first" "iso: firmware boot, cdrom first" \
    vt capture iso
check "stop iso" vt stop iso -f
check "start isohd" vt start isohd
check_out "the disk boots before the cdrom" \
    "isohd: firmware boot, disk first" vt capture isohd
check "stop isohd" vt stop isohd -w
check "start isohd -B cdrom" vt start isohd -B cdrom
check_out "-B cdrom puts the cdrom first" \
    "isohd: firmware boot, cdrom first" vt capture isohd
check "stop isohd again" vt stop isohd -f
check_fail "-B on a kernel vm" "vm web: boot disk needs firmware boot" \
    vt start web -B disk

# runner crash, reboot, power-off, hang, force stop
check "start crashy" vt start crashy
check "crashy fails" wait_state crashy failed
check_out "crash reason names the signal" "signal 11" vtj status crashy
check "start offsoon" vt start offsoon
check "offsoon powers off" wait_state offsoon stopped
check "start hangs (never ready)" sh -c "$VMTOP -S $SOCK -c 'start hangs' & sleep 1; kill \$! 2>/dev/null; true"
check_out "hangs is starting" starting vt status hangs
check "force stop a starting vm" vt stop hangs -f
check_out "hangs stopped" stopped vt status hangs
check "start stubborn" vt start stubborn
check "stubborn ignores the power button" vt stop stubborn
sleep 0.5
check_out "stubborn still stopping" stopping vt status stubborn
check "force stop" vt stop stubborn -f
check_out "stubborn stopped" stopped vt status stubborn

# rate limit: a guest rebooting at once fails on the 3rd fast restart
check "start rebooty" vt start rebooty
check "rebooty fails" wait_state rebooty failed 200
check_out "restarted too quickly" "restarted too quickly" vtj status rebooty
check_out "two restarts counted" '"restarts": *2' vtj status rebooty
check "start slowboot" vt start slowboot
sleep 22
check_out "slow reboots keep running" running vt status slowboot
check_out "slow reboots counted" '"restarts": *3' vtj status slowboot
check "stop slowboot" vt stop slowboot -f

# owners: uid 65534 may act only on its own vm
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	check_out "another user sees every vm" roots \
	    as_nobody "$VMTOP" -S "$SOCK" -c status
	check_fail "another user may not start root's vm" "permission denied" \
	    as_nobody "$VMTOP" -S "$SOCK" -c "start roots"
	check "owner starts its vm" as_nobody "$VMTOP" -S "$SOCK" -c "start nobodys"
	check "owner stops its vm" as_nobody "$VMTOP" -S "$SOCK" -c "stop nobodys -w"
	check_fail "another user may not reload" "permission denied" \
	    as_nobody "$VMTOP" -S "$SOCK" -c reload
	# A user's own engine: that user may act on VMs without an owner.
	U="$T/user"; mkdir -p "$U"; chown 65534:65534 "$U"
	echo 'vm "mine" { kernel "'"$T"'/kernel" }' >"$U/vm.conf"
	as_user() { as_nobody env HOME="$U" XDG_RUNTIME_DIR="$U" \
	    VMTOP_STATE_DIR="$U/state" "$VMTOP" -S "$U/engine.sock" \
	    -f "$U/vm.conf" "$@"; }
	check "user's engine lets its user start an unowned vm" \
	    as_user -c "start mine; stop mine -w"
	check_out "user's socket is private" "srw-------" ls -l "$U/engine.sock"
	as_user -c kill-engine >/dev/null 2>&1
fi

# malformed client messages: dropped, logged, engine carries on
for mode in short long unknown huge nohello badname partial; do
	check_out "client sending $mode message is dropped" dropped "$RAW" "$SOCK" $mode
done
check_out "engine still answers" web vt status
check_out "drops were logged" "dropping" cat "$T/engine.log"

# reload: new VMs appear, bad configs change nothing
echo 'vm "added" { kernel "'"$T"'/kernel" }' >>"$CONF"
check "reload" vt reload
check_out "added vm listed" added vt status
echo 'vm "bad" { memory 0 }' >>"$CONF"
check_fail "reload of a bad config" "config unchanged" vt reload
check_fail "bad vm not added" "no such vm" vt status bad
sed -i '/"bad"/d' "$CONF"
echo 'vm "hupped" { kernel "'"$T"'/kernel"; memory 2G; vcpus 3 }' >>"$CONF"
kill -HUP "$ENGINE_PID"
sleep 0.3
check_out "SIGHUP reloads the config" hupped vt status
check_out "show gives the config" "kernel: $T/kernel" vt show hupped
check_out "show -j gives sizes" '"memory":2147483648' vtj show hupped
check "log verbose" vt log verbose
check "start with verbose logging" vt "start hupped; stop hupped -f"
vt "start hupped" >/dev/null 2>&1
check_out "show prints the tty once" "^1\$" sh -c "\"$VMTOP\" -S '$SOCK' -f '$CONF' -c 'show hupped' | grep -c '^tty:'"
vt "stop hupped -f" >/dev/null 2>&1
check_out "verbose log has state changes" "vm hupped: running -> stopping" \
    cat "$T/engine.log"
check "log brief" vt log brief

# stop -a, wait, ad hoc start
check "start two" vt "start web; start roots"
check "stop -a -w" vt stop -a -w
check_out "all stopped" stopped vt status roots
# Two stop -a -w back to back, on one connection and on two: each answers
# once, after every VM has stopped, and nothing else follows.
check "start web and roots" vt "start web; start roots"
"$RAW" "$SOCK" stopall 1 >"$T/stopall.out" 2>&1
printf '%s\n' "conn 1 stop 1: ok" "conn 1 stop 2: ok" \
    "conn 1: running after the answers: 0" >"$T/stopall.want"
check "two stop -a -w on one connection" \
    diff "$T/stopall.want" "$T/stopall.out"
check "start web and roots again" vt "start web; start roots"
"$RAW" "$SOCK" stopall 2 >"$T/stopall.out" 2>&1
printf '%s\n' "conn 1 stop 1: ok" "conn 1 stop 2: ok" "conn 2 stop 1: ok" \
    "conn 2 stop 2: ok" "conn 1: running after the answers: 0" \
    "conn 2: running after the answers: 0" >"$T/stopall.want"
check "two stop -a -w on each of two connections" \
    diff "$T/stopall.want" "$T/stopall.out"
check "ad hoc start" vt start adhoc -k "$T/kernel2" -a "test=run" -m 64M -p 2
check_out "ad hoc vm runs with its options" '"vcpus": *2' vtj status adhoc
check_fail "ad hoc memory below the limit" \
    "vm adhoc2: memory 512K is too small (at least 1M)" \
    vt start adhoc2 -k "$T/kernel2" -m 512K
check_fail "ad hoc memory above the limit" \
    "vm adhoc2: memory 2T is too large (at most 1T)" \
    vt start adhoc2 -k "$T/kernel2" -m 2T
check "wait returns when it stops" sh -c "$VMTOP -S $SOCK -c 'wait adhoc' & w=\$!; sleep 0.3; $VMTOP -S $SOCK -c 'stop adhoc'; wait \$w"

# no /dev/kvm: a clear error at once
stop_engine_all() { "$VMTOP" -S "$SOCK" -c kill-engine >/dev/null 2>&1; sleep 0.3; }
stop_engine_all
VMTOP_KVM=/nonexistent/kvm start_engine
check_fail "no kvm device" "hardware virtualization unavailable" vt start web
stop_engine

# an engine that goes away: a waiting client asks again of the next
# engine (started on demand), which knows roots, and its wait ends once
# roots has stopped
start_engine
check "start roots again" vt start roots
"$VMTOP" -S "$SOCK" -f "$CONF" -c "wait roots" >"$T/wait.out" 2>&1 &
waiter=$!
sleep 0.3
kill -9 "$ENGINE_PID"; ENGINE_PID=
check_out "a new engine starts for the next client" roots vt status
vt stop roots -f >/dev/null 2>&1
wait "$waiter"; rc=$?
[ "$rc" -eq 0 ] && ok "a waiting client carries on with the next engine" || not_ok "a waiting client carries on with the next engine (rc $rc: $(cat "$T/wait.out"))"
"$VMTOP" -S "$SOCK" -c kill-engine >/dev/null 2>&1
# VMs that outlive their engine (tests/engine/adopt.sh)
. "$(dirname "$0")/adopt.sh"
finish
