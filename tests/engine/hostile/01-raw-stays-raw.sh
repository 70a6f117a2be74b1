# A raw disk whose guest wrote a qcow2 header naming /etc/shadow as its
# base: the engine never reads the header to guess the format, so the
# runner gets the raw disk alone, never /etc/shadow.

# runner_holds VM PATH: whether the VM's runner holds an fd on PATH.
runner_holds() {
	rpid=$(vtj "status $1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[ -n "$rpid" ] && [ "$rpid" -gt 0 ] || return 2
	# the runner's fds are its child's, pid 1 of its pid namespace
	kids=$(cat /proc/"$rpid"/task/"$rpid"/children 2>/dev/null)
	for p in $rpid $kids; do
		for l in /proc/"$p"/fd/*; do
			[ "$(readlink "$l")" = "$2" ] && return 0
		done
	done
	return 1
}

"$VMTOP" -c "create $T/shadow.qcow2 -b /etc/shadow" >/dev/null 2>&1
cp "$T/shadow.qcow2" "$T/guest.img"
cp "$T/shadow.qcow2" "$T/guest2.img"
chown $HOSTILE_UID:$HOSTILE_GID "$T/guest.img"
if od -A n -c -N 4 "$T/guest.img" | grep -q 'Q   F   I'; then
	ok "01: the raw disk holds a qcow2 header naming /etc/shadow"
else
	not_ok "01: the raw disk holds a qcow2 header naming /etc/shadow"
fi

check "01: the second uid starts a vm on that raw disk" \
    hv start raw1 -k "$T/kernel" -d "$T/guest.img" -a test=run
check "01: its runner was told the disk is raw, without a base" \
    said raw1 "raw1: disk 0: raw with 0 base images"
runner_holds raw1 /etc/shadow; rc=$?
[ $rc -eq 1 ] && ok "01: its runner holds no fd on /etc/shadow" ||
    not_ok "01: its runner holds no fd on /etc/shadow (rc $rc)"
runner_holds raw1 "$T/guest.img" && ok "01: its runner holds the raw disk" ||
    not_ok "01: its runner holds the raw disk"
check "01: stop it" hv stop -w raw1

# Root's own ad hoc VM: no probing either.
check "01: root starts a vm on such a raw disk" \
    vt start raw2 -k "$T/kernel" -d "$T/guest2.img" -a test=run
check "01: root's runner too was told raw, without a base" \
    said raw2 "raw2: disk 0: raw with 0 base images"
check "01: stop root's" vt stop -w raw2

# An image vmtop created as .qcow2 is qcow2 by its name; its recorded
# backing format says its base is raw.
"$VMTOP" -c "create $T/base.img -s 1M" >/dev/null 2>&1
"$VMTOP" -c "create $T/top.qcow2 -b base.img" >/dev/null 2>&1
check "01: a .qcow2 image over a raw base starts" \
    vt start q1 -k "$T/kernel" -d "$T/top.qcow2" -a test=run
check "01: it is qcow2 with its one base" \
    said q1 "q1: disk 0: qcow2 with 1 base images"
check "01: stop it" vt stop -w q1
root_answers 01
