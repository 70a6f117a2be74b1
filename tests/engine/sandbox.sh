#!/bin/sh
# The runner's sandbox from inside: tests/runner/vmtop-sandbox-probe enters
# vmm/sandbox.c's sandbox (the one vmtop-vm enters) and tries to aim SIGIO
# at another process with F_SETOWN/F_SETSIG, to kill(2) and tgkill(2) it,
# to kill pid 1 and to open /etc/passwd. The victim runs as the very uid
# the sandbox drops to, so only the sandbox can stop the harm. As root the
# probe takes a uid of the runner range; as 65534 it makes a user namespace.
. "$(dirname "$0")/../lib.sh"
PROBE="$TOP/tests/runner/vmtop-sandbox-probe"

# probe_as NAME UID SANDBOX-UID [SETPRIV-ARGS]: run the probe against a
# victim of SANDBOX-UID and check every attempt.
probe_as() {
	what=$1; vuid=$2; shift 2
	setpriv --reuid="$vuid" --regid="$vuid" --clear-groups sleep 600 &
	victim=$!
	out=$("$@" "$victim" 2>&1)
	printf '%s\n' "$out" | sed 's/^/# /'
	has() { printf '%s\n' "$out" | grep -qx -- "$2" && ok "$what: $1" ||
	    not_ok "$what: $1 (no \"$2\")"; }
	has "runs as uid $vuid, pid 1 of its own pid namespace" \
	    "self: uid $vuid pid 1"
	has "F_GETFL still allowed" "getfl: ALLOWED"
	has "F_SETOWN/F_SETOWN_EX refused with EPERM" "fsetown: refused (EPERM)"
	has "F_SETSIG refused with EPERM" "setsig: refused (EPERM)"
	has "kill(2) of the victim refused" "kill: refused (killed by SYS)"
	has "tgkill(2) of the victim refused" "tgkill: refused (killed by SYS)"
	has "kill(2) of pid 1 refused" "kill1: refused (killed by SYS)"
	has "opening /etc/passwd refused" "open: refused (EACCES)"
	if kill -0 "$victim" 2>/dev/null; then ok "$what: the victim lives"
	else not_ok "$what: the victim was killed"; fi
	kill "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
}

if [ "$(id -u)" -eq 0 ]; then
	probe_as "as root" 900001 "$PROBE" -u 900001
	probe_as "as 65534" 65534 setpriv --reuid=65534 --regid=65534 \
	    --clear-groups "$PROBE"
else
	probe_as "as $(id -u)" "$(id -u)" "$PROBE"
fi
finish
