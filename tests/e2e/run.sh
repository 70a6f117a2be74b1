#!/bin/sh
# End-to-end tests of the KVM runner: the real vmtop-vm started by the real
# engine, driven by `vmtop -c`, booting Debian's kernel with the test
# guest's initramfs (tests/guest). Where this machine's /dev/kvm cannot
# boot that guest (tests/e2e/kvm-probe.sh), the whole suite runs inside the
# nested-KVM host (tests/vmhost/run.sh). Guests are batched: six VMs, side
# by side, seven boots, cover every case.
#
# Environment: VMTOP_E2E_HOST=auto|direct|vmhost picks where to run;
# VMTOP_E2E_VMM=qemu runs the same guests under qemu-system-x86_64 -accel
# kvm instead of vmtop (checks the harness; the sandbox cases are vmtop's);
# VMTOP_E2E_BOOT (s) bounds a boot, VMTOP_E2E_TIMEOUT (s) the nested host.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
G="$TOP/build/guest"

# Outside: build the guest, then decide where the suite runs.
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	. "$E2E/where.sh"
	e2e_guest_where "$E2E/run.sh"
fi

. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/lib.sh"
VMM=${VMTOP_E2E_VMM:-vmtop}
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 300 || echo 60)}
STOP_TIMEOUT=60
CMDLINE="console=ttyS0 quiet"
[ -n "${VMTOP_E2E_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"

if [ "$VMM" = qemu ]; then
	. "$E2E/qemu.sh"
else
	. "$E2E/vmtop.sh"
fi
trap 'vm_cleanup; stop_engine; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE


if [ "$VMM" = vmtop ] && [ ! -x "$TOP/vmtop-vm" ]; then
	echo "# $TOP/vmtop-vm is not built (vmm/vmtop-vm.c missing?): every case below fails"
fi

# The guests. four: 4 vcpus, a raw disk, rng, then waits for the power
# button. two: 2 vcpus, ticks every second (pause, sandbox, stop -f).
# boots: reboots once, then powers off. virtq: garbage into a virtqueue,
# then rng again and power-off. net (as root): ping over a tap. qcow
# (vmtop only: qemu.sh attaches disks as raw): writes to a qcow2 overlay
# on a qcow2 base, then powers off.
truncate -s 16M "$T/four.img" "$T/boots.img"
yes vmtop-host-data | head -c 1048576 |
    dd of="$T/four.img" bs=1M seek=4 conv=notrunc 2>/dev/null
host_sum=$(yes vmtop-host-data | head -c 1048576 | md5sum)
host_sum=${host_sum%% *}
pattern_sum=$(yes vmtop-disk-pattern | head -c 1048576 | md5sum)
pattern_sum=${pattern_sum%% *}
guests="four two boots virtq"
vm_add four 4 "$CMDLINE vmtop.test=cpus,disk,rng,wait" "$T/four.img"
vm_add two 2 "$CMDLINE vmtop.test=cpus,ticks"
vm_add boots 1 "$CMDLINE vmtop.test=reboot1,poweroff" "$T/boots.img"
# QEMU 7.2 aborts on a 4 GiB descriptor (g_malloc): leave it that round
virtq_skip=
[ "$VMM" = qemu ] && virtq_skip=" vmtop.virtq_skip=desc-huge-len"
vm_add virtq 1 "$CMDLINE vmtop.test=virtq,rng,poweroff$virtq_skip"
# qcow: the base holds "vmtop-qcow-base" lines throughout (raw, converted
# by qemu-img); the overlay, made by vmtop create, is empty. The guest
# writes 1 MiB + 12 KiB of "vmtop-qcow-guest" lines at 3 MiB + 4 KiB
# (tests/guest/tests/qcow); expect.raw is what the overlay must read as.
QOFF=$((769 * 4096)) QLEN=$((259 * 4096))
qcow_setup() {
	yes vmtop-qcow-base | head -c 16777216 >"$T/qbase.raw" &&
	qemu-img convert -f raw -O qcow2 "$T/qbase.raw" "$T/qbase.qcow2" &&
	timeout 300 "$VMTOP" -c "create $T/qcow.qcow2 -s 16M -F qcow2 -b $T/qbase.qcow2" &&
	cp "$T/qbase.raw" "$T/qexpect.raw" &&
	yes vmtop-qcow-guest | head -c "$QLEN" | dd of="$T/qexpect.raw" \
	    bs=4096 seek=769 conv=notrunc 2>/dev/null &&
	md5sum <"$T/qbase.qcow2" >"$T/qbase.sum"
}
if [ "$VMM" = vmtop ]; then
	if out=$(qcow_setup 2>&1); then
		ok "qcow: a qcow2 base (qemu-img) and an overlay (vmtop create)"
		guests="$guests qcow"
		vm_add qcow 1 "$CMDLINE vmtop.test=qcow,poweroff" "$T/qcow.qcow2"
	else
		not_ok "qcow: a qcow2 base (qemu-img) and an overlay (vmtop create)"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
fi
# rawhdr (vmtop only): a raw disk with, at 4 MiB, a qcow2 header naming
# /etc/shadow as its base; the guest copies it to the disk's start and
# reboots (tests/guest/tests/rawhdr), and must still get its raw disk.
if [ "$VMM" = vmtop ] && truncate -s 16M "$T/rawhdr.img" &&
    "$VMTOP" -c "create $T/shadow.qcow2 -b /etc/shadow" >/dev/null 2>&1 &&
    head -c 65536 "$T/shadow.qcow2" >"$T/shadow.hdr" &&
    dd if="$T/shadow.hdr" of="$T/rawhdr.img" bs=64k seek=64 conv=notrunc \
    2>/dev/null; then
	hdr_sum=$(md5sum <"$T/shadow.hdr")
	hdr_sum=${hdr_sum%% *}
	guests="$guests rawhdr"
	vm_add rawhdr 1 "$CMDLINE vmtop.test=rawhdr,poweroff" "$T/rawhdr.img"
fi
# flood (vmtop only): a guest prints about 80 KiB to its console; every
# console log of this run is rotated at 16 KiB and keeps 2 old files.
if [ "$VMM" = vmtop ]; then
	echo "console-log size 16K keep 2" >>"$CONF"
	guests="$guests flood"
	vm_add flood 1 "$CMDLINE vmtop.test=flood,poweroff"
fi
qbase_sum=$(head -c 1048576 "$T/qbase.raw" 2>/dev/null | md5sum)
qbase_sum=${qbase_sum%% *}
qguest_sum=$(yes vmtop-qcow-guest | head -c "$QLEN" | md5sum)
qguest_sum=${qguest_sum%% *}
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	guests="$guests net"
	vm_add net 1 "$CMDLINE vmtop.test=net,poweroff vmtop.ip=10.99.77.2/24 vmtop.ping=10.99.77.1" "" 77
fi
vm_setup

start_guests
# the host's end of the net guest's tap, before the guest pings it
tap_up() {
	i=0
	while ! ip link show tap77 >/dev/null 2>&1 && [ $i -lt 40 ]; do
		sleep 0.25; i=$((i + 1))
	done
	ip addr add 10.99.77.1/24 dev tap77 && ip link set tap77 up
}
case " $started " in *" net "*) check "net: host side of tap77 up" tap_up ;; esac
boot_guests

