#!/bin/sh
# The systemd unit: `make install` puts it under PREFIX/lib/systemd/system
# (below DESTDIR) with BINDIR in ExecStart, and it is written so that a
# restart of the service ends the engine alone (KillMode=process), which
# leaves the VMs running for the next engine. systemd-analyze verify
# checks it where systemd is installed.
. "$(dirname "$0")/../lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
UNIT=lib/systemd/system/vmtop.service

if [ ! -x "$SRC/vmtop" ]; then
	not_ok "vmtop is not built in $SRC"
	finish
	exit 1
fi
if make -s -C "$SRC" install DESTDIR="$T/dest" PREFIX=/usr \
    >"$T/install.log" 2>&1; then
	ok "make install with DESTDIR"
else
	not_ok "make install with DESTDIR"; sed 's/^/#   /' "$T/install.log"
fi
U="$T/dest/usr/$UNIT"
if [ -f "$U" ]; then ok "the unit is installed below DESTDIR"; else
	not_ok "no $U"; find "$T/dest" | sed 's/^/#   /'
fi
# key VALUE: the unit sets key to exactly VALUE.
key() {
	if grep -qx "$1=$2" "$U" 2>/dev/null; then ok "$1=$2"; else
		not_ok "$1 is not $2"; grep "^$1=" "$U" | sed 's/^/#   /'
	fi
}
key Type simple
key ExecStart "/usr/bin/vmtop -D"
key KillMode process
key Restart on-failure
key WantedBy multi-user.target
if grep -q '@' "$U" 2>/dev/null; then
	not_ok "the unit has a placeholder left"; grep '@' "$U" | sed 's/^/#   /'
else
	ok "no placeholder left"
fi
if [ "$(stat -c %a "$U" 2>/dev/null)" = 644 ]; then ok "the unit is 0644"; else
	not_ok "the unit is $(stat -c %a "$U" 2>/dev/null), not 0644"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	# Installed for real under a prefix of its own, ExecStart exists.
	make -s -C "$SRC" install PREFIX="$T/prefix" >"$T/install.log" 2>&1
	if systemd-analyze verify --man=no "$T/prefix/$UNIT" \
	    >"$T/verify.log" 2>&1 && [ ! -s "$T/verify.log" ]; then
		ok "systemd-analyze verify finds nothing to say"
	else
		not_ok "systemd-analyze verify"; sed 's/^/#   /' "$T/verify.log"
	fi
	# The check itself can fail: a unit with an unknown key is named.
	sed 's/^KillMode=/KilMode=/' "$T/prefix/$UNIT" >"$T/bad.service"
	systemd-analyze verify --man=no "$T/bad.service" >"$T/verify.log" 2>&1
	if grep -q "KilMode" "$T/verify.log"; then
		ok "systemd-analyze verify names a misspelt key"
	else
		not_ok "systemd-analyze verify said nothing of KilMode"
	fi
else
	echo "# systemd-analyze is not installed: the unit's keys were checked with grep"
fi
finish
