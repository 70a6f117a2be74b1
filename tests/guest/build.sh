#!/bin/sh
# Build the vmtop test guest: Debian's kernel and a busybox-static initramfs.
#
# Usage: tests/guest/build.sh OUTDIR
#   Writes OUTDIR/vmlinuz (the kernel linux-image-amd64 depends on, fetched
#   with apt-get download and unpacked into build/cache, never installed)
#   and OUTDIR/initrd.img (gzip'd newc cpio). Quiet and under a second when
#   nothing changed. Needs root only when the apt lists must be refreshed.
#
# Boot it with, for example:
#   qemu-system-x86_64 -accel kvm -m 256 -smp 2 -nographic -no-reboot \
#     -kernel OUTDIR/vmlinuz -initrd OUTDIR/initrd.img \
#     -drive file=disk.img,if=virtio,format=raw -device virtio-rng-pci \
#     -append 'console=ttyS0 quiet vmtop.test=cpus,disk,rng'
#
# The guest loads virtio (pci, blk, net, rng, console, scsi with sr),
# evdev and the ACPI button, prints "vmtop-guest: init" on the console,
# then runs the tests named by vmtop.test=A,B,... (tests/guest/tests/*)
# in turn, then
# vmtop.run=BASE64 (a shell snippet), then powers off unless a test never
# returns (wait, ticks, shell). With neither it runs a shell on the serial
# console (the demo). Any vmtop.KEY=VALUE is $VMTOP_KEY for the tests.
# Every line meant for the host starts with "vmtop-guest: ". Tests:
#   cpus      "vmtop-guest: cpus N"
#   disk      reads 1 MiB at 4 MiB of /dev/vda (vmtop.disk=DEV) and prints
#             "disk read MD5", writes "vmtop-disk-pattern\n" repeated over
#             the first 1 MiB with fsync, drops the caches, reads it back:
#             "disk ok MD5" (or "disk mismatch MD5")
#   rng       "vmtop-guest: rng ok virtio_rng.0 64" from /dev/hwrng
#   cdrom     reads all of /dev/sr0 (vmtop.cdrom=DEV): "cdrom size BYTES
#             md5 MD5"
#   net       eth0 by vmtop.ip=A/N (vmtop.gw=G) or DHCP, then pings the
#             gateway or vmtop.ping=ADDR for up to 20 s: "net ping ok ADDR"
#   ticks     "vmtop-guest: tick N UPTIME EPOCH" every second, for ever
#   wait      "vmtop-guest: waiting", then stays up
#   poweroff  "vmtop-guest: poweroff", then poweroff -f (ACPI S5)
#   reboot    "vmtop-guest: reboot", then reboot -f
#   reboot1   reboots once: marks the disk's first bytes and reboots; the
#             next boot sees the mark, says "reboot1 rebooted", goes on
#   shell     a shell on the console, started again when it exits
#   virtq     unbinds the virtio-rng device, feeds its queue garbage with
#             the static helper virtq.c ("virtq ROUND status 0xNN used N"
#             per round, "virtq valid status 0x0f used 1" when the device
#             still works, "virtq done N rounds, M needed a reset"), then
#             binds it again
#   fwjunk    garbage into fw_cfg with the static helper fwjunk.c
#             ("fwjunk ROUND status 0xNN", then "fwjunk valid QEMU QEMU"
#             and "fwjunk done N rounds"), then into the virtio-rng
#             device's BARs with virtq.c -b, unbound meanwhile ("virtq
#             ROUND status 0x0f used 1" after each restore, "virtq done N
#             rounds, N served"), then binds it again; "fwjunk disk same
#             MD5" when the first disk reads the same as before; then a
#             virtio-scsi device's request queue, if any, with virtq.c -q 2
#             ("scsiq ROUND ...", "scsiq valid status 0x0f used 1")
#   counter   writes "vmtop-counter N" (synced) into the disk's first block
#             every 200 ms, then prints "counter N", for ever
#   lines     prints "line N" every 250 ms for ever, and answers each line
#             typed on the console with "heard LINE"
#   rebootcue "boot N", counted on the disk; the first boot reboots once
#             the host writes "vmtop-reboot" at 1 MiB of the disk (and
#             answers "vmtop-reboot-ack" at 1 MiB + 4 KiB)
# The ACPI power button prints "vmtop-guest: power button, shutting down"
# and powers off; poweroff and reboot without -f work from the shell.
set -u
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
. "$HERE/debian.sh"

MODULES="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev?
virtio_pci virtio_blk failover net_failover virtio_net virtio_rng
virtio_console? evdev? button? virtio_scsi sr_mod"

# Rebuild when the kernel or any input of the initramfs changes.
KVER=$(kernel_version) || exit 1
sum=$(cat "$HERE/build.sh" "$HERE/debian.sh" "$HERE/init" "$HERE"/*.[ch] \
    "$HERE"/tests/* | cksum)
stamp="$KVER $sum"
built_from "$OUT" "$stamp" && exit 0

stage_begin "$OUT" guest "$HERE/init"
mkdir -p "$S/etc/vmtop/tests" "$S/etc/acpi/PWRF" "$S/root"
cp "$HERE"/tests/* "$S/etc/vmtop/tests/"
stage_modules "$S" $MODULES
# the virtq and fwjunk tests' helpers, static so they run on busybox alone
for h in virtq fwjunk; do
	if ! ${CC:-cc} -static -O2 -Wall -Wextra -Werror \
	    -o "$S/bin/vmtop-$h" "$HERE/$h.c" 2>"$S/cc.err"; then
		echo "${0##*/}: warning: cannot build the $h helper (the $h test will fail):" >&2
		cat "$S/cc.err" >&2
	fi
done
rm -f "$S/cc.err"
cat >"$S/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "vmtop-guest: power button, shutting down" >/dev/console
sync
poweroff -f
EOF
cat >"$S/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in ${router:-}; do ip route add default via "$r"; break; done ;;
esac
EOF
chmod 755 "$S/etc/acpi/PWRF/00000080" "$S/etc/udhcpc.script"
echo "root:x:0:0:root:/root:/bin/sh" >"$S/etc/passwd"
echo "root:x:0:" >"$S/etc/group"
echo 'PS1="vmtop-guest# "' >"$S/etc/profile"

stage_end "$OUT" "$stamp"
