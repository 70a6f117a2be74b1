#!/bin/sh
# The firmware boot tests' images, built (or taken from the cache) and
# checked without booting them: the disk's partition table, MBR and GRUB
# core.img, its ext4 file system (e2fsck through a read-only loop device
# at the partition's offset) and the files the boot needs in it (debugfs),
# the qcow2 and its overlay (qemu-img), the ISO's El Torito boot and
# hybrid MBR (xorriso). Needs root; the first run takes minutes.
# Usage: tests/images/test.sh
. "$(dirname "$0")/../lib.sh"
IMG="$TOP/tests/images"
O="$T/out"
LOOP=

cleanup() { [ -z "$LOOP" ] || losetup -d "$LOOP"; LOOP=; }
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "# skipped: needs root (debootstrap, chroot, losetup)"
	finish; exit
fi

# ----- the disk
check "build-disk.sh builds or finds the disk" sh "$IMG/build-disk.sh" "$O"
check_quiet() { out=$("$@" 2>&1) && [ -z "$out" ] || { echo "$out"; return 1; }; }
check "build-disk.sh again is quiet (cached)" check_quiet sh "$IMG/build-disk.sh" "$O"
mkdir -p "$T/user" && chmod 777 "$T/user"
check "a cache hit needs no root" setpriv --reuid=nobody --regid=nogroup \
    --clear-groups sh "$IMG/build-disk.sh" "$T/user/out"
D="$O/debian.img"
info() { sed -n "s/^$1 //p" "$O/debian.info"; }
KVER=$(info KVER)
UUID=$(info UUID)
check "debian.info names the kernel and the root UUID" \
    sh -c '[ -n "$1" ] && echo "$2" | grep -Eq "^[0-9a-f-]{36}$"' - "$KVER" "$UUID"
check "the raw disk is 2 GiB" test "$(stat -L -c %s "$D")" -eq 2147483648
check "the build left no mounts" sh -c '! grep -q " /var/tmp/vmtop-images-" /proc/self/mounts'
check "one cache folder for the disk" \
    test "$(ls -d /var/tmp/vmtop-images-* | grep -cv '\.lock$')" -eq 1

table=$(sfdisk -d "$D" 2>&1)
check_out "sfdisk: an MBR label" "^label: dos" echo "$table"
check_out "sfdisk: one bootable Linux partition at 1 MiB to the end" \
    "debian.img1 : start= *2048, size= *4192256, type=83, bootable" echo "$table"
check "sfdisk: no second partition" \
    test "$(echo "$table" | grep -c '^/.*: start=')" -eq 1

# hexat FILE OFFSET COUNT: COUNT bytes of FILE at OFFSET, in hex.
hexat() { dd if="$1" bs=1 skip="$2" count="$3" status=none | od -An -tx1 | tr -d ' \n'; }
check "MBR ends in 55aa" test "$(hexat "$D" 510 2)" = 55aa
check "MBR: GRUB's boot.img, drive check jump made NOPs" test "$(hexat "$D" 102 2)" = 9090
check "MBR: boot.img loads sector 1" test "$(hexat "$D" 92 8)" = 0100000000000000
check_out "MBR says GRUB" "GRUB" dd if="$D" bs=440 count=1 status=none
# core.img's first sector ends in its block list: start, length, segment
check "core.img's block list: the rest from sector 2" \
    test "$(hexat "$D" $((1024 - 12)) 8)" = 0200000000000000
len=$(dd if="$D" bs=1 skip=$((1024 - 4)) count=2 status=none | od -An -tu2 | tr -d ' ')
check "core.img fits before the partition ($len sectors)" \
    test "${len:-0}" -gt 10 -a "${len:-0}" -lt 2046

LOOP=$(losetup -f --show -r -o $((2048 * 512)) --sizelimit $((4192256 * 512)) "$D")
check "a read-only loop device on the partition" test -b "$LOOP"
check "e2fsck -fn: the root file system is clean" e2fsck -fn "$LOOP"
sb=$(dumpe2fs -h "$LOOP" 2>/dev/null)
check_out "the file system is labelled root" "^Filesystem volume name: *root$" echo "$sb"
check_out "its UUID is debian.info's" "^Filesystem UUID: *$UUID$" echo "$sb"
check_out "it is ext4 (extents)" "^Filesystem features:.* extent" echo "$sb"

# fs_has PATH TYPE: debugfs finds PATH of TYPE (regular, directory, symlink).
fs_has() { debugfs -R "stat $1" "$LOOP" 2>/dev/null | grep -q "Type: $2"; }
fs_cat() { debugfs -R "cat $1" "$LOOP" 2>/dev/null; }
# fs_same PATH FILE: PATH in the image holds what FILE holds.
fs_same() { fs_cat "$1" | cmp -s - "$2"; }
check "debugfs: ls /boot lists grub" \
    sh -c 'debugfs -R "ls /boot" "$1" 2>/dev/null | grep -q grub' - "$LOOP"
check "the kernel /boot/vmlinuz-$KVER" fs_has "/boot/vmlinuz-$KVER" regular
check "the initramfs /boot/initrd.img-$KVER" fs_has "/boot/initrd.img-$KVER" regular
check "GRUB's modules in /boot/grub/i386-pc" fs_has /boot/grub/i386-pc/normal.mod regular
check "/boot/grub/grub.cfg" fs_has /boot/grub/grub.cfg regular
cfg=$(fs_cat /boot/grub/grub.cfg)
check_out "grub.cfg: serial at 115200" "^serial --unit=0 --speed=115200$" echo "$cfg"
check_out "grub.cfg: serial terminal" "^terminal_output serial$" echo "$cfg"
check_out "grub.cfg: timeout 1" "^set timeout=1$" echo "$cfg"
check_out "grub.cfg: the kernel, root by UUID, console on ttyS0" \
    "linux /boot/vmlinuz-$KVER root=UUID=$UUID ro console=ttyS0,115200$" echo "$cfg"
