# Groups: a VM owned by user:group is usable by a client that has the
# group among its supplementary groups, as the kernel says (SO_PEERGROUPS,
# else /proc), whatever /etc/group says, and by no client without it.

G13=4242
if getent group $G13 >/dev/null; then
	not_ok "13: gid $G13 is in the group database (the case needs one that is not)"
fi
# as_g13 [--groups LIST]: the second uid's batch command, with those groups.
hv13() {
	grp=$1; shift
	setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID $grp \
	    "$VMTOP" -S "$SOCK" -c "$*"
}

cp "$CONF" "$T/conf13"
printf 'vm "grouped13" { kernel "%s"; owner 0:%d; cmdline "test=run" }\n' \
    "$T/kernel" $G13 >>"$CONF"
check "13: reload with a vm of group $G13" vt reload
check_fail "13: without the group, start is refused" \
    "vm grouped13: permission denied (not its owner)" \
    hv13 --clear-groups start grouped13
check "13: with it among its groups, start works" \
    hv13 --groups=$G13 start grouped13
check_out "13: and show gives the details" "test=run" \
    hv13 --groups=100,$G13 show grouped13
check "13: without it, show gives no details" \
    sh -c '! "$@" 2>&1 | grep -q test=run' sh \
    setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups \
    "$VMTOP" -S "$SOCK" -c "show grouped13"
check_fail "13: nor may it stop it" \
    "vm grouped13: permission denied (not its owner)" \
    hv13 --groups=100 stop grouped13
check "13: with the group, stop works" hv13 --groups=$G13 stop -w grouped13
cp "$T/conf13" "$CONF"
check "13: reload without it" vt reload
root_answers "13"
