# The e2e suite's second backend: the same guests under
# `qemu-system-x86_64 -accel kvm`, to check the harness and the guest
# against a known-good VMM (and to compare with it). Sourced by run.sh
# when VMTOP_E2E_VMM=qemu; defines the vm_* functions the vmtop backend
# defines there. A VM is a folder $T/qemu/NAME; the monitor (HMP) is a
# pair of fifos; a guest reboot restarts in place, so restarts are the
# "vmtop-guest: init" lines less one.

QEMU_ACCEL=${VMTOP_E2E_QEMU_ACCEL:-kvm}

# vm_add NAME VCPUS CMDLINE [DISK] [TAPUNIT]
vm_add() {
	d="$T/qemu/$1"
	mkdir -p "$d"
	echo "$2" >"$d/vcpus"
	echo "$3" >"$d/cmdline"
	echo "${4:-}" >"$d/disk"
	echo "${5:-}" >"$d/tap"
}

vm_setup() { :; }

qemu_alive() {
	[ -s "$T/qemu/$1/pid" ] && kill -0 "$(cat "$T/qemu/$1/pid")" 2>/dev/null
}

# qemu_mon NAME COMMAND: one monitor command, bounded.
qemu_mon() {
	qemu_alive "$1" || { echo "vm $1 is not running"; return 1; }
	timeout 5 sh -c 'printf "%s\n" "$2" >"$1"' - "$T/qemu/$1/mon.in" "$2" ||
	    { echo "vm $1: monitor does not answer"; return 1; }
}

vm_start() {
	d="$T/qemu/$1"
	qemu_alive "$1" && { echo "vm $1 is already running"; return 1; }
	rm -f "$d/console" "$d/mon.in" "$d/mon.out" "$d/paused" "$d/pid" "$d/exit"
	mkfifo "$d/mon.in" "$d/mon.out" || return 1
	disk=$(cat "$d/disk")
	tap=$(cat "$d/tap")
	(qemu-system-x86_64 -accel "$QEMU_ACCEL" -pidfile "$d/pid" -m 256 -smp "$(cat "$d/vcpus")" \
	    -nodefaults -display none \
	    -kernel "$G/vmlinuz" -initrd "$G/initrd.img" \
	    -append "$(cat "$d/cmdline")" -serial "file:$d/console" \
	    -chardev "pipe,id=mon,path=$d/mon" -mon chardev=mon,mode=readline \
	    -device virtio-rng-pci \
	    ${disk:+-drive file="$disk",if=virtio,format=raw} \
	    ${tap:+-netdev tap,id=n0,ifname=tap$tap,script=no,downscript=no} \
	    ${tap:+-device virtio-net-pci,netdev=n0} \
	    </dev/null >"$d/qemu.log" 2>&1; echo $? >"$d/exit") >/dev/null 2>&1 &
	i=0
	while [ ! -s "$d/pid" ] && [ ! -f "$d/exit" ] && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	cat "$d/mon.out" >"$d/mon.log" 2>/dev/null </dev/null &
	echo $! >"$d/monpid"
	sleep 0.5
	qemu_alive "$1" || { echo "vm $1: qemu failed: $(cat "$d/qemu.log")"; return 1; }
}

vm_console() { tr -d '\r' <"$T/qemu/$1/console" 2>/dev/null; }

vm_state() {
	if qemu_alive "$1"; then
		[ -f "$T/qemu/$1/paused" ] && echo paused || echo running
	else
		echo stopped
	fi
}

vm_restarts() {
	n=$(vm_console "$1" | grep -c '^vmtop-guest: init')
	[ "$n" -gt 0 ] && n=$((n - 1))
	echo "$n"
}

vm_pid() { cat "$T/qemu/$1/pid" 2>/dev/null; }
vm_reason() {
	e=$(cat "$T/qemu/$1/exit" 2>/dev/null)
	[ "${e:-0}" -eq 0 ] ||
	    echo "qemu exited $e: $(grep -v warning "$T/qemu/$1/qemu.log" | tail -n 1)"
}

vm_pause() { qemu_mon "$1" stop && touch "$T/qemu/$1/paused"; }
vm_unpause() { qemu_mon "$1" cont && rm -f "$T/qemu/$1/paused"; }

# vm_stop NAME [-f]: the power button, or quit at once; waits (bounded).
vm_stop() {
	if [ "${2:-}" = -f ]; then qemu_mon "$1" quit || return 1
	else qemu_mon "$1" system_powerdown || return 1; fi
	i=0
	while qemu_alive "$1" && [ $i -lt "$((STOP_TIMEOUT * 10))" ]; do
		sleep 0.1; i=$((i + 1))
	done
	qemu_alive "$1" && { echo "vm $1 still running after $STOP_TIMEOUT s"; return 1; }
	return 0
}

vm_cleanup() {
	for d in "$T"/qemu/*/; do
		[ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null
		[ -f "$d/monpid" ] && kill "$(cat "$d/monpid")" 2>/dev/null
	done
	return 0
}
