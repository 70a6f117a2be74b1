#!/bin/sh
# End-to-end network tests: real guests (tests/guest, with vmtop-nettool
# added to their initramfs) on user-mode networks served by vmtop-slirp,
# and on taps joined by a switch. Like run.sh, the suite runs where
# /dev/kvm boots the guest, else inside the nested-KVM host.
#
#   tests/e2e/net.sh         the cases: a DHCP lease from the helper; the
#                            guest fetches a page from the host at
#                            10.0.2.2; a host client fetches the guest's
#                            page through hostfwd; UDP both ways, to the
#                            host and through a rule; the helper's
#                            sandbox; killing the runner ends the helper;
#                            two VMs on one switch ping each other (root)
#   tests/e2e/net.sh bench   TCP throughput host -> guest through hostfwd,
#                            vmtop and QEMU's -netdev user side by side
#
# VMTOP_E2E_VMM=qemu runs the cases under qemu-system-x86_64 (-netdev
# user and tap) to check the harness and the guest side; the sandbox and
# helper cases are vmtop's. VMTOP_E2E_HOST, VMTOP_E2E_BOOT and
# VMTOP_E2E_TIMEOUT are run.sh's. VMTOP_NET_MIB sizes the bench (64);
# VMTOP_NET_THREADS=1 prints each thread's CPU ticks and the host's per run;
# VMTOP_NET_MTU sets the user networks' mtu (vm.conf's default otherwise).
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
G="$TOP/build/guest"
N="$TOP/build/e2e-net"
MODE=${1:-cases}

# Outside: the guest, vmtop-nettool (static) and an initramfs with it.
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	fail0() { echo "not ok - $*"; echo "0 passed, 1 failed"; exit 1; }
	sh "$TOP/tests/guest/build.sh" "$G" || fail0 "build the test guest"
	mkdir -p "$N/stage/bin" || fail0 "mkdir $N"
	if [ ! -x "$N/vmtop-nettool" ] ||
	    [ "$TOP/tests/net/vmtop-nettool.c" -nt "$N/vmtop-nettool" ]; then
		cc -static -O2 -std=gnu11 -D_GNU_SOURCE -pthread -o "$N/vmtop-nettool" \
		    "$TOP/tests/net/vmtop-nettool.c" ||
		    fail0 "build vmtop-nettool (static)"
	fi
	if [ ! -f "$N/initrd.img" ] || [ "$N/vmtop-nettool" -nt "$N/initrd.img" ] ||
	    [ "$G/initrd.img" -nt "$N/initrd.img" ]; then
		. "$TOP/tests/guest/debian.sh"
		debian_busybox
		cp "$N/vmtop-nettool" "$N/stage/bin/vmtop-nettool"
		make_cpio "$N/stage" "$N/nettool.cpio.gz"
		# The kernel unpacks concatenated archives in turn.
		cat "$G/initrd.img" "$N/nettool.cpio.gz" >"$N/initrd.img" ||
		    fail0 "write $N/initrd.img"
	fi
	. "$E2E/where.sh"
	e2e_where "$E2E/net.sh" "$MODE"
fi