# note_runners: remember the runners' pids, to check none outlives us.
runner_pids=
note_runners() {
	[ "$VMM" = vmtop ] || return 0
	for vm in $guests; do
		p=$(vm_pid "$vm")
		[ "${p:-0}" -gt 0 ] && runner_pids="$runner_pids $p"
	done
}
note_runners


# four: vcpus, disk, rng, clean shutdown by the power button
expect four "the guest sees 4 vcpus" '^vmtop-guest: cpus 4$'
expect four "reads what the host wrote on the disk" "^vmtop-guest: disk read $host_sum\$"
expect four "writes and reads back its disk" '^vmtop-guest: disk ok '
expect four "virtio-rng gives entropy" '^vmtop-guest: rng ok '
expect four "waits for the power button" '^vmtop-guest: waiting$'
case_ four "stop presses the power button" vm_stop four
expect four "the guest shuts down cleanly" '^vmtop-guest: power button, shutting down$' 5
case_ four "is stopped after its shutdown" wait_for four stopped 10
disk_written() {
	s=$(head -c 1048576 "$T/four.img" | md5sum)
	[ "${s%% *}" = "$pattern_sum" ] || { echo "first MiB of four.img: ${s%% *}, want $pattern_sum"; return 1; }
}
case_ four "its writes are in the host's disk file" disk_written

