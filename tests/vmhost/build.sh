#!/bin/sh
# Build the nested-KVM test host: OUTDIR/vmlinuz (Debian's kernel, the
# same as the test guest's) and OUTDIR/initrd.img (busybox-static, KVM,
# 9p, overlay, virtio console; tests/vmhost/init). Quiet and quick when
# nothing changed. VMTOP_VMHOST_KVER names another kernel for the host
# alone (the guest keeps VMTOP_KVER's).
# Usage: tests/vmhost/build.sh OUTDIR (tests/vmhost/run.sh calls it).
set -u
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
. "$TOP/tests/guest/debian.sh"

MODULES="irqbypass ccp? kvm kvm-amd virtio virtio_ring virtio_pci_modern_dev
virtio_pci_legacy_dev? virtio_pci netfs? fscache? 9pnet 9pnet_virtio 9p
overlay virtio_console tun? bridge? virtio_net? virtio_blk?"

# The host's own kernel: VMTOP_VMHOST_KVER, else what the guest runs.
[ -n "${VMTOP_VMHOST_KVER:-}" ] && VMTOP_KVER=$VMTOP_VMHOST_KVER
KVER=$(kernel_version) || exit 1
sum=$(cat "$HERE/build.sh" "$HERE/init" "$TOP/tests/guest/debian.sh" | cksum)
stamp="$KVER $sum"
built_from "$OUT" "$stamp" && exit 0

stage_begin "$OUT" vmhost "$HERE/init"
stage_modules "$S" $MODULES
stage_end "$OUT" "$stamp"