. "$TOP/tests/lib.sh"
. "$TOP/tests/e2e/lib.sh"
VMM=${VMTOP_E2E_VMM:-vmtop}
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 300 || echo 60)}
CMDLINE="console=ttyS0 quiet"
TOOL="$N/vmtop-nettool"
INITRD="$N/initrd.img"
export VMTOP_SLIRP="$TOP/vmtop-slirp"
[ -n "${VMTOP_E2E_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"
p=$((20000 + $$ % 20000))
HP=$p; HUP=$((p + 1)); TP=$((p + 2)); UP=$((p + 3)); BP=$((p + 4)); QBP=$((p + 5))
BR=vmtope2ebr
SWITCH=0	# 1 once a switch VM was added

# The vmtop backend: a vm.conf, the engine, `vmtop -c`.
vmtop_add() {	# vmtop_add NAME CMDLINE NET: NET is user:RULE,... or switch
	if [ "$3" = switch ] && [ $SWITCH = 0 ]; then
		echo "switch \"e2e\" { interface $BR }" >>"$CONF"
		SWITCH=1
	fi
	{
		echo "vm \"$1\" {"
		echo "	memory 256M; vcpus 1"
		echo "	kernel \"$G/vmlinuz\"; initrd \"$INITRD\""
		echo "	cmdline \"$2\""
		case "$3" in
		user:*)	echo "	interface user {"
			echo "${3#user:}" | tr ',' '\n' | sed 's/.*/		hostfwd "&"/'
			[ -n "${VMTOP_NET_MTU:-}" ] && echo "		mtu $VMTOP_NET_MTU"
			echo "	}" ;;
		switch)	echo "	interface { switch \"e2e\" }" ;;
		esac
		echo "}"
	} >>"$CONF"
}
vmtop_start() { timeout 300 "$VMTOP" -S "$SOCK" -c "start $1" 2>&1; }
vmtop_console() { "$VMTOP" -S "$SOCK" -c "capture $1" 2>/dev/null | tr -d '\r'; }
vmtop_state() { state "$1"; }
vmtop_pid() { vtj "status $1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9-]*\).*/\1/p'; }
vmtop_stop() { timeout 300 "$VMTOP" -S "$SOCK" -c "stop $1 ${2:-} -w" 2>&1; }

# The qemu backend: the same guests under qemu-system-x86_64.
qemu_add() {
	d="$T/qemu/$1"
	mkdir -p "$d"
	echo "$2" >"$d/cmdline"
	echo "$3" >"$d/net"
	qemu_n=$(( ${qemu_n:-0} + 1 ))
	echo "$qemu_n" >"$d/n"
}
qemu_start() {
	d="$T/qemu/$1"
	n=$(cat "$d/n")
	mac=52:54:00:12:34:$((10 + n))
	case "$(cat "$d/net")" in
	user:*)	fwd=$(sed 's/^user://; s/,/,hostfwd=/g; s/^/hostfwd=/' "$d/net")
		net="-netdev user,id=n0,$fwd" ;;
	switch)	tap=tape2e$n
		ip link show $BR >/dev/null 2>&1 || { ip link add $BR type bridge && ip link set $BR up; }
		ip tuntap add dev $tap mode tap && ip link set $tap master $BR && ip link set $tap up
		net="-netdev tap,id=n0,ifname=$tap,script=no,downscript=no" ;;
	esac
	# shellcheck disable=SC2086
	qemu-system-x86_64 -accel kvm -m 256 -smp 1 -nodefaults -display none -name "$1,debug-threads=on" \
	    -kernel "$G/vmlinuz" -initrd "$INITRD" -append "$(cat "$d/cmdline")" \
	    -serial "file:$d/console" $net -device virtio-net-pci,netdev=n0,mac=$mac \
	    </dev/null >"$d/qemu.log" 2>&1 &
	echo $! >"$d/pid"
	sleep 0.5
	kill -0 "$(cat "$d/pid")" 2>/dev/null || { cat "$d/qemu.log"; return 1; }
}
qemu_console() { tr -d '\r' 2>/dev/null <"$T/qemu/$1/console"; }
qemu_state() { kill -0 "$(cat "$T/qemu/$1/pid" 2>/dev/null)" 2>/dev/null && echo running || echo stopped; }
qemu_stop() { kill "$(cat "$T/qemu/$1/pid")" 2>/dev/null; }
qemu_cleanup() {
	for d in "$T"/qemu/*/; do
		[ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null
	done
	for t in $(ls /sys/class/net 2>/dev/null | grep '^tape2e'); do ip link del "$t"; done
	return 0
}

vm_add() { "${VMM}_add" "$@"; }
vm_start() { "${VMM}_start" "$@"; }
vm_console() { "${VMM}_console" "$@"; }
vm_state() { "${VMM}_state" "$@"; }

# Force every guest off (before finish, which stops the engine).
stop_all() {
	[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f -w" >/dev/null 2>&1
	qemu_cleanup
}
cleanup() {
	stop_all
	[ -n "${hpids:-}" ] && kill $hpids 2>/dev/null
	ip link del $BR 2>/dev/null
	stop_engine
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# boot NAME...: start them side by side, wait for their init.
boot() {
	for vm in "$@"; do
		if out=$(vm_start "$vm"); then ok "start $vm"; else
			not_ok "start $vm"; printf '%s\n' "$out" | sed 's/^/#   /'
			unbooted="$unbooted $vm"
		fi
	done
	t0=$(date +%s)
	for vm in "$@"; do
		booted "$vm" >/dev/null || continue
		await_init "$vm" "$t0"
	done
}
unbooted=

# guest_run SCRIPT: the kernel argument that runs SCRIPT in the guest.
guest_run() { echo "vmtop.run=$(printf '%s' "$1" | base64 -w 0)"; }
# The user-mode guest: DHCP, servers, then what it asks of the host.
USER_GUEST='i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
ip link show eth0 >/dev/null 2>&1 || echo "vmtop-guest: no eth0: $(ls /sys/class/net)"
ip link set lo up; ip link set eth0 up
udhcpc -q -n -t 5 -T 2 -i eth0 -s /etc/udhcpc.script >/dev/null 2>&1
a=$(ip -4 addr show eth0 | sed -n "s/.*inet \([0-9./]*\).*/\1/p")
echo "vmtop-guest: lease ${a:-none} gw $(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")"
mkdir -p /www; echo vmtop-guest-page >/www/index.html; httpd -p 8080 -h /www
vmtop-nettool -g udp-echo 5353 & vmtop-nettool -g sink 5001 &
echo "vmtop-guest: fetched $(timeout 20 wget -q -O - http://10.0.2.2:HP/index.html)"
vmtop-nettool -g udp-send 10.0.2.2 HUP from-guest
ping -c 50 -i 0.05 10.0.2.2 | tail -1 | sed "s/^/vmtop-guest: ping /"
echo "vmtop-guest: mtu $(cat /sys/class/net/eth0/mtu)"
echo "vmtop-guest: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "vmtop-guest: servers up"
while :; do sleep 3600; done'
user_cmdline() {
	echo "$CMDLINE $(guest_run "$(printf '%s\n' "$USER_GUEST" |
	    sed "s/HUP/$HUP/; s/HP/$HP/")")"
}

