#!/bin/sh
# The runner's sandbox from inside: tests/runner/vmtop-sandbox-probe enters
# vmm/sandbox.c's sandbox (the one vmtop-vm enters) and tries to aim SIGIO
# at another process with F_SETOWN/F_SETSIG, to kill(2) and tgkill(2) it,
# to kill pid 1 and to open /etc/passwd. The victim runs as the very uid
# the sandbox drops to, so only the sandbox can stop the harm. As root the
# probe takes a uid of the runner range; as 65534 it makes a user namespace.
. "$(dirname "$0")/../lib.sh"
PROBE="$TOP/tests/runner/vmtop-sandbox-probe"

# probe_as NAME UID NS PROBE...: run the probe against a victim of UID
# and check every attempt; NS is "pid 1" where the sandbox can make a pid
# namespace (as root, or where user namespaces are allowed), else "pid".
probe_as() {
	what=$1; vuid=$2; pidns=$3; shift 3
	setpriv --reuid="$vuid" --regid="$vuid" --clear-groups sleep 600 &
	victim=$!
	out=$("$@" "$victim" 2>&1)
	printf '%s\n' "$out" | sed 's/^/# /'
	has() { printf '%s\n' "$out" | grep -qx -- "$2" && ok "$what: $1" ||
	    not_ok "$what: $1 (no \"$2\")"; }
	if [ "$pidns" = "pid 1" ]; then
		has "runs as uid $vuid, pid 1 of its own pid namespace" \
		    "self: uid $vuid pid 1"
	else
		has "runs as uid $vuid (no user namespaces here: no pid one)" \
		    "self: uid $vuid pid [0-9]*"
	fi
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

# userns_ns [SETPRIV...]: "pid 1" if that user may make a user namespace.
userns_ns() {
	if "$@" unshare -U true 2>/dev/null; then echo "pid 1"; else echo pid; fi
}
if [ "$(id -u)" -eq 0 ]; then
	probe_as "as root" 900001 "pid 1" "$PROBE" -u 900001
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	probe_as "as 65534" 65534 "$(userns_ns $AS)" $AS "$PROBE"
else
	probe_as "as $(id -u)" "$(id -u)" "$(userns_ns)" "$PROBE"
fi
finish
