#!/bin/sh
# Print "direct" when this machine's /dev/kvm boots the test guest (Debian's
# kernel) with `qemu-system-x86_64 -accel kvm` (or exists and there is no
# QEMU to try it with), else "vmhost". Some KVMs boot nothing stock: a PVM
# host's (kvm_pvm, no VMX/SVM) crawls through the kernel's decompressor and
# then fails to emulate cmpxchg16b. Remembered per boot of this machine in
# build/cache/kvm-probe; VMTOP_KVM_PROBE_SECONDS bounds the try (20).
# Usage: tests/e2e/kvm-probe.sh GUESTDIR (vmlinuz and initrd.img of
# tests/guest/build.sh)
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
G=$1
cache="$TOP/build/cache/kvm-probe"
stamp=$(cat "$G/.stamp" 2>/dev/null)
key="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) ${stamp%% *}"
if [ -f "$cache" ] && [ "$(sed -n 1p "$cache")" = "$key" ]; then
	sed -n 2p "$cache"
	exit 0
fi
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo vmhost; exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	# nothing to try it with: most KVMs are the real thing
	echo direct; exit 0
fi
out=$(timeout -k 5 "${VMTOP_KVM_PROBE_SECONDS:-20}" \
    qemu-system-x86_64 -accel kvm -m 256 -smp 1 -nodefaults \
    -display none -no-reboot -serial stdio -kernel "$G/vmlinuz" \
    -initrd "$G/initrd.img" \
    -append "console=ttyS0 quiet panic=-1 vmtop.test=poweroff" \
    </dev/null 2>&1)
case "$out" in
*"vmtop-guest: poweroff"*) result=direct ;;
*) result=vmhost ;;
esac
mkdir -p "${cache%/*}" && printf '%s\n%s\n' "$key" "$result" >"$cache"
echo "$result"