# The host's side: a page at 127.0.0.1:HP, a UDP echo at HUP.
mkdir -p "$T/www" && echo vmtop-host-page >"$T/www/index.html"
busybox httpd -f -p "127.0.0.1:$HP" -h "$T/www" & hpids=$!
"$TOOL" udp-echo "$HUP" & hpids="$hpids $!"

# vmm_pids NAME: the processes that carry NAME's network.
vmm_pids() {
	if [ "$VMM" = qemu ]; then cat "$T/qemu/$1/pid"
	else echo "$(vmtop_pid "$1") $(pgrep -f -x "vmtop-slirp $1 0")"; fi
}
# cpu_ticks PID...: user + system clock ticks the processes used so far.
cpu_ticks() {
	for pid in "$@"; do cat "/proc/$pid/stat"; done 2>/dev/null |
	    sed 's/.*) //' | awk '{ t += $12 + $13 } END { print t + 0 }'
}
# kvm_stats: "name count" of KVM's global statistics (debugfs), sorted.
kvm_stats() {
	[ -d /sys/kernel/debug/kvm ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for f in /sys/kernel/debug/kvm/*; do
		[ -f "$f" ] && echo "${f##*/} $(cat "$f")"
	done 2>/dev/null | sort
}
# thread_ticks PID...: "pid/tid:name ticks switches-voluntary
# switches-involuntary" per thread, sorted for join.
thread_ticks() {
	for pid in "$@"; do
		for f in /proc/$pid/task/*/stat; do
			tid=${f%/stat}; tid=${tid##*/}
			awk -v id="$pid/$tid:$(cat /proc/$pid/task/$tid/comm | tr ' ' _)" \
			    '{ sub(/.*\) /, ""); printf "%s %d ", id, $12 + $13 }' "$f"
			awk '$1 == "nr_voluntary_switches" { v = $3 }
			    $1 == "nr_involuntary_switches" { i = $3 }
			    END { print v + 0, i + 0 }' "/proc/$pid/task/$tid/sched"
		done
	done 2>/dev/null | sort
}

