#!/bin/sh
# Run a command as root in a throwaway nested-KVM host, for machines (and
# CI) without a usable /dev/kvm.
#
# Usage: tests/vmhost/run.sh [-i] [-t SECONDS] COMMAND [ARG...]
#
# Boots `qemu-system-x86_64 -accel tcg -cpu max` (QEMU emulates AMD SVM)
# with Debian's kernel and the initramfs of tests/vmhost/build.sh, which
# loads kvm-amd, mounts this machine's / read-only over 9p under a tmpfs
# overlay, chroots there (with /dev, /proc, /sys and a fresh /run; /tmp is
# this machine's, writable in the overlay) and runs COMMAND in the current directory with PATH, TOP, LANG and every
# VMTOP_* variable (and those named in VMHOST_ENV) kept. Its output comes
# out on stdout; the exit status is COMMAND's, 124 on timeout (default
# 1800 s, or VMHOST_TIMEOUT), 125 when the host itself failed. Files the
# command writes vanish with the host, except under /vmhost/out, which is
# $VMHOST_OUT here when set. VMHOST_MEM (4G) and VMHOST_SMP (2) size it;
# VMHOST_TCG_THREAD (multi) picks QEMU's TCG threading; VMHOST_APPEND
# adds to the host kernel's command line, module parameters such as
# kvm_amd.npt=0 too (tests/vmhost/init passes them to insmod). When the
# host fails, its console goes to stderr from the kernel's first complaint
# on (else its tail), and whole to $VMHOST_CONSOLE when set.
# With -i, COMMAND gets this terminal (its size and TERM) as its
# controlling tty, for interactive programs such as the dashboard.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
export TOP
timeout=${VMHOST_TIMEOUT:-1800}
interactive=
while :; do
	case "${1:-}" in
	-i) interactive=1; shift ;;
	-t) [ $# -ge 2 ] || break; timeout=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-i] [-t SECONDS] COMMAND [ARG...]" >&2; exit 2; }
if [ -n "$interactive" ] && ! [ -t 0 ]; then
	echo "vmhost: -i needs a terminal on stdin" >&2; exit 2
fi

say() { echo "vmhost: $*" >&2; }
command -v qemu-system-x86_64 >/dev/null 2>&1 || {
	say "qemu-system-x86_64 not found: install qemu-system-x86"; exit 125; }
sh "$HERE/build.sh" "$TOP/build/vmhost" || { say "cannot build the host"; exit 125; }

W=$(mktemp -d "${TMPDIR:-/tmp}/vmhost.XXXXXX") || exit 125
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' HUP TERM

# q WORD: WORD quoted for sh.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

{
	echo "# written by tests/vmhost/run.sh"
	for v in PATH TOP LANG LC_ALL TERM $(env | sed -n 's/^\(VMTOP_[A-Za-z0-9_]*\)=.*/\1/p') ${VMHOST_ENV:-}; do
		eval "set_=\${$v+x}"
		[ -n "$set_" ] && eval "echo \"export $v=\$(q \"\$$v\")\""
	done
	echo "export HOME=/root"
	if [ -n "$interactive" ]; then
		size=$(stty size 2>/dev/null)
		[ -n "$size" ] && echo "stty rows ${size% *} cols ${size#* } 2>/dev/null"
	fi
	echo "cd $(q "$(pwd)") || exit 125"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$W/run.sh"
if [ -n "${VMHOST_OUT:-}" ]; then
	mkdir -p "$VMHOST_OUT" "$W/out" || exit 125
fi

share() {	# share ID PATH TAG [readonly]
	echo "-fsdev local,id=$1,path=$2,security_model=none,multidevs=remap${4:+,readonly=on}"
	echo "-device virtio-9p-pci,fsdev=$1,mount_tag=$3"
}
outshare=
[ -n "${VMHOST_OUT:-}" ] && outshare=$(share out "$VMHOST_OUT" vmhostout)
# kvm_amd.npt=0: the host's KVM shadows the guests' page tables instead of
# using nested paging. Under QEMU 7.2's TCG emulation of SVM, the host's
# kernel (Debian 6.1.0-57) sometimes dies in a vcpu thread returning from
# KVM_RUN, its per-CPU data unreachable; no host with npt=0 has died yet
# (5 of 5), and guests boot no slower. The cause is not known.
# (the shares split into words on purpose: no path here has a space)
set -- -accel "tcg,thread=${VMHOST_TCG_THREAD:-multi}" -cpu max \
    -m "${VMHOST_MEM:-4G}" -smp "${VMHOST_SMP:-2}" \
    -nodefaults -display none -no-reboot \
    -kernel "$TOP/build/vmhost/vmlinuz" -initrd "$TOP/build/vmhost/initrd.img" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 kvm_amd.npt=0 ${VMHOST_APPEND:-}" \
    -serial "file:$W/console.log" \
    -chardev stdio,id=out,signal=off \
    -device virtio-serial-pci -device virtconsole,chardev=out \
    $(share root / hostroot ro) $(share io "$W" vmhostio) $outshare
if [ -n "$interactive" ]; then
	# in the foreground, on this terminal (qemu makes it raw and
	# restores it), for as long as the user likes
	touch "$W/interactive"
	qemu-system-x86_64 "$@"
	qrc=$?
else
	timeout -k 10 "$timeout" qemu-system-x86_64 "$@" </dev/null &
	qpid=$!
	wait "$qpid"
	qrc=$?
	qpid=
fi

if [ -s "$W/status" ]; then
	exit "$(cat "$W/status")"
fi
if [ "$qrc" -eq 124 ]; then
	say "timed out after $timeout s"
else
	say "the host ended without the command's status (qemu: $qrc)"
fi
say "console:"
# from the kernel's first complaint (its trace's head), else the tail
[ -n "${VMHOST_CONSOLE:-}" ] && cp "$W/console.log" "$VMHOST_CONSOLE"
first=$(grep -nE 'BUG:|Oops|WARNING:|Kernel panic|general protection' \
    "$W/console.log" | head -n 1 | cut -d: -f1)
if [ -n "$first" ]; then
	sed -n "$first,\$p" "$W/console.log" | head -n 60
else
	tail -n 30 "$W/console.log"
fi | tr -d '\r' | sed 's/^/vmhost:   /' >&2
[ "$qrc" -eq 124 ] && exit 124
exit 125
