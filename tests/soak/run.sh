#!/bin/sh
# make soak: boot a 2-vcpu guest SOAK_BOOTS (200) times under the real
# runner and count the resets nobody asked for, in direct boot (the test
# guest of tests/guest/build.sh, kernel and initramfs in vm.conf) and in
# firmware boot (the same kernel and initramfs in the hybrid ISO of
# tests/images/build-iso.sh, attached as a raw disk: SeaBIOS boots its
# MBR, GRUB boots the kernel). The guest runs vmtop.test=cpus,poweroff:
# it prints its CPU count and powers off, and never reboots, so a boot is
# clean when the VM ends stopped, never restarted, with no reason, after
# "vmtop-guest: init" and "vmtop-guest: cpus 2". Anything else is counted:
#   reset  the engine restarted it (a triple fault, which the runner logs
#          as "vCPU N triple faulted at rip ...", or a reset the guest
#          made on its own, e.g. after a panic); the runner's lines about
#          it (with -v: the vCPU's registers) are printed;
#   noinit it never printed "vmtop-guest: init" (within SOAK_BOOT_TIMEOUT,
#          300 s, or before it ended);
#   other  it failed, hung after init, or saw another CPU count.
# SOAK_JOBS (4) VMs boot at once, each lane of boots one after the other,
# every boot a VM of its own (its console log and log lines its own; no
# start rate limit between them). Prints per mode the boots, the clean
# ones, the resets with their RIPs and the time the mode took (a line
# per boot as it ends, its verdict and seconds); exits
# non-zero if any boot was not clean. SOAK_MODES ("direct firmware")
# picks the modes. Runs where tests/e2e/run.sh runs (the nested-KVM host
# here), VMTOP_E2E_TIMEOUT bounding the whole host.
set -u
SOAK=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$SOAK/../.." && pwd)}
export TOP
E2E="$TOP/tests/e2e"
G="$TOP/build/guest"
CMDLINE="console=ttyS0 quiet vmtop.test=cpus,poweroff"
VMTOP_SOAK_ISO=${VMTOP_SOAK_ISO:-$TOP/build/soak}
BOOTS=${SOAK_BOOTS:-200}
export VMTOP_SOAK_ISO SOAK_BOOTS="$BOOTS"
VMHOST_ENV="${VMHOST_ENV:-} SOAK_BOOTS SOAK_JOBS SOAK_MODES SOAK_BOOT_TIMEOUT"
export VMHOST_ENV
case "$BOOTS" in ''|*[!0-9]*|0)
	echo "soak: SOAK_BOOTS must be a positive number, not \"$BOOTS\"" >&2
	exit 2 ;;
esac
if [ -z "${VMTOP_E2E_INNER:-}" ]; then
	if ! sh "$TOP/tests/guest/build.sh" "$G"; then
		echo "not ok - build the test guest (tests/guest/build.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	if ! sh "$TOP/tests/images/build-iso.sh" "$VMTOP_SOAK_ISO" \
	    "$G/vmlinuz" "$G/initrd.img" "$CMDLINE"; then
		echo "not ok - build the ISO (tests/images/build-iso.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	# in the nested host 4 direct boots at once take 137 s (34 s a boot
	# for the lot); firmware boots take longer
	: "${VMTOP_E2E_TIMEOUT:=$((900 + BOOTS * 90))}"
	export VMTOP_E2E_TIMEOUT
	. "$E2E/where.sh"
	e2e_where "$SOAK/run.sh"
fi

. "$TOP/tests/lib.sh"
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
JOBS=${SOAK_JOBS:-4}
MODES=${SOAK_MODES:-direct firmware}
BOOT_TIMEOUT=${SOAK_BOOT_TIMEOUT:-300}
ISO="$VMTOP_SOAK_ISO/boot.iso"
trap '[ -n "$ENGINE_PID" ] && "$VMTOP" -S "$SOCK" -c "stop -a -f" >/dev/null 2>&1; stop_engine; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
[ -n "${VMTOP_E2E_INNER:-}" ] &&
    echo "# in the nested-KVM host: $(uname -r), $(nproc) cpus"
