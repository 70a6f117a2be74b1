#!/bin/sh
# make bench: the KVM runner vmtop-vm side by side with
# `qemu-system-x86_64 -accel kvm` on the same kernel, initrd and disk (the
# test guest of tests/guest/build.sh), 1 vcpu and 256 MiB each:
#   - start to the first "vmtop-guest: init" line on the console, and to
#     power-off (the process is gone), of a guest that only powers off
#     (vmtop.test=poweroff); vmtop is started through the engine
#     (`vmtop -c "start NAME"`), as tests/e2e/run.sh does, so its figure
#     includes the engine's part;
#   - runner RSS beyond guest RAM: VmRSS of the runner process less the
#     Rss of its guest-RAM mapping(s) (those at least as large as the
#     guest's memory, from /proc/PID/smaps), read once the guest is idle
#     after the disk test;
#   - sequential disk throughput in the guest: busybox dd of BENCH_VM_MIB
#     (64) MiB of zeros to /dev/vda with oflag=direct, then read back with
#     iflag=direct, bs=1M, on a fresh sparse raw file (QEMU: its default
#     cache mode, writeback).
# Two boots per VMM, alternating the order (vmtop, qemu, qemu, vmtop); the
# start-to-init figure is the better of each VMM's two boots. Where this
# machine's /dev/kvm cannot boot the guest (tests/e2e/kvm-probe.sh) it all
# runs in the nested-KVM host (tests/vmhost/run.sh), where times are
# those of nested KVM under TCG: compare the ratios, not the seconds.
# Targets (printed, never fatal): start-to-init at most QEMU's, RSS
# overhead under 8 MiB, disk throughput at least QEMU's. Exits non-zero
# only when something broke. BENCH_VM_HOST=auto|direct|vmhost picks where.
set -u
BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$BENCH/../.." && pwd)}
export TOP
G="$TOP/build/guest"
MIB=${BENCH_VM_MIB:-64}
export BENCH_VM_MIB="$MIB"

broke() { echo "bench vm: $*" >&2; exit 1; }

# Outside: build the guest, then decide where the bench runs.
if [ -z "${VMTOP_BENCH_VM_INNER:-}" ]; then
	echo "bench: vmtop-vm against qemu-system-x86_64 -accel kvm"
	[ -x "$TOP/vmtop" ] && [ -x "$TOP/vmtop-vm" ] ||
	    broke "$TOP/vmtop or $TOP/vmtop-vm is missing: run make"
	command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	    broke "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"
	sh "$TOP/tests/guest/build.sh" "$G" || broke "cannot build the test guest"
	where=${BENCH_VM_HOST:-auto}
	[ "$where" = auto ] && where=$(sh "$TOP/tests/e2e/kvm-probe.sh" "$G")
	if [ "$where" = vmhost ]; then
		echo "# /dev/kvm here cannot boot the test guest: running in the nested-KVM host"
		VMTOP_BENCH_VM_INNER=1 sh "$TOP/tests/vmhost/run.sh" \
		    -t "${BENCH_VM_TIMEOUT:-540}" sh "$BENCH/vm.sh"
		rc=$?
		[ "$rc" -eq 0 ] || echo "bench vm: failed (status $rc)" >&2
		exit "$rc"
	fi
fi

. "$TOP/tests/lib.sh"
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
BOOT=${BENCH_VM_BOOT:-150}	# s, bound of one boot
CMDLINE="console=ttyS0 quiet"
QPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f" >/dev/null 2>&1
	stop_engine
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE
[ -n "${VMTOP_BENCH_VM_INNER:-}" ] && echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"

