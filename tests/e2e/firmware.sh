#!/bin/sh
# Firmware boot under the real runner: VMs without a kernel boot SeaBIOS
# (/usr/share/seabios/bios.bin), which boots GRUB from the Debian disk of
# tests/images/build-disk.sh over virtio-blk, and GRUB boots Debian to its
# marker and a login prompt on ttyS0. Three guests at once, in one
# nested-KVM host:
#   deb2  2 vCPUs, a qcow2 overlay on the cached image
#   deb1  1 vCPU, a private raw copy of the image: logs in on the serial
#         console, writes a token and reboots, and comes back through the
#         firmware; after the stop the token is in the image and e2fsck
#         finds the file system clean
#   deb4  4 vCPUs, a qcow2 overlay
#   smp64 64 vCPUs (the most a vm may have), booting the test guest
#         from tests/images/build-iso.sh's hybrid ISO as a disk: SeaBIOS
#         counts 64 CPUs, so does Linux, and the guest powers off
# Stop is the ACPI power button and a clean systemd shutdown; qemu-img
# check of each overlay is clean afterwards.
# Each guest must see every vCPU it has, and Linux must take the BARs
# where SeaBIOS put them. Runs where tests/e2e/run.sh runs (the nested-KVM
# host here). Run by `make check-firmware`, not by make check: three full
# systemd boots at once take most of an hour in the nested host here.
#
# Environment: VMTOP_E2E_BOOT (s) bounds each boot, VMTOP_FW_IMAGES the
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
	if ! sh "$TOP/tests/images/build-iso.sh" "$VMTOP_FW_IMAGES/cpus" \
	    "$G/vmlinuz" "$G/initrd.img" "console=ttyS0 vmtop.test=cpus,poweroff"; then
		echo "not ok - build the test guest's ISO (tests/images/build-iso.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	. "$E2E/where.sh"
	e2e_where "$E2E/firmware.sh"
fi

. "$TOP/tests/lib.sh"
. "$E2E/lib.sh"
. "$E2E/vmtop.sh"
unbooted=
guests="deb2 deb1 deb4"	# the Debian ones; smp64 too
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 1500 || echo 300)}
STOP_TIMEOUT=300
IMG=$VMTOP_FW_IMAGES
PART_OFFSET=1048576		# the root file system's partition, at 1 MiB
trap 'vm_cleanup; stop_engine; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
[ -n "${VMTOP_E2E_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"

# fw_add NAME VCPUS MEMORY DISK: a vm that boots DISK through the BIOS.
fw_add() {
	case "$4" in *.qcow2) f=qcow2 ;; *) f=raw ;; esac
	printf 'vm "%s" {\n\tmemory %s; vcpus %s\n\tdisk "%s" format %s\n}\n' \
	    "$1" "$3" "$2" "$4" "$f" >>"$CONF"
}
overlay() {
	qemu-img create -q -f qcow2 -F qcow2 -b "$IMG/debian.qcow2" "$1"
}
: >"$CONF"
check "a qcow2 overlay on the cached image for deb2" overlay "$T/deb2.qcow2"
check "a qcow2 overlay on the cached image for deb4" overlay "$T/deb4.qcow2"
check "a private raw copy of the image for deb1" \
    cp --sparse=always "$IMG/debian.img" "$T/deb1.img"
fw_add deb2 2 512M "$T/deb2.qcow2"
fw_add deb1 1 384M "$T/deb1.img"
fw_add deb4 4 512M "$T/deb4.qcow2"
check "a copy of the test guest's ISO for smp64" cp "$IMG/cpus/boot.iso" "$T/smp64.img"
fw_add smp64 64 512M "$T/smp64.img"
ENGINE_ARGS=-v
start_engine
t0=$(date +%s)
debians=$guests
guests="$guests smp64"
start_guests
guests=$debians
# since: seconds since the guests started, for the timeline lines
since() { echo "+$(($(date +%s) - t0)) s"; }
for vm in $guests; do
	expect "$vm" "SeaBIOS banner" 'SeaBIOS \(version' 120
	expect "$vm" "SeaBIOS boots the disk" 'Booting from Hard Disk' 120
done
echo "# SeaBIOS booted the disks: $(since)"
for vm in $guests; do
	expect "$vm" "GRUB boots Debian's kernel" '^\[ *0\.000000\] Linux version' 300
done
echo "# the kernels run: $(since)"
for vm in $guests; do
	left=$((BOOT_TIMEOUT - ($(date +%s) - t0)))
	[ $left -lt 5 ] && left=5
	if out=$(wait_console "$vm" 'vmtop-debian: marker up' "$left"); then
		ok "$vm: Debian's marker service ran ($(since))"
	else
		not_ok "$vm: Debian's marker service ran"
		printf '%s\n' "$out" | sed 's/^/#   /'
		unbooted="$unbooted $vm"
	fi