echo "# $BOOTS boots a mode, $JOBS at once, 2 vcpus, 256 MiB: $CMDLINE"

# name MODE I: the VM of boot I (1..BOOTS) of MODE.
name() { printf '%s%04d' "$(echo "$1" | cut -c1)" "$2"; }

# One ISO copy a lane (the engine locks a disk for its VM), VM I of lane
# I % JOBS.
{
	for mode in $MODES; do
		i=1
		while [ "$i" -le "$BOOTS" ]; do
			echo "vm \"$(name "$mode" "$i")\" {"
			echo "	memory 256M; vcpus 2"
			if [ "$mode" = direct ]; then
				echo "	kernel \"$G/vmlinuz\"; initrd \"$G/initrd.img\""
				echo "	cmdline \"$CMDLINE\""
			else
				echo "	disk \"$T/lane$((i % JOBS)).iso\" format raw"
			fi
			echo "}"
			i=$((i + 1))
		done
	done
} >"$CONF"
case " $MODES " in *" firmware "*)
	l=0
	while [ "$l" -lt "$JOBS" ]; do
		cp -L "$ISO" "$T/lane$l.iso" ||
		    { not_ok "copy $ISO for the firmware boots"; finish; exit; }
		l=$((l + 1))
	done ;;
esac
ENGINE_ARGS=-v
start_engine
[ -S "$SOCK" ] || { not_ok "the engine starts"; finish; exit; }

# field JSON KEY: a string or number field of one status line.
field() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",]*\).*/\1/p"
}
# runner_lines NAME: what the runner of NAME logged, less the firmware's
# debug port and the routine lines.
runner_lines() {
	grep "^vmtop-vm $1: " "$T/engine.log" | grep -v ': firmware: '
}

# judge MODE NAME SECONDS TIMEDOUT: the verdict on one boot, a line
# "VERDICT DETAIL" (clean, reset, noinit, other).
judge() {
	st=$(vtj "status $2" 2>/dev/null)
	con=$(tr -d '\r' <"$VMTOP_STATE_DIR/$2.log" 2>/dev/null)
	restarts=$(field "$st" restarts)
	reason=$(field "$st" reason)
	state=$(field "$st" state)
	rips=$(runner_lines "$2" | sed -n 's/.*\(vCPU [0-9]* triple faulted at rip 0x[0-9a-f]*\).*/\1/p' |
	    paste -sd ';' -)
	resets=$(runner_lines "$2" | grep -c 'triple faulted\|guest reset')
	if [ "${restarts:-0}" -gt 0 ] || [ "$resets" -gt 0 ] ||
	    printf '%s\n' "$reason" | grep -q 'triple faulted'; then
		echo "reset restarts ${restarts:-?}: ${rips:-no triple fault logged}${reason:+; reason: $reason}"
	elif ! printf '%s\n' "$con" | grep -q '^vmtop-guest: init$'; then
		echo "noinit state $state${4:+ after $3 s}${reason:+; reason: $reason}"
	elif [ -n "$4" ]; then
		echo "other still $state after $3 s"
	elif [ "$state" != stopped ] || [ -n "$reason" ]; then
		echo "other state $state${reason:+; reason: $reason}"
	elif ! printf '%s\n' "$con" | grep -q '^vmtop-guest: cpus 2$'; then
		echo "other $(printf '%s\n' "$con" | grep '^vmtop-guest: cpus' | head -n 1)"
	else
		echo clean
	fi
}

# report MODE NAME VERDICT...: one unclean boot, with its evidence.
report() {
	mode=$1 n=$2; shift 2
	echo "# $mode $n: $*"
	runner_lines "$n" | grep -v 'sandbox:\|vCPUs, .* MiB running\|BIOS image\|kernel .* KiB' |
	    tail -n 20 | sed 's/^/#   runner: /'
	tr -d '\r' <"$VMTOP_STATE_DIR/$n.log" 2>/dev/null | tail -n 15 |
	    sed 's/^/#   console: /'
}