if [ "$MODE" = bench ]; then
	# One guest under each VMM, the same MiB through hostfwd, alone.
	MIB=${VMTOP_NET_MIB:-64}
	rows=
	for VMM in vmtop qemu; do
		if [ $VMM = vmtop ] && [ ! -x "$TOP/vmtop-vm" ]; then
			rows="$rows
vmtop	-	(vmtop-vm is not built)"
			continue
		fi
		port=$BP; [ $VMM = qemu ] && port=$QBP
		[ $VMM = vmtop ] && export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
		vm_add b$VMM "$(user_cmdline)" "user:tcp:127.0.0.1:$port-:5001"
		[ $VMM = vmtop ] && start_engine
		boot b$VMM
		if booted b$VMM >/dev/null && wait_console b$VMM '^vmtop-guest: servers up' 60 >/dev/null; then
			best=0
			pids=$(vmm_pids b$VMM)
			t0=$(cpu_ticks $pids)
			for i in 1 2 3; do
				[ -n "${VMTOP_NET_THREADS:-}" ] && thread_ticks $pids >"$T/th0" && head -1 /proc/stat >"$T/st0" && kvm_stats >"$T/kvm0"
				r=$("$TOOL" source 127.0.0.1 "$port" "$MIB" | sed -n 's/.*: \([0-9.]*\) MB\/s$/\1/p')
				best=$(awk -v a="$best" -v b="${r:-0}" 'BEGIN { print (b > a) ? b : a }')
				[ -n "${VMTOP_NET_THREADS:-}" ] && thread_ticks $pids | join -a 1 - "$T/th0" |
				    awk '{ printf "#   %s %s: %d ticks, %d switches, %d preempted\n", V, $1, $2 - $5, $3 - $6, $4 - $7 }' V=$VMM
				[ -n "${VMTOP_NET_THREADS:-}" ] && head -1 /proc/stat | cat "$T/st0" - |
				    awk 'NR == 1 { for (i = 2; i <= NF; i++) a[i] = $i } NR == 2 { printf "#   all cpus: user %d nice %d sys %d idle %d iowait %d irq %d softirq %d steal %d\n", $2-a[2], $3-a[3], $4-a[4], $5-a[5], $6-a[6], $7-a[7], $8-a[8], $9-a[9] }'
				[ -n "${VMTOP_NET_THREADS:-}" ] && kvm_stats | join - "$T/kvm0" |
				    awk '$2 != $3 { printf "#   kvm %s %d\n", $1, $2 - $3 }' | tr '\n' ' ' | sed 's/ #  / /g; s/$/\n/'
			done
			cpu=$(awk -v a="$t0" -v b="$(cpu_ticks $pids)" -v hz="$(getconf CLK_TCK)" \
			    -v m=$((3 * MIB)) 'BEGIN { printf "%.2f", (b - a) / hz / m * 64 }')
			rows="$rows
$VMM	$best	MB/s (best of 3 x $MIB MiB), $cpu CPU s per 64 MiB (${VMM} processes)"
			ok "bench $VMM: $best MB/s"
			vm_console b$VMM | grep "vmtop-guest: \(ping\|mtu\|clocksource\|sink\)" | sed "s/^/# $VMM /"
		else
			not_ok "bench $VMM: the guest's sink is not up"
		fi
		"${VMM}_stop" b$VMM -f >/dev/null 2>&1	# alone for the next
	done
	echo "# TCP host -> guest through hostfwd (same guest, same nested host):"
	"$TOOL" costs | sed 's/^/#   this host: /'
	printf '%s\n' "$rows" | sed '/^$/d; s/^/#   /'
	stop_all
	finish
	exit
