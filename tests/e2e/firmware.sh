#!/bin/sh
# Firmware boot under the real runner: a vm without a kernel boots
# SeaBIOS (/usr/share/seabios/bios.bin), which boots GRUB from the
# Debian disk of tests/images/build-disk.sh over virtio-blk, and GRUB
# boots Debian to its marker and a login prompt on ttyS0. The disk is a
# qcow2 overlay on the cached image. Runs where tests/e2e/run.sh runs
# (the nested-KVM host here).
#
# Environment: VMTOP_E2E_BOOT (s) bounds the boot, VMTOP_FW_IMAGES the
# folder build-disk.sh fills (build/images).
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
G="$TOP/build/guest"
VMTOP_FW_IMAGES=${VMTOP_FW_IMAGES:-$TOP/build/images}
export VMTOP_FW_IMAGES
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	if ! sh "$TOP/tests/guest/build.sh" "$G"; then
		echo "not ok - build the test guest (tests/guest/build.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	if ! sh "$TOP/tests/images/build-disk.sh" "$VMTOP_FW_IMAGES"; then
		echo "not ok - build the Debian disk (tests/images/build-disk.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	. "$E2E/where.sh"
	e2e_where "$E2E/firmware.sh"
fi

. "$TOP/tests/lib.sh"
. "$E2E/lib.sh"
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
unbooted=
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 900 || echo 180)}
vm_console() { "$VMTOP" -S "$SOCK" -c "capture $1" 2>/dev/null | tr -d '\r'; }
vm_state() { state "$1"; }
vm_reason() {
	vtj "status $1" 2>/dev/null |
	    sed -n 's/.*"reason": *"\([^"]*\)".*/\1/p'
}
trap '[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f" >/dev/null 2>&1; stop_engine; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
[ -n "${VMTOP_E2E_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"

if ! qemu-img create -q -f qcow2 -F qcow2 -b "$VMTOP_FW_IMAGES/debian.qcow2" \
    "$T/debian.qcow2" 2>"$T/qemu-img.log"; then
	not_ok "qcow2 overlay on $VMTOP_FW_IMAGES/debian.qcow2"
	sed 's/^/#   /' "$T/qemu-img.log"
	finish; exit
fi
cat >"$CONF" <<CONF
vm "deb" {
	memory 512M; vcpus 2
	disk "$T/debian.qcow2" format qcow2
}
CONF
ENGINE_ARGS=-v
start_engine
t0=$(date +%s)
if out=$(timeout 60 "$VMTOP" -S "$SOCK" -c "start deb" 2>&1); then
	ok "start deb (no kernel: SeaBIOS)"
else
	not_ok "start deb (no kernel: SeaBIOS)"; printf '%s\n' "$out" | sed 's/^/#   /'
fi
expect deb "SeaBIOS banner" 'SeaBIOS \(version' 60
expect deb "boots from the disk" 'Booting from Hard Disk' 60
left=$((BOOT_TIMEOUT - ($(date +%s) - t0)))
[ $left -lt 5 ] && left=5
expect deb "Debian marker" 'vmtop-debian: marker up' "$left"
expect deb "login prompt" "login:" 120
echo "# boot to login: $(($(date +%s) - t0)) s"
vtj "status deb" 2>/dev/null | grep -o '"exits": *[0-9]*' | sed 's/^/# /'
expect deb "the guest sees both vcpus (ACPI MADT)" '^vmtop-debian: cpus 2' 5
stopped_clean() {
	timeout 300 "$VMTOP" -S "$SOCK" -c "stop deb -w" || return 1
	[ "$(vm_state deb)" = stopped ] || { echo "state $(vm_state deb)"; return 1; }
	r=$(vm_reason deb)
	[ -z "$r" ] || { echo "reason: $r"; return 1; }
}
case_ deb "stop: the power button shuts systemd down" stopped_clean
case_ deb "qemu-img check of the overlay is clean" \
    timeout 120 qemu-img check "$T/debian.qcow2"
if [ "$failed" -gt 0 ]; then
	echo "# console:"; vm_console deb | tail -n 40 | sed 's/^/#   /'
	echo "# firmware log:"; grep 'firmware:' "$T/engine.log" | tail -n 60 | sed 's/^/#   /'
fi
finish
