# The vmtop side of the e2e suites (run.sh, adopt.sh), after tests/lib.sh:
# the real runner on /dev/kvm, VMs in vm.conf, and the vm_* functions the
# suites drive them with (tests/e2e/qemu.sh has the same for QEMU).
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm

# vm_add NAME VCPUS CMDLINE [DISK] [TAPUNIT] [STATEMENT]: a vm in
# vm.conf; a DISK named *.qcow2 is qcow2, any other raw.
vm_add() {
	{
		echo "vm \"$1\" {"
		echo "	memory 256M; vcpus $2"
		echo "	kernel \"$G/vmlinuz\"; initrd \"$G/initrd.img\""
		echo "	cmdline \"$3\""
		case "${4:-}" in
		"") ;;
		*.qcow2) echo "	disk \"$4\" format qcow2" ;;
		*) echo "	disk \"$4\" format raw" ;;
		esac
		[ -n "${5:-}" ] && echo "	interface tap$5 { up }"
		[ -n "${6:-}" ] && echo "	$6"
		echo "}"
	} >>"$CONF"
}
vm_setup() { start_engine; }
vm_start() { timeout 300 "$VMTOP" -S "$SOCK" -c "start $1" 2>&1; }
vm_console() { "$VMTOP" -S "$SOCK" -c "capture $1" 2>/dev/null | tr -d '\r'; }
vm_state() { state "$1"; }
vm_field() {	# vm_field NAME FIELD: a number from status -j
	vtj "status $1" 2>/dev/null |
	    sed -n "s/.*\"$2\": *\([0-9-]*\).*/\1/p"
}
vm_restarts() { vm_field "$1" restarts; }
vm_pid() { vm_field "$1" pid; }
vm_reason() {
	vtj "status $1" 2>/dev/null |
	    sed -n 's/.*"reason": *"\([^"]*\)".*/\1/p'
}
vm_pause() { timeout 300 "$VMTOP" -S "$SOCK" -c "pause $1" 2>&1; }
vm_unpause() { timeout 300 "$VMTOP" -S "$SOCK" -c "unpause $1" 2>&1; }
vm_stop() {
	timeout "$STOP_TIMEOUT" "$VMTOP" -S "$SOCK" -c "stop $1 ${2:-} -w" 2>&1
	rc=$?
	[ $rc -eq 124 ] && echo "vm $1: stop -w did not return in $STOP_TIMEOUT s"
	return $rc
}
vm_cleanup() {
	[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f" >/dev/null 2>&1
	return 0
}
