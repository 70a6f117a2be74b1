#!/bin/sh
# Build a real Debian bookworm system on a BIOS-bootable disk, for the
# firmware boot tests; once, cached under /var/tmp (VMTOP_IMAGES_DIR).
#
# Usage: tests/images/build-disk.sh OUTDIR    (as root, to build it)
#   OUTDIR/debian.img     2 GiB raw disk: an MBR with GRUB's boot.img,
#                         GRUB's core.img in sectors 1.., one bootable
#                         Linux partition from 1 MiB to the end, ext4
#                         labelled "root"
#   OUTDIR/debian.qcow2   the same disk as qcow2 (qemu-img convert)
#   OUTDIR/overlay.qcow2  a fresh, empty qcow2 overlay on debian.qcow2,
#                         made again on every run
#   OUTDIR/debian.info    KVER, UUID (of the root fs) and MIRROR lines
# debian.img and debian.qcow2 are symbolic links into the cache: boot
# them read-only or through the overlay (copy debian.img to write it).
# Prints nothing when the cache is up to date.
#
# The system: debootstrap --variant=minbase of bookworm from the mirror
# apt uses here (VMTOP_MIRROR overrides it) with linux-image-amd64,
# systemd-sysv, udev, dbus (logind, which turns the ACPI power button
# into a clean shutdown, needs it), grub-pc-bin; hostname vmtop-debian; root without
# a password; serial-getty@ttyS0; vmtop-marker.service, which prints
# "vmtop-debian: marker up", "vmtop-debian: cpus N", "vmtop-debian: mem KB"
# and lines on the clocksource, timer/serial/RTC interrupts and uptime
# on ttyS0 once multi-user is reached. GRUB talks on the serial port
# (115200) with a timeout of 1 s and boots the kernel with
# root=UUID=... console=ttyS0,115200; the initramfs holds only virtio_pci,
# virtio_blk, virtio_scsi, sr_mod, ext4 and crc32c_generic with their
# dependencies (MODULES=list, checked with lsinitramfs): a fifth of
# MODULES=most, which GRUB loads through the BIOS and the kernel unpacks.
#
# Cache: IMAGES_DIR/vmtop-images-KEY, KEY the sha256 of this script,
# cache.sh and the marker files; built in IMAGES_DIR/vmtop-images-KEY.tmp.PID
# under the lock IMAGES_DIR/vmtop-images.lock and renamed into place;
# folders of other keys are removed. The .debs debootstrap fetched are
# kept in IMAGES_DIR/vmtop-debs-bookworm for the next build.
#
# This kernel makes no partition devices for loop devices and nothing is
# mounted from the image: the file system is made from a folder with
# mkfs.ext4 -d into a file of the partition's size and copied into the
# disk at 1 MiB. GRUB is put in place as grub-bios-setup would: boot.img's
# first 440 bytes into the MBR (the partition table is kept), its
# boot-drive check jump replaced by two NOPs (for BIOSes that pass a bad
# drive number), core.img at sector 1 (where boot.img's default kernel
# sector points; grub-mkimage wrote core.img's own length into its first
# sector's block list, which starts at sector 2). core.img embeds a
# config that finds the root fs by UUID and sets the prefix there.
# debootstrap and the chroot steps run in private mount namespaces, so
# their /proc, /sys and /dev mounts go away with them however the build
# ends, even killed.
set -u
[ $# -eq 1 ] || [ "${1:-}" = --chroot ] ||
    { echo "usage: $0 OUTDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/cache.sh"

SUITE=bookworm
DISK_MIB=2048
PART_START=2048		# sectors of 512 bytes: 1 MiB
INCLUDE=linux-image-amd64,systemd-sysv,udev,dbus,grub-pc-bin,initramfs-tools,kmod,e2fsprogs
INITRD_MODULES="virtio_pci virtio_blk virtio_scsi sr_mod ext4 crc32c_generic"

# mirror: the first URI apt fetches SUITE from, in one-line or deb822
# sources.
mirror() {
	if [ -n "${VMTOP_MIRROR:-}" ]; then echo "$VMTOP_MIRROR"; return; fi
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$SUITE" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($1 == "deb" && $(i + 2) == s) { print $(i + 1); exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" } {
			u = ""; ok = 0; deb = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { u = $i; sub(/^URIs: */, "", u); sub(/ .*/, "", u) }
				if ($i ~ /^Types:/ && $i ~ / deb( |$)/) deb = 1
				if ($i ~ /^Suites:/ && (" " $i " ") ~ (" " s " ")) ok = 1
			}
			if (u != "" && ok && deb) { print u; exit }
		}' "$f"
	done
}