check_out "grub.cfg: the initramfs" "initrd /boot/initrd.img-$KVER$" echo "$cfg"
check "the marker service" fs_same /etc/systemd/system/vmtop-marker.service \
    "$IMG/vmtop-marker.service"
check "the marker script" fs_same /usr/local/sbin/vmtop-marker "$IMG/vmtop-marker"
check "the marker service is enabled" \
    fs_has /etc/systemd/system/multi-user.target.wants/vmtop-marker.service symlink
check "serial-getty@ttyS0 is enabled" \
    fs_has /etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service symlink
check "systemd is init" fs_has /lib/systemd/systemd regular
check_out "hostname vmtop-debian" "^vmtop-debian$" fs_cat /etc/hostname
check_out "fstab: root by UUID" "^UUID=$UUID[[:space:]]*/[[:space:]]*ext4" fs_cat /etc/fstab
check_out "root has no password" "^root::" fs_cat /etc/shadow
check_out "/etc/default/grub: serial terminal" "^GRUB_TERMINAL=serial$" \
    fs_cat /etc/default/grub

# the initramfs's own listing (gzip'd newc cpio) names the modules
debugfs -R "dump /boot/initrd.img-$KVER $T/initrd" "$LOOP" 2>/dev/null
mods=$(gzip -dc "$T/initrd" 2>/dev/null | busybox cpio -t 2>/dev/null)
builtin=$(fs_cat "/lib/modules/$KVER/modules.builtin")
for m in virtio_pci virtio_blk virtio_scsi sr_mod ext4 crc32c_generic; do
	check "initramfs has $m" sh -c 'printf "%s\n" "$1" "$2" | grep -q "/$3\.ko"' \
	    - "$mods" "$builtin" "$m"
done
# MODULES=list: a NIC driver MODULES=most would carry is left out
check "initramfs holds only the listed modules (no e1000e)" \
    sh -c '[ -n "$1" ] && ! printf "%s\n" "$1" | grep -q "/e1000e\.ko"' - "$mods"
cleanup

check "qemu-img check debian.qcow2" qemu-img check -q "$O/debian.qcow2"
check "qemu-img compare: debian.qcow2 is debian.img" \
    qemu-img compare -q -f raw -F qcow2 "$D" "$O/debian.qcow2"
check "qemu-img check overlay.qcow2" qemu-img check -q "$O/overlay.qcow2"
oinfo=$(qemu-img info "$O/overlay.qcow2" 2>&1)
check_out "the overlay is qcow2" "^file format: qcow2$" echo "$oinfo"
check_out "the overlay's backing file is debian.qcow2" "^backing file: debian.qcow2" echo "$oinfo"
check_out "the overlay's backing format is qcow2" "^backing file format: qcow2$" echo "$oinfo"
check_out "the overlay is the disk's size" "^virtual size: 2 GiB" echo "$oinfo"

# ----- the ISO
check "tests/guest/build.sh" "$TOP/tests/guest/build.sh" "$TOP/build/guest"
K="$TOP/build/guest/vmlinuz"
R="$TOP/build/guest/initrd.img"
cmd="console=ttyS0 vmtop.test=cpus,poweroff"
check "build-iso.sh builds or finds the ISO" sh "$IMG/build-iso.sh" "$O" "$K" "$R" "$cmd"
check "build-iso.sh again is quiet (cached)" \
    check_quiet sh "$IMG/build-iso.sh" "$O" "$K" "$R" "$cmd"
I="$O/boot.iso"
el=$(xorriso -indev "$I" -report_el_torito plain 2>&1)
check_out "the ISO has El Torito boot" "^Boot record  : El Torito" echo "$el"
check_out "El Torito: a BIOS no-emulation boot image" \
    "^El Torito boot img : *1 *BIOS *y *none" echo "$el"
check_out "El Torito: GRUB's eltorito.img" "^El Torito img path : *1 */boot/grub/i386-pc/eltorito.img" echo "$el"
check_out "the ISO has GRUB's hybrid MBR" "^Boot record .*grub2-mbr" echo "$el"
check "the hybrid MBR ends in 55aa" test "$(hexat "$I" 510 2)" = 55aa
check "the hybrid MBR's partition is bootable" test "$(hexat "$I" 446 1)" = 80
xorriso -osirrox on -indev "$I" -extract /boot/grub/grub.cfg "$T/iso.cfg" \
    -extract /boot/vmlinuz "$T/iso.vmlinuz" >/dev/null 2>&1
check_out "the ISO's grub.cfg boots the kernel with the command line" \
    "linux /boot/vmlinuz $cmd$" cat "$T/iso.cfg"
check_out "the ISO's grub.cfg: serial terminal, timeout 1" \
    "^set timeout=1$" cat "$T/iso.cfg"
check "the ISO's kernel is the guest's" cmp -s "$K" "$T/iso.vmlinuz"
check "another command line is another ISO" \
    sh -c 'sh "$1" "$2/o2" "$3" "$4" "console=ttyS0 vmtop.test=wait" &&
	! cmp -s "$2/o2/boot.iso" "$2/out/boot.iso"' - "$IMG/build-iso.sh" "$T" "$K" "$R"
check_fail "build-iso.sh refuses a missing kernel" "no kernel" \
    sh "$IMG/build-iso.sh" "$T/o3" "$T/nonesuch" "$R"
check_fail "build-iso.sh refuses quotes in the command line" "CMDLINE may not" \
    sh "$IMG/build-iso.sh" "$T/o3" "$K" "$R" "console=ttyS0 'x"
finish