# two: 2 vcpus, sandbox, pause and unpause, stop -f
expect two "the guest sees 2 vcpus" '^vmtop-guest: cpus 2$'
expect two "ticks" '^vmtop-guest: tick 2 '
sandboxed() {
	pid=$(vm_pid two)
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || { echo "no runner pid in status -j"; return 1; }
	st=$(cat "/proc/$pid/status") || return 1
	echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$' || { echo "runner $pid: $(echo "$st" | grep NoNewPrivs)"; return 1; }
	echo "$st" | grep -q '^Seccomp:[[:space:]]*2$' || { echo "runner $pid: $(echo "$st" | grep '^Seccomp:')"; return 1; }
	r=$(stat -L -c %d:%i "/proc/$pid/root" 2>&1)
	[ "$r" != "$(stat -c %d:%i /)" ] || { echo "runner $pid: its root is the host's /"; return 1; }
	if [ "$(id -u)" -eq 0 ]; then
		u=$(echo "$st" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
		[ "$u" != 0 ] || { echo "runner $pid still runs as uid 0"; return 1; }
		# a uid of its own, from the runner range (900000 + 65536)
		[ "$u" -ge 900000 ] && [ "$u" -lt 965536 ] || { echo "runner $pid: uid $u is not from the runner range"; return 1; }
	fi
	# pid 1 of its own pid namespace: the engine's pid is its parent
	kid=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
	kid=${kid%% *}
	[ -n "$kid" ] || { echo "runner $pid has no child in a pid namespace"; return 1; }
	ns=$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$kid/status")
	case "$ns" in *[0-9][[:space:]]1) ;; *) echo "runner child $kid: NSpid $ns, want OUTER 1"; return 1 ;; esac
	[ "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$kid/status")" = "$(echo "$st" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')" ] || { echo "runner child $kid runs as another uid"; return 1; }
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$kid/status" || { echo "runner child $kid: no seccomp"; return 1; }
	echo "runner $pid: NoNewPrivs 1, Seccomp 2, root $r, child $kid NSpid $ns"
}
# the runner sandboxes itself before the guest runs: no boot needed
if [ "$VMM" = vmtop ]; then
	check "two: runner is sandboxed (no_new_privs, seccomp, own root, own uid, pid ns)" \
	    sandboxed
	# the runner's sandbox from inside, on this kernel: F_SETOWN/F_SETSIG,
	# kill, tgkill and open refused (tests/engine/sandbox.sh)
	check "the sandbox probe is refused everything here too" \
	    sh "$TOP/tests/engine/sandbox.sh"
