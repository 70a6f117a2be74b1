#!/bin/sh
# The cdrom under the real runner: a virtio-scsi CD-ROM that SeaBIOS
# boots (El Torito) and Linux reads as /dev/sr0, and the firmware's boot
# order between it and a disk. Three vms boot at once in one host:
#   cd       cdrom only: SeaBIOS boots the ISO of tests/images/build-iso.sh
#            (GRUB, then the test guest), whose `cdrom` test prints the
#            size and md5 of /dev/sr0, which must be the ISO's
#   hd       boot disk, a disk (a qcow2 overlay on the Debian image of
#            tests/images/build-disk.sh) and the cdrom: the disk's GRUB
#            wins; stopped once its menu shows
#   cdfirst  boot cdrom, the same disk and cdrom: the CD wins
# Runs where tests/e2e/run.sh runs (the nested-KVM host here).
#
# Environment: VMTOP_E2E_BOOT (s) bounds each boot, VMTOP_FW_IMAGES the
# folder build-disk.sh fills (build/images).
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
G="$TOP/build/guest"
ISO_DIR="$TOP/build/iso-cdrom"
VMTOP_FW_IMAGES=${VMTOP_FW_IMAGES:-$TOP/build/images}
export VMTOP_FW_IMAGES
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	if ! sh "$TOP/tests/guest/build.sh" "$G"; then
		echo "not ok - build the test guest (tests/guest/build.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	if ! sh "$TOP/tests/images/build-iso.sh" "$ISO_DIR" "$G/vmlinuz" \
	    "$G/initrd.img" 'console=ttyS0 vmtop.test=cdrom'; then
		echo "not ok - build the ISO (tests/images/build-iso.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	if ! sh "$TOP/tests/images/build-disk.sh" "$VMTOP_FW_IMAGES"; then
		echo "not ok - build the Debian disk (tests/images/build-disk.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	. "$E2E/where.sh"
	e2e_where "$E2E/cdrom.sh"
fi

. "$TOP/tests/lib.sh"
. "$E2E/lib.sh"
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
unbooted=
BOOT_TIMEOUT=${VMTOP_E2E_BOOT:-$([ -n "${VMTOP_E2E_INNER:-}" ] && echo 600 || echo 120)}
vm_console() { "$VMTOP" -S "$SOCK" -c "capture $1" 2>/dev/null | tr -d '\r'; }
vm_state() { state "$1"; }
vm_reason() {
	vtj "status $1" 2>/dev/null |
	    sed -n 's/.*"reason": *"\([^"]*\)".*/\1/p'
}
trap '[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f" >/dev/null 2>&1; stop_engine; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
[ -n "${VMTOP_E2E_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"

ISO=$(readlink -f "$ISO_DIR/boot.iso")
# What /dev/sr0 holds: the image in whole 2048-byte blocks.
size=$(stat -c %s "$ISO")
pad=$(( (2048 - size % 2048) % 2048 ))
want_size=$((size + pad))
want_md5=$({ cat "$ISO"; head -c "$pad" /dev/zero; } | md5sum | cut -d' ' -f1)
echo "# ISO $ISO: $size bytes, read as $want_size, md5 $want_md5"

for d in hd cdfirst; do
	if ! qemu-img create -q -f qcow2 -F qcow2 -b \
	    "$VMTOP_FW_IMAGES/debian.qcow2" "$T/$d.qcow2" 2>"$T/qemu-img.log"; then
		not_ok "qcow2 overlay on $VMTOP_FW_IMAGES/debian.qcow2"
		sed 's/^/#   /' "$T/qemu-img.log"
		finish; exit
	fi
done
cat >"$CONF" <<CONF
vm "cd" { memory 256M; cdrom "$ISO" }
vm "hd" {
	memory 512M; boot disk
	disk "$T/hd.qcow2" format qcow2; cdrom "$ISO"
}
vm "cdfirst" {
	memory 256M; boot cdrom
	disk "$T/cdfirst.qcow2" format qcow2; cdrom "$ISO"
}
CONF
ENGINE_ARGS=-v
start_engine
check_out "show cd: firmware, cdrom first" \
    'boot: firmware /usr/share/seabios/bios.bin, cdrom first' vt show cd
check_out "show hd: firmware, disk first" \
    'boot: firmware /usr/share/seabios/bios.bin, disk first' vt show hd

t0=$(date +%s)
for vm in cd hd cdfirst; do
	if out=$(timeout 60 "$VMTOP" -S "$SOCK" -c "start $vm" 2>&1); then
		ok "start $vm"
	else
		not_ok "start $vm"; printf '%s\n' "$out" | sed 's/^/#   /'
		unbooted="$unbooted $vm"
	fi
done

# first_boot NAME: the device SeaBIOS booted first.
first_boot() {
	vm_console "$1" | sed -n 's/.*Booting from \([^.]*\)\.\.\..*/\1/p' |
	    head -n 1
}
# boots_from NAME DEVICE: SeaBIOS's first boot is from DEVICE; a vm that
# boots nothing, or something else, joins $unbooted.
boots_from() {
	if out=$(booted "$1" && wait_console "$1" 'Booting from ' 180); then
		got=$(first_boot "$1")
		if [ "$got" = "$2" ]; then
			ok "$1: SeaBIOS boots from $2 first"; return
		fi
		out="it booted from $got first"
	fi
	not_ok "$1: SeaBIOS boots from $2 first"
	printf '%s\n' "$out" | sed 's/^/#   /'
	unbooted="$unbooted $1"
}

# Each in turn; the others boot meanwhile.
boots_from cd DVD/CD
expect cd "GRUB of the ISO" 'vmtop test guest' 60
await_init cd "$t0"
expect cd "Linux reads /dev/sr0: the ISO's size and md5" \
    "^vmtop-guest: cdrom size $want_size md5 $want_md5\$" 120
boots_from hd "Hard Disk"
expect hd "the disk's GRUB" 'vmtop-debian' 60
vt stop hd -f >/dev/null 2>&1
boots_from cdfirst DVD/CD
await_init cdfirst "$t0"
vt stop -a -f >/dev/null 2>&1
echo "# all three: $(($(date +%s) - t0)) s"
if [ "$failed" -gt 0 ]; then
	for vm in cd hd cdfirst; do
		echo "# console of $vm:"; vm_console $vm | tail -n 30 | sed 's/^/#   /'
	done
	echo "# firmware log:"; grep 'firmware:' "$T/engine.log" | tail -n 80 | sed 's/^/#   /'
fi
finish