done
expect deb2 "the guest sees 2 vCPUs" '^vmtop-debian: cpus 2$' 10
expect deb1 "the guest sees 1 vCPU" '^vmtop-debian: cpus 1$' 10
expect deb4 "the guest sees 4 vCPUs" '^vmtop-debian: cpus 4$' 10
expect smp64 "Linux sees 64 vCPUs" '^vmtop-guest: cpus 64$' "$BOOT_TIMEOUT"
case_ smp64 "SeaBIOS counted 64 CPUs" \
    grep -q 'firmware: Found 64 cpu(s) max supported 64 cpu(s)' "$T/engine.log"
case_ smp64 "the guest powered off" wait_for smp64 stopped 300
# bars_kept NAME: the kernel complained of no BAR SeaBIOS placed.
bars_kept() {
	! vm_console "$1" |
	    grep -E 'BAR [0-9].*(no space|failed to assign|can.t claim)'
}
for vm in $guests; do
	expect "$vm" "a login prompt on ttyS0" 'vmtop-debian login:' 300
	case_ "$vm" "Linux took every BAR where SeaBIOS put it" bars_kept "$vm"
	echo "# $vm: $(vm_console "$vm" | grep -c . ) console lines, exits $(vm_field "$vm" exits)"
done
echo "# logins: $(since)"

# type NAME TEXT: TEXT and a carriage return into NAME's serial console.
type_() {
	tty=$(vtj "status $1" 2>/dev/null | sed -n 's/.*"tty": *"\([^"]*\)".*/\1/p')
	[ -c "$tty" ] || { echo "vm $1's tty \"$tty\" is not a tty"; return 1; }
	printf '%s\r' "$2" >"$tty"
}
token=vmtop-persist-$$-$(date +%s)
case_ deb1 "root logs in on the serial console" type_ deb1 root
expect deb1 "a root shell" 'root@vmtop-debian:~#' 120
case_ deb1 "write a token, sync and reboot" \
    type_ deb1 "echo $token >/root/vmtop-token; sync; reboot"
# seen NAME PATTERN: how many console lines match PATTERN.
seen() { vm_console "$1" | grep -c -- "$2"; }
# twice NAME PATTERN SECONDS: the console shows PATTERN a second time.
twice() {
	end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(seen "$1" "$2")" -ge 2 ] && return 0
		sleep 1
	done
	echo "\"$2\" $(seen "$1" "$2") time(s) after $3 s; console:"
	vm_console "$1" | tail -n 15
	return 1
}
case_ deb1 "reboot in the guest comes back through the firmware" \
    twice deb1 'SeaBIOS (version' 600
case_ deb1 "the engine counted the restart" \
    sh -c '[ "${1:-0}" -ge 1 ]' - "$(vm_restarts deb1)"
case_ deb1 "Debian boots again to its marker" \
    twice deb1 'vmtop-debian: marker up' "$BOOT_TIMEOUT"
echo "# deb1 rebooted: $(since)"

# stopped_clean NAME: stop = the power button; systemd shuts down and
# powers off, so the vm stops with no error.
stopped_clean() {
	vm_stop "$1" >/dev/null || return 1
	[ "$(vm_state "$1")" = stopped ] || { echo "state $(vm_state "$1")"; return 1; }
	r=$(vm_reason "$1")
	[ -z "$r" ] || { echo "reason: $r"; return 1; }
	vm_console "$1" | grep -q 'reboot: Power down' ||
	    { echo "no \"reboot: Power down\" from the kernel"; return 1; }
}
for vm in $guests; do
	case_ "$vm" "stop: the power button shuts systemd down" stopped_clean "$vm"
done
echo "# stopped: $(since)"
token_in_image() {
	got=$(debugfs -R 'cat /root/vmtop-token' "$T/deb1.img?offset=$PART_OFFSET" 2>/dev/null)
	[ "$got" = "$token" ] || { echo "/root/vmtop-token holds \"$got\""; return 1; }
}
case_ deb1 "the token written in the guest is in the image" token_in_image
case_ deb1 "e2fsck of the raw disk is clean" \
    e2fsck -fn "$T/deb1.img?offset=$PART_OFFSET"
for vm in deb2 deb4; do
	case_ "$vm" "qemu-img check of the overlay is clean" \
	    timeout 300 qemu-img check "$T/$vm.qcow2"
done
if [ "$failed" -gt 0 ]; then
	for vm in $guests smp64; do
		echo "# $vm's console:"; vm_console "$vm" | tail -n 30 | sed 's/^/#   /'
		echo "# $vm: the kernel on CPUs, ACPI and the power button:"
		vm_console "$vm" | grep -E 'smpboot|SMP|ACPI:|APIC|Power Button|logind|BAR' |
		    head -n 40 | sed 's/^/#   /'
	done
	echo "# firmware log:"; grep 'firmware:' "$T/engine.log" | tail -n 60 | sed 's/^/#   /'
fi
finish