fi
paused_quiet() {
	vm_pause two || return 1
	[ "$(vm_state two)" = paused ] || { echo "state $(vm_state two), not paused"; return 1; }
	sleep 1
	a=$(last_tick two); sleep 3; b=$(last_tick two)
	[ "$a" = "$b" ] || { echo "ticks went on while paused: $a -> $b"; return 1; }
	echo "$b" >"$T/pause_tick"
}
case_ two "pause stops the guest (no ticks for 3 s)" paused_quiet
resumed() {
	pt=$(cat "$T/pause_tick" 2>/dev/null) || { echo "not paused"; return 1; }
	h0=$(date +%s)
	vm_unpause two || return 1
	[ "$(vm_state two)" = running ] || { echo "state $(vm_state two), not running"; return 1; }
	wait_console two "^vmtop-guest: tick $((pt + 3)) " 30 || return 1
	h1=$(date +%s)
	u0=$(tick_field two "$pt" 1); u1=$(tick_field two "$((pt + 1))" 1)
	u3=$(tick_field two "$((pt + 3))" 1)
	# the guest's clock neither goes back nor leaps beyond the wall
	# clock (paused at least 4 s before h0), and ticks at least a second
	# apart in the guest's time, which the wall clock bounds too (a busy
	# host slows the guest's ticks; only a leap is wrong)
	awk -v u0="$u0" -v u1="$u1" -v u3="$u3" -v wall=$((h1 - h0 + 6)) 'BEGIN {
		if (u1 < u0) { print "uptime went back: " u0 " -> " u1; exit 1 }
		if (u1 - u0 > wall + 5) { print "uptime leapt " u1 - u0 " s"; exit 1 }
		if (u3 - u1 < 1 || u3 - u1 > wall + 5) { print "2 ticks took " u3 - u1 " s"; exit 1 }
		print "uptime " u0 " -> " u1 " -> " u3 }'
}
case_ two "unpause resumes the guest and its clock" resumed
case_ two "stop -f ends it at once" vm_stop two -f
case_ two "is stopped" wait_for two stopped 10
no_shutdown_line() {
	! vm_console two | grep -q 'power button' || { echo "the guest saw a power button"; return 1; }
}
case_ two "stop -f pressed no power button" no_shutdown_line

# boots: guest reboot -> restarted, guest poweroff -> stopped
expect boots "the guest reboots" '^vmtop-guest: reboot$'
expect boots "comes back after the reboot" '^vmtop-guest: reboot1 rebooted$' "$BOOT_TIMEOUT"
restarted_once() {
	n=$(vm_restarts boots)
	[ "$n" = 1 ] || { echo "restarts: ${n:-none}, want 1"; return 1; }
}
case_ boots "the restart is counted in status -j" restarted_once
expect boots "powers off" '^vmtop-guest: poweroff$'
stopped_clean() {
	wait_for "$1" stopped 30 || return 1
	r=$(vm_reason "$1")
	[ -z "$r" ] || { echo "reason: $r"; return 1; }
}
case_ boots "guest poweroff -> stopped, no error" stopped_clean boots

# virtq: garbage in a virtqueue; the runner survives, the device resets
expect virtq "the guest wrote garbage into the rng's virtqueue" '^vmtop-guest: virtq done' 120
expect virtq "after a reset the device serves a valid request" '^vmtop-guest: virtq valid status 0x0f used 1$' 5
echo "# $(vm_console virtq | grep '^vmtop-guest: virtq done')"
expect virtq "the rng works after the driver came back" '^vmtop-guest: rng ok '
case_ virtq "the runner survived and the guest powered off" stopped_clean virtq

# rawhdr: the header the guest wrote is never read to guess the format
if case " $guests " in *" rawhdr "*) true ;; *) false ;; esac; then
	expect rawhdr "the guest wrote a qcow2 header naming /etc/shadow" \
	    '^vmtop-guest: rawhdr wrote a qcow2 header$'
	expect rawhdr "after its reboot it reads its own header: still raw" \
	    "^vmtop-guest: rawhdr rebooted $hdr_sum\$" "$BOOT_TIMEOUT"
	case_ rawhdr "powers off" stopped_clean rawhdr
fi

# flood: the console log never holds more than 16 KiB x 3, and the
# newest lines are in NAME.log
if case " $guests " in *" flood "*) true ;; *) false ;; esac; then
	expect flood "the guest printed its 2000 lines" \
	    '^vmtop-guest: flood done' "$BOOT_TIMEOUT"
	case_ flood "powers off" stopped_clean flood
	flood_log="$VMTOP_STATE_DIR/flood.log"
	flood_total=$(cat "$flood_log"* 2>/dev/null | wc -c)
	check "flood: its logs hold at most 16 KiB x 3 ($flood_total bytes)" \
	    test "$flood_total" -gt 0 -a "$flood_total" -le $((3 * 16384))
	check "flood: they were rotated (NAME.log.2 is full)" \
	    test "$(wc -c <"$flood_log.2" 2>/dev/null)" = 16384
	check "flood: no more than keep rotated files" test ! -e "$flood_log.3"
	check_out "flood: the newest lines are in NAME.log" \
	    "vmtop-guest: flood done" cat "$flood_log"
