#!/bin/sh
# Build a BIOS-bootable ISO that boots a kernel and initramfs with GRUB,
# for the firmware's CD-ROM boot tests; once per input, cached under
# /var/tmp (VMTOP_IMAGES_DIR).
#
# Usage: tests/images/build-iso.sh OUTDIR KERNEL INITRD [CMDLINE]
#   OUTDIR/boot.iso   made by grub-mkrescue (xorriso) from GRUB's i386-pc
#                     platform: El Torito boot (no emulation, GRUB's
#                     cdboot.img + core.img) and a hybrid MBR, so it boots
#                     as a CD-ROM or as a disk; a symbolic link into the
#                     cache. GRUB talks on the serial port (115200), waits
#                     1 s and boots /boot/vmlinuz (KERNEL) with
#                     /boot/initrd.img (INITRD) and CMDLINE (default
#                     "console=ttyS0 vmtop.test=cpus").
# For the test guest: tests/guest/build.sh build/guest, then
#   tests/images/build-iso.sh OUT build/guest/vmlinuz build/guest/initrd.img \
#     'console=ttyS0 vmtop.test=cpus,poweroff'
# Prints nothing when the cache is up to date.
#
# Cache: IMAGES_DIR/vmtop-iso-KEY, KEY the sha256 of this script,
# cache.sh, the kernel, the initramfs and CMDLINE; built under the lock
# IMAGES_DIR/vmtop-iso.lock; folders of other keys unused for a day are
# removed.
set -u
[ $# -eq 3 ] || [ $# -eq 4 ] ||
    { echo "usage: $0 OUTDIR KERNEL INITRD [CMDLINE]" >&2; exit 2; }
OUT=$1 KERNEL=$2 INITRD=$3 CMDLINE=${4:-console=ttyS0 vmtop.test=cpus}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/cache.sh"

case "$CMDLINE" in *[\'\"\\\$\;\{\}]*|*'
'*) die "CMDLINE may not hold quotes, \\, \$, ;, braces or newlines" ;; esac
[ -f "$KERNEL" ] || die "no kernel $KERNEL"
[ -f "$INITRD" ] || die "no initramfs $INITRD"
[ -f /usr/lib/grub/i386-pc/cdboot.img ] ||
    die "GRUB's i386-pc files are missing (apt-get install grub-pc-bin)"

# build TMPDIR: the ISO into TMPDIR.
build() {
	B=$1
	t0=$(date +%s)
	mkdir -p "$B/tree/boot/grub" &&
	    cp "$KERNEL" "$B/tree/boot/vmlinuz" &&
	    cp "$INITRD" "$B/tree/boot/initrd.img" || die "cannot copy the inputs"
	cat >"$B/tree/boot/grub/grub.cfg" <<-EOF
	serial --unit=0 --speed=115200
	terminal_input serial
	terminal_output serial
	set default=0
	set timeout=1
	menuentry 'vmtop test guest' {
		linux /boot/vmlinuz $CMDLINE
		initrd /boot/initrd.img
	}
	EOF
	grub-mkrescue -d /usr/lib/grub/i386-pc -o "$B/boot.iso" "$B/tree" \
	    >"$B/grub-mkrescue.log" 2>&1 || {
		tail -n 20 "$B/grub-mkrescue.log" >&2
		die "grub-mkrescue failed"
	}
	rm -rf "$B/tree"
	printf 'CMDLINE %s\nKERNEL_SHA256 %s\nINITRD_SHA256 %s\nBUILD_SECONDS %d\n' \
	    "$CMDLINE" "$(sha256sum <"$KERNEL" | cut -d' ' -f1)" \
	    "$(sha256sum <"$INITRD" | cut -d' ' -f1)" $(($(date +%s) - t0)) \
	    >"$B/boot.info"
}

KEY=$({ cat "$HERE/build-iso.sh" "$HERE/cache.sh"; sha256sum <"$KERNEL"
    sha256sum <"$INITRD"; printf '%s\n' "$CMDLINE"; } | cache_key)
cache_get vmtop-iso "$KEY" 1440 build
mkdir -p "$OUT" || die "cannot create $OUT"
for f in boot.iso boot.info; do
	ln -sfn "$CACHED/$f" "$OUT/$f" || die "cannot link $OUT/$f"
done
