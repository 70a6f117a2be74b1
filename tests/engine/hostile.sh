#!/bin/sh
# Hostile-user suite: a root engine (the test runner standing in for
# vmtop-vm) and a second uid, 65534, that tries to make it open what is not
# its own, block, run out of fds or memory, or show what another user owns.
# Each case lives in tests/engine/hostile/NN-what.sh, runs in name order
# against the same engine, and ends with root_answers: root's `status`
# must still be answered while (or right after) the abuse goes on.
. "$(dirname "$0")/../lib.sh"
RAW="$TOP/tests/runner/vmtop-rawclient"
HOSTILE_UID=65534
HOSTILE_GID=65534

if [ "$(id -u)" -ne 0 ]; then
	not_ok "the hostile-user suite runs as root (it needs a second uid)"
	finish; exit 1
fi

touch "$T/kernel"
# a KVM device of our own (the null device), whose mode a case may change
mknod "$T/kvm" c 1 3
chmod 666 "$T/kvm"
export VMTOP_KVM="$T/kvm"
chmod 755 "$T"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "roots" { kernel \$k; cmdline "test=run" }
vm "nobodys" { kernel \$k; owner $HOSTILE_UID; cmdline "test=run" }
CONF

# as_hostile COMMAND...: run a command as the second uid, no groups.
as_hostile() {
	setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups "$@"
}
# hv COMMANDS: a batch command to the root engine as the second uid.
hv() { as_hostile "$VMTOP" -S "$SOCK" -c "$*"; }
hvj() { as_hostile "$VMTOP" -S "$SOCK" -j -c "$*"; }
# root_answers CASE: root's status is answered, within a generous bound
# that only catches an engine that no longer serves anyone.
root_answers() {
	check_out "$1: root's status still answers" roots \
	    timeout 60 "$VMTOP" -S "$SOCK" -c status
}
# engine_rss_kb: the engine's resident set, in KiB.
engine_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$ENGINE_PID/status"; }
# engine_fds: how many fds the engine holds.
engine_fds() { ls "/proc/$ENGINE_PID/fd" | wc -l; }
# fds_at_most N: the engine holds N fds or fewer.
fds_at_most() { [ "$(engine_fds)" -le "$1" ]; }
# wait_for WHAT COMMAND...: poll until the command succeeds, for at most
# 3 minutes (a bound that only catches an engine that is stuck).
wait_for() {
	what=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -ge 1800 ]; then
			echo "# gave up waiting: $what"
			return 1
		fi
		sleep 0.1
	done
}
# said VM TEXT: the VM's console capture shows TEXT, waited for (a
# runner tells its console just after it is ready).
said() {
	j=0
	until "$VMTOP" -S "$SOCK" -c "capture $1" 2>/dev/null |
	    grep -q -- "$2"; do
		j=$((j + 1))
		[ $j -ge 1800 ] && { echo "# vm $1 never said $2"; return 1; }
		sleep 0.1
	done
}
# raw_bg UID OUT ARGS...: the raw client as UID in the background, its
# output in OUT; its pid joins RAW_PIDS. raw_as also waits for its
# first line. raw_kill ends them all.
RAW_PIDS=
raw_bg() {
	u=$1; out=$2; shift 2
	setpriv --reuid="$u" --regid="$u" --clear-groups \
	    "$RAW" "$SOCK" "$@" >"$out" 2>&1 &
	RAW_PIDS="$RAW_PIDS $!"
}
raw_as() { raw_bg "$@"; wait_for "raw client as uid $1" test -s "$2"; }
raw_kill() {
	for p in $RAW_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	RAW_PIDS=
}

start_engine
check_out "the root engine serves root" roots vt status
check_out "and the second uid" nobodys hv status

for f in "$(dirname "$0")"/hostile/${HOSTILE_ONLY:-[0-9]*}.sh; do
	[ -f "$f" ] || continue
	echo "# ${f##*/}"
	. "$f"
done
check_out "engine still running at the end" roots vt status
finish