# in_root COMMAND...: run COMMAND in the system being built.
in_root() {
	LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    chroot "$ROOT" "$@"
}

# configure ROOT: the chroot steps; run by "build-disk.sh --chroot ROOT
# UUID" in its own mount namespace.
configure() {
	mount -t proc proc "$ROOT/proc" && mount -t sysfs sys "$ROOT/sys" &&
	    mount --bind /dev "$ROOT/dev" || die "cannot mount into $ROOT"
	KVER=$(cd "$ROOT/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | tail -n 1)
	[ -n "$KVER" ] || die "no kernel in $ROOT/boot"
	echo vmtop-debian >"$ROOT/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmtop-debian\n' >"$ROOT/etc/hosts"
	printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$UUID" \
	    >"$ROOT/etc/fstab"
	in_root passwd -d root >/dev/null || die "passwd -d root failed"
	install -m 755 "$HERE/vmtop-marker" "$ROOT/usr/local/sbin/vmtop-marker"
	install -m 644 "$HERE/vmtop-marker.service" \
	    "$ROOT/etc/systemd/system/vmtop-marker.service"
	in_root systemctl enable -q serial-getty@ttyS0.service vmtop-marker.service ||
	    die "systemctl enable failed"
	[ -s "$ROOT/etc/machine-id" ] || in_root systemd-machine-id-setup >/dev/null
	cat >"$ROOT/etc/default/grub" <<-EOF
	GRUB_DEFAULT=0
	GRUB_TIMEOUT=1
	GRUB_DISTRIBUTOR=Debian
	GRUB_CMDLINE_LINUX_DEFAULT=""
	GRUB_CMDLINE_LINUX="console=ttyS0,115200"
	GRUB_TERMINAL=serial
	GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
	EOF
	# the modules a virtio or CD-ROM root needs, and only those
	for m in $INITRD_MODULES; do echo "$m"; done >>"$ROOT/etc/initramfs-tools/modules"
	echo MODULES=list >"$ROOT/etc/initramfs-tools/conf.d/modules"
	echo RESUME=none >"$ROOT/etc/initramfs-tools/conf.d/resume"
	in_root update-initramfs -u -k "$KVER" >/dev/null 2>&1 ||
	    die "update-initramfs failed"
	list=$(in_root lsinitramfs "/boot/initrd.img-$KVER") ||
	    die "lsinitramfs failed"
	for m in $INITRD_MODULES; do
		printf '%s\n' "$list" | grep -q "/$m\.ko" && continue
		grep -q "/$m\.ko" "$ROOT/lib/modules/$KVER/modules.builtin" &&
		    continue
		die "module $m is not in initrd.img-$KVER"
	done
	mkdir -p "$ROOT/boot/grub/i386-pc"
	cp "$ROOT/usr/lib/grub/i386-pc/"*.mod "$ROOT/usr/lib/grub/i386-pc/"*.lst \
	    "$ROOT/boot/grub/i386-pc/" || die "cannot copy GRUB's modules"
	cat >"$ROOT/boot/grub/grub.cfg" <<-EOF
	serial --unit=0 --speed=115200
	terminal_input serial
	terminal_output serial
	set default=0
	set timeout=1
	menuentry 'Debian GNU/Linux $SUITE (vmtop-debian)' {
		insmod part_msdos
		insmod ext2
		search --no-floppy --fs-uuid --set=root $UUID
		linux /boot/vmlinuz-$KVER root=UUID=$UUID ro console=ttyS0,115200
		initrd /boot/initrd.img-$KVER
	}
	EOF
	# core.img: the early config finds the root fs wherever the disk is
	cat >"$ROOT/tmp/early.cfg" <<-EOF
	search --no-floppy --fs-uuid --set=root $UUID
	set prefix=(\$root)/boot/grub
	EOF
	in_root grub-mkimage -O i386-pc -o /tmp/core.img -c /tmp/early.cfg \
	    -p /boot/grub biosdisk part_msdos ext2 search search_fs_uuid normal \
	    serial terminal linux echo test ||
	    die "grub-mkimage failed"
	in_root apt-get clean
	rm -rf "$ROOT/var/lib/apt/lists/"*
	printf 'KVER %s\nUUID %s\nMIRROR %s\n' "$KVER" "$UUID" "$MIRROR" \
	    >"$ROOT/tmp/info"
	umount "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"
}

# build TMPDIR: the disk images into TMPDIR.
build() {
	B=$1
	ROOT=$B/root
	[ "$(id -u)" -eq 0 ] || die "building the disk needs root (debootstrap, chroot)"
	t0=$(date +%s)
	MIRROR=$(mirror | head -n 1)
	[ -n "$MIRROR" ] || die "no $SUITE mirror in the apt sources (set VMTOP_MIRROR)"
	UUID=$(cat /proc/sys/kernel/random/uuid)
	debs=$IMAGES_DIR/vmtop-debs-$SUITE
	mkdir -p "$debs" "$ROOT"
	echo "build-disk: debootstrap $SUITE from $MIRROR" >&2
	# debootstrap mounts /proc into ROOT too: in a namespace of its own
	unshare --mount --propagation private \
	    debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$debs" \
	    "$SUITE" "$ROOT" "$MIRROR" >"$B/debootstrap.log" 2>&1 || {
		tail -n 20 "$B/debootstrap.log" >&2
		die "debootstrap failed"
	}
	t1=$(date +%s)
	MIRROR=$MIRROR UUID=$UUID unshare --mount --propagation private \
	    sh "$HERE/build-disk.sh" --chroot "$ROOT" || return 1
	mv "$ROOT/tmp/core.img" "$ROOT/tmp/info" "$B/" || return 1
	rm -f "$ROOT/tmp/early.cfg"
	part=$(((DISK_MIB * 2048 - PART_START) * 512))
	truncate -s "$part" "$B/part.img" &&
	    mkfs.ext4 -q -F -L root -U "$UUID" -d "$ROOT" "$B/part.img" ||
	    die "mkfs.ext4 failed"
	cache_rm "$ROOT" || return 1
	disk=$B/debian.img
	truncate -s "${DISK_MIB}M" "$disk"
	printf 'label: dos\nlabel-id: 0x766d7470\nunit: sectors\n\nstart=%d, type=83, bootable\n' \
	    "$PART_START" | sfdisk -q "$disk" || die "sfdisk failed"
	dd if="$B/part.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse \
	    status=none || die "cannot copy the file system into $disk"
	rm -f "$B/part.img"
	# the MBR code, not the partition table; core.img up to 1 MiB
	core=$(stat -c %s "$B/core.img")
	[ "$core" -le $(((PART_START - 1) * 512)) ] ||
	    die "core.img ($core bytes) does not fit before the partition"
	dd if="$B/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none &&
	    printf '\220\220' | dd of="$disk" bs=1 seek=102 conv=notrunc status=none &&
	    dd if="$B/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none ||
	    die "cannot write GRUB into $disk"
	rm -f "$B/core.img" "$B/boot.img"
	qemu-img convert -f raw -O qcow2 "$disk" "$B/debian.qcow2" ||
	    die "qemu-img convert failed"
	mv "$B/info" "$B/debian.info"
	t2=$(date +%s)
	echo "build-disk: debootstrap $((t1 - t0)) s, the rest $((t2 - t1)) s" >&2
	printf 'BUILD_SECONDS %d\n' $((t2 - t0)) >>"$B/debian.info"
}

if [ "$1" = --chroot ]; then
	ROOT=$2
	configure
	cp "$ROOT/usr/lib/grub/i386-pc/boot.img" "$ROOT/../boot.img"
	exit 0
fi

OUT=$1
KEY=$(cat "$HERE/build-disk.sh" "$HERE/cache.sh" "$HERE/vmtop-marker" \
    "$HERE/vmtop-marker.service" | cache_key)
cache_get vmtop-images "$KEY" 0 build
mkdir -p "$OUT" || die "cannot create $OUT"
for f in debian.img debian.qcow2 debian.info; do
	ln -sfn "$CACHED/$f" "$OUT/$f" || die "cannot link $OUT/$f"
done
rm -f "$OUT/overlay.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b debian.qcow2 "$OUT/overlay.qcow2" ||
    die "cannot create $OUT/overlay.qcow2"