now() { date +%s%N; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
secs() { calc "$1 / 1e9" 2; }

# The guest's disk snippet: dd out, dd back, then idle for the RSS probe.
b64=$(base64 -w0 <<EOF
dev=/dev/vda
i=0
while [ ! -b \$dev ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
t() { cut -d' ' -f1 /proc/uptime; }
d() { awk "BEGIN { d = \$2 - \$1; if (d < 0.01) d = 0.01; print d }"; }
a=\$(t)
dd if=/dev/zero of=\$dev bs=1M count=$MIB oflag=direct conv=fsync 2>/tmp/dd.err &&
    echo "vmtop-guest: bench write \$(d \$a \$(t))" || echo "vmtop-guest: bench write failed \$(cat /tmp/dd.err)"
echo 3 >/proc/sys/vm/drop_caches
a=\$(t)
dd if=\$dev of=/dev/null bs=1M count=$MIB iflag=direct 2>/tmp/dd.err &&
    echo "vmtop-guest: bench read \$(d \$a \$(t))" || echo "vmtop-guest: bench read failed \$(cat /tmp/dd.err)"
echo "vmtop-guest: bench idle"
sleep 4
EOF
)
DISKCMD="$CMDLINE vmtop.run=$b64"
OFFCMD="$CMDLINE vmtop.test=poweroff"

{
	for n in voff vdisk; do
		echo "vm \"$n\" {"
		echo "	memory 256M; vcpus 1"
		echo "	kernel \"$G/vmlinuz\"; initrd \"$G/initrd.img\""
		if [ "$n" = voff ]; then
			echo "	cmdline \"$OFFCMD\""
		else
			echo "	cmdline \"$DISKCMD\""
		fi
		echo "	disk \"$T/vdisk.img\" format raw"
		echo "}"
	done
} >"$CONF"
truncate -s $((MIB * 2))M "$T/vdisk.img" "$T/qdisk.img" || broke "truncate"
start_engine
[ -S "$SOCK" ] || broke "the engine did not start: $(tail -n 5 "$T/engine.log")"

# The console of a run, as a file: $CON.
logof() { find "$T" -name "$1.log" 2>/dev/null | head -n 1; }

# rss_over PID: "VmRSS guestRSS" in KiB (guest RAM: mappings >= 256 MiB).
rss_of() {
	v=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status")
	g=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { big = 0; next }
	    /^Size:/ { big = ($2 >= 262144) }
	    /^Rss:/ && big { s += $2 }
	    END { print s + 0 }' "/proc/$1/smaps")
	echo "$v $g"
}

# run VMM NAME KIND: start it, time init and power-off; for KIND disk,
# also the dd lines and the RSS. Sets R_INIT R_OFF (ns) R_W R_R (s) R_RSS.
run() {
	vmm=$1 name=$2 kind=$3
	R_INIT= R_OFF= R_W= R_R= R_RSS=
	if [ "$vmm" = qemu ]; then
		con="$T/$name.console"; : >"$con"
		rm -f "$T/qpid"
		[ "$kind" = off ] && cmd=$OFFCMD || cmd=$DISKCMD
		t0=$(now)
		qemu-system-x86_64 -accel kvm -pidfile "$T/qpid" -m 256 -smp 1 \
		    -nodefaults -display none -no-reboot \
		    -kernel "$G/vmlinuz" -initrd "$G/initrd.img" \
		    -append "$cmd" -serial "file:$con" -device virtio-rng-pci \
		    -drive file="$T/qdisk.img",if=virtio,format=raw \
		    </dev/null >"$T/qemu.log" 2>&1 &
		QPID=$!
		pid=$QPID
	else
		t0=$(now)
		out=$(timeout 30 "$VMTOP" -S "$SOCK" -c "start $name" 2>&1) ||
		    broke "start $name: $out"
		pid=$(vtj "status $name" 2>/dev/null |
		    sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
		[ "${pid:-0}" -gt 0 ] || broke "no runner pid for $name"
		con=
	fi
	end=$(($(date +%s) + BOOT))
	while alive "$pid"; do
		[ -z "$con" ] && con=$(logof "$name")
		if [ -z "$R_INIT" ] && [ -n "$con" ] &&
		    grep -q 'vmtop-guest: init' "$con" 2>/dev/null; then
			R_INIT=$(($(now) - t0))
		fi
		if [ "$kind" = disk ] && [ -z "$R_RSS" ] &&
		    grep -q 'vmtop-guest: bench idle' "$con" 2>/dev/null; then
			R_RSS=$(rss_of "$pid")
		fi
		[ "$(date +%s)" -lt "$end" ] || {
			echo "# $vmm $name: no power-off within $BOOT s; console:"
			tr -d '\r' <"$con" 2>/dev/null | tail -n 10 | sed 's/^/#   /'
			[ "$vmm" = qemu ] && cat "$T/qemu.log"
			broke "$vmm did not finish its guest"
		}
		sleep 0.05
	done
	R_OFF=$(($(now) - t0))
	[ "$vmm" = qemu ] && { wait "$QPID" 2>/dev/null; QPID=; }
	[ -z "$con" ] && con=$(logof "$name")
	if [ -z "$R_INIT" ]; then
		grep -q 'vmtop-guest: init' "$con" 2>/dev/null ||
		    broke "$vmm $name never printed vmtop-guest: init"
		R_INIT=$R_OFF	# (it came in the last 50 ms)
	fi
	if [ "$kind" = disk ]; then
		c=$(tr -d '\r' <"$con")
		R_W=$(printf '%s\n' "$c" | sed -n 's/^vmtop-guest: bench write \([0-9.]*\)$/\1/p')
		R_R=$(printf '%s\n' "$c" | sed -n 's/^vmtop-guest: bench read \([0-9.]*\)$/\1/p')
		if [ -z "$R_W" ] || [ -z "$R_R" ] || [ -z "$R_RSS" ]; then
			printf '%s\n' "$c" | grep vmtop-guest | sed 's/^/#   /'
			broke "$vmm: no disk figures or RSS"
		fi
	fi
	echo "# $vmm $kind: init $(secs "$R_INIT") s, power-off $(secs "$R_OFF") s${R_W:+, write $R_W s, read $R_R s, VmRSS/guest-RAM Rss $R_RSS KiB}"
}

# alive PID: running (not a zombie awaiting its parent).
alive() {
	st=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

min() { [ "$1" -le "$2" ] && echo "$1" || echo "$2"; }

run vmtop voff off; v_init1=$R_INIT v_off=$R_OFF
run qemu qoff off; q_init1=$R_INIT q_off=$R_OFF
run qemu qdisk disk; q_init2=$R_INIT q_w=$R_W q_r=$R_R q_rss=$R_RSS
run vmtop vdisk disk; v_init2=$R_INIT v_w=$R_W v_r=$R_R v_rss=$R_RSS
stop_engine

v_init=$(min "$v_init1" "$v_init2"); q_init=$(min "$q_init1" "$q_init2")
rate() { calc "$MIB / $1" 1; }	# MiB/s
v_wr=$(rate "$v_w"); v_rr=$(rate "$v_r"); q_wr=$(rate "$q_w"); q_rr=$(rate "$q_r")
v_over=$((${v_rss% *} - ${v_rss#* })); q_over=$((${q_rss% *} - ${q_rss#* }))
mib() { calc "$1 / 1024" 1; }
met() { [ "$1" = 1 ] && echo "target met" || echo "target missed"; }
ge() { awk "BEGIN { exit !($1 >= $2) }" && echo 1 || echo 0; }

rows=
row() { rows="$rows$(printf '%-28s %-14s %-14s %-8s %s' "$@")
"; }
row "start to init" "$(secs "$v_init") s" "$(secs "$q_init") s" \
    "$(calc "$v_init / $q_init" 2)" "$(met "$(ge "$q_init" "$v_init")") (at most QEMU's)"
row "start to power-off" "$(secs "$v_off") s" "$(secs "$q_off") s" \
    "$(calc "$v_off / $q_off" 2)" ""
row "RSS beyond guest RAM" "$(mib "$v_over") MiB" "$(mib "$q_over") MiB" \
    "$(calc "$v_over / $q_over" 2)" "$(met "$([ "$v_over" -lt 8192 ] && echo 1)") (under 8 MiB)"
row "disk write, dd direct" "$v_wr MiB/s" "$q_wr MiB/s" \
    "$(calc "$v_wr / $q_wr" 2)" "$(met "$(ge "$v_wr" "$q_wr")") (at least QEMU's)"
row "disk read, dd direct" "$v_rr MiB/s" "$q_rr MiB/s" \
    "$(calc "$v_rr / $q_rr" 2)" "$(met "$(ge "$v_rr" "$q_rr")") (at least QEMU's)"

echo
printf '%-28s %-14s %-14s %-8s %s\n' FIGURE VMTOP-VM QEMU RATIO TARGET
printf '%s' "$rows"
echo
echo "method: 1 vcpu, 256 MiB, the same vmlinuz, initrd.img and fresh sparse"
echo "  $((MIB * 2)) MiB raw disk; times from the start command (vmtop: \`vmtop -c start\`"
echo "  through the engine; qemu: its exec) to the console line and to the"
echo "  process's exit, polled every 50 ms; start to init is the better of 2 boots."
echo "  RSS beyond guest RAM = VmRSS of the runner process less the Rss of its"
echo "  mappings of 256 MiB or more (the guest's RAM), from /proc/PID/smaps, read"
echo "  while the guest idles after the disk test: vmtop-vm $(mib "${v_rss% *}") - $(mib "${v_rss#* }") MiB,"
echo "  qemu $(mib "${q_rss% *}") - $(mib "${q_rss#* }") MiB (shared libraries count)."
echo "  disk: busybox dd bs=1M count=$MIB of zeros to /dev/vda, oflag=direct"
echo "  conv=fsync, then read back iflag=direct (qemu's default cache=writeback);"
echo "  MiB/s from the guest's /proc/uptime around each dd (10 ms steps)."
[ -n "${VMTOP_BENCH_VM_INNER:-}" ] &&
    echo "  nested KVM under TCG: the ratios mean more than the seconds."
exit 0