fi

# net: ping from the guest to the host over the tap (set up at start)
if case " $guests " in *" net "*) true ;; *) false ;; esac; then
	expect net "the guest pings the host over the tap" '^vmtop-guest: net ping ok ' 60
	case_ net "powers off" stopped_clean net
fi

# qcow: the guest wrote through the overlay; the base did not change
if case " $guests " in *" qcow "*) true ;; *) false ;; esac; then
	expect qcow "reads the base's data through the overlay" "^vmtop-guest: qcow base $qbase_sum\$"
	expect qcow "writes to the overlay and reads back" "^vmtop-guest: qcow ok $qguest_sum\$"
	case_ qcow "powers off" stopped_clean qcow
	qbase_same() {
		s=$(md5sum <"$T/qbase.qcow2")
		[ "$s" = "$(cat "$T/qbase.sum")" ] || { echo "qbase.qcow2: ${s%% *}, was $(cat "$T/qbase.sum")"; return 1; }
	}
	case_ qcow "the base image is unchanged" qbase_same
	qimg_check() {
		timeout 60 qemu-img check "$1" || { echo "qemu-img check $1 is not clean"; return 1; }
	}
	case_ qcow "qemu-img check: the base is clean" qimg_check "$T/qbase.qcow2"
	case_ qcow "qemu-img check: the overlay is clean" qimg_check "$T/qcow.qcow2"
	qimg_backing() {
		i=$(timeout 60 qemu-img info "$T/qcow.qcow2") || return 1
		echo "$i" | grep -qx "backing file: $T/qbase.qcow2" ||
		    { echo "$i"; echo "want backing file $T/qbase.qcow2"; return 1; }
	}
	case_ qcow "the overlay still has the base as its backing file" qimg_backing
	qread() {
		[ -s "$T/qread.raw" ] ||
		    timeout 60 qemu-img convert -O raw "$T/qcow.qcow2" "$T/qread.raw" ||
		    { rm -f "$T/qread.raw"; return 1; }
	}
	# qregion FILE START LEN: the md5 of a byte range.
	qregion() {
		s=$(dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) 2>/dev/null | md5sum)
		echo "${s%% *}"
	}
	qwritten() {
		qread || return 1
		a=$(qregion "$T/qread.raw" "$QOFF" "$QLEN")
		[ "$a" = "$qguest_sum" ] || { echo "written region: $a, want $qguest_sum"; return 1; }
	}
	case_ qcow "the overlay holds the guest's writes (qemu-img convert)" qwritten
	qunwritten() {
		qread || return 1
		end=$((QOFF + QLEN))
		for r in "0 $QOFF" "$end $((16777216 - end))"; do
			set -- $r
			a=$(qregion "$T/qread.raw" "$1" "$2")
			b=$(qregion "$T/qbase.raw" "$1" "$2")
			[ "$a" = "$b" ] || { echo "bytes $1+$2: $a, the base's $b"; return 1; }
		done
		cmp "$T/qread.raw" "$T/qexpect.raw" || return 1
	}
	case_ qcow "elsewhere the overlay reads as the base" qunwritten
fi

# every runner ends with its VM; none outlives the engine
survivors() {
	s=
	for p in $runner_pids; do
		case "$(cat "/proc/$p/cmdline" 2>/dev/null)" in
		vmtop-vm*) s="$s $p"; kill -9 "$p" ;;
		esac
	done
	[ -z "$s" ] || { echo "runners still alive (killed now):$s"; return 1; }
}
note_runners
vm_cleanup
stop_engine
[ "$VMM" = vmtop ] && check "no runner outlives its engine" survivors
finish