fi

if [ "$VMM" = vmtop ]; then
	export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
	[ -x "$TOP/vmtop-vm" ] ||
	    echo "# $TOP/vmtop-vm is not built: the KVM runner cannot boot the guests yet"
fi
guests=web
vm_add web "$(user_cmdline)" "user:tcp:127.0.0.1:$TP-:8080,udp:127.0.0.1:$UP-:5353"
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && [ "${VMTOP_NET_SWITCH:-1}" = 1 ]; then
	guests="$guests swa swb"
	vm_add swa "$CMDLINE vmtop.test=net,wait vmtop.ip=10.97.0.1/24 vmtop.ping=10.97.0.2" switch
	vm_add swb "$CMDLINE vmtop.test=net,wait vmtop.ip=10.97.0.2/24 vmtop.ping=10.97.0.1" switch
fi
[ "$VMM" = vmtop ] && start_engine
# shellcheck disable=SC2086
boot $guests

expect web "a DHCP lease from the helper" '^vmtop-guest: lease 10\.0\.2\.15/24 gw 10\.0\.2\.2$'
expect web "fetches a page from the host at 10.0.2.2" '^vmtop-guest: fetched vmtop-host-page$'
expect web "UDP to the host at 10.0.2.2 and back" '^vmtop-guest: udp answer: echo: from-guest$'
expect web "its servers are up" '^vmtop-guest: servers up$'
[ "$VMM" = vmtop ] &&
    expect web "takes the link's MTU (65520) from the device" '^vmtop-guest: mtu 65520$'
fetch_guest() {
	out=$(timeout 20 busybox wget -q -O - "http://127.0.0.1:$TP/index.html") &&
	    [ "$out" = vmtop-guest-page ] || { echo "got: $out"; return 1; }
}
case_ web "a host client fetches the guest's page through hostfwd" fetch_guest
udp_rule() { "$TOOL" udp-send 127.0.0.1 "$UP" from-host | grep -qx 'udp answer: echo: from-host'; }
case_ web "a UDP rule carries a datagram both ways" udp_rule
if [ "$VMM" = vmtop ]; then
	helper_pid() { pgrep -f -x "vmtop-slirp web 0" | head -n 1; }
	helper_sandboxed() {
		pid=$(helper_pid)
		[ -n "$pid" ] || { echo "no vmtop-slirp web 0"; return 1; }
		st=$(cat "/proc/$pid/status") || return 1
		echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$' &&
		    echo "$st" | grep -q '^Seccomp:[[:space:]]*2$' &&
		    ! echo "$st" | grep -q '^Uid:[[:space:]]*0[[:space:]]' ||
		    { echo "$st" | grep -E '^(Uid|NoNewPrivs|Seccomp):'; return 1; }
	}
	case_ web "the helper shows NoNewPrivs 1, Seccomp 2, a uid not root" helper_sandboxed
	runner_killed() {
		r=$(vmtop_pid web); h=$(helper_pid)
		[ -n "$r" ] && [ "$r" -gt 0 ] && [ -n "$h" ] || { echo "runner $r, helper $h"; return 1; }
		kill -9 "$r"
		i=0
		while kill -0 "$h" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
		! kill -0 "$h" 2>/dev/null || { echo "helper $h outlived runner $r"; return 1; }
	}
	case_ web "killing the runner ends the helper" runner_killed
fi
if case " $guests " in *" swa "*) true ;; *) false ;; esac; then
	expect swa "pings swb over the switch" '^vmtop-guest: net ping ok 10\.97\.0\.2$'
	expect swb "pings swa over the switch" '^vmtop-guest: net ping ok 10\.97\.0\.1$'
fi
stop_all
finish