# soak MODE: BOOTS boots in JOBS lanes; prints the counts.
soak() {
	mode=$1
	clean=0 resets=0 noinit=0 other=0 rips=
	t0=$(date +%s)
	# lane L runs boots L+1, L+1+JOBS, ...: lane_i holds its current
	# boot (0: none left), lane_t its start
	l=0
	while [ "$l" -lt "$JOBS" ]; do
		eval "lane_i$l=0 lane_t$l=0 lane_next$l=$((l + 1))"
		l=$((l + 1))
	done
	left=$BOOTS
	while [ "$left" -gt 0 ]; do
		# (a client would start another engine)
		kill -0 "$ENGINE_PID" 2>/dev/null ||
		    { not_ok "the engine died"; finish; exit; }
		all=$(vtj status 2>/dev/null)
		l=0
		while [ "$l" -lt "$JOBS" ]; do
			eval "i=\$lane_i$l ts=\$lane_t$l next=\$lane_next$l"
			if [ "$i" -gt 0 ]; then
				n=$(name "$mode" "$i")
				s=$(printf '%s\n' "$all" | grep "\"name\":\"$n\"" |
				    sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p')
				took=$(($(date +%s) - ts))
				late=
				[ "$took" -ge "$BOOT_TIMEOUT" ] && late=1
				case "$s" in stopped|failed) ;; *)
					[ -z "$late" ] && { l=$((l + 1)); continue; } ;;
				esac
				v=$(judge "$mode" "$n" "$took" "$late")
				[ -n "$late" ] && timeout 60 "$VMTOP" -S "$SOCK" \
				    -c "stop $n -f -w" >/dev/null 2>&1
				echo "# $mode $n: ${v%% *}, $took s"
				case "$v" in
				clean) clean=$((clean + 1)) ;;
				reset*) resets=$((resets + 1)); report "$mode" "$n" "$v"
					rips="$rips
#   $n: ${v#reset }" ;;
				noinit*) noinit=$((noinit + 1)); report "$mode" "$n" "$v" ;;
				*) other=$((other + 1)); report "$mode" "$n" "$v" ;;
				esac
				left=$((left - 1))
				i=0
			fi
			if [ "$i" -eq 0 ] && [ "$next" -le "$BOOTS" ]; then
				n=$(name "$mode" "$next")
				if out=$(timeout 120 "$VMTOP" -S "$SOCK" -c "start $n" 2>&1); then
					i=$next
				else
					other=$((other + 1)); left=$((left - 1))
					echo "# $mode $n: start failed: $out"
				fi
				eval "lane_t$l=$(date +%s) lane_next$l=$((next + JOBS))"
			fi
			eval "lane_i$l=$i"
			l=$((l + 1))
		done
		sleep 1
	done
	took=$(($(date +%s) - t0))
	echo "# $mode: $BOOTS boots, $clean clean, $resets unexplained resets, $noinit never reached init, $other other; $took s ($(awk "BEGIN { printf \"%.1f\", $took / $BOOTS }") s a boot, $JOBS at once)"
	[ -n "$rips" ] && echo "# $mode resets:$rips"
	bad=$((resets + noinit + other))
	if [ "$bad" -eq 0 ]; then
		ok "$mode boot: $clean of $BOOTS 2-vcpu boots clean"
	else
		not_ok "$mode boot: $bad of $BOOTS 2-vcpu boots not clean ($resets resets, $noinit never reached init, $other other)"
	fi
	passed_boots=$((passed_boots + clean))
	failed_boots=$((failed_boots + bad))
}

passed_boots=0 failed_boots=0
for mode in $MODES; do
	case "$mode" in
	direct|firmware) soak "$mode" ;;
	*) not_ok "unknown soak mode \"$mode\" (direct, firmware)" ;;
	esac
done
echo "# boots: $passed_boots clean, $failed_boots not"
finish
