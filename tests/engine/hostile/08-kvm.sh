# Only a user who could open /dev/kvm himself, or whom vm.conf allows
# (allow kvm user/group), may start VMs: the engine's opener tries the
# device as the owner, and root opens it for him only when allowed.
chmod 600 "$T/kvm"
check_fail "08: the second uid without KVM access is refused" \
    "vm k1: $T/kvm: user nobody may not use KVM (not allowed by vm.conf)" \
    hv start k1 -k "$T/kernel" -a test=run
check_fail "08: the refused ad hoc vm is not kept" "vm k1: no such vm" \
    vt status k1
hv stop -w nobodys >/dev/null 2>&1
check_fail "08: nor may it start its configured vm" \
    "vm nobodys: $T/kvm: user nobody may not use KVM" hv start nobodys
check "08: root still starts vms" vt start k2 -k "$T/kernel" -a test=run
check "08: stop root's" vt stop -w k2

cp "$CONF" "$T/vm.conf.08"
printf 'allow kvm user %s\n' $HOSTILE_UID >"$T/allow.conf"
if "$VMTOP" -n -f "$T/allow.conf" >/dev/null 2>&1; then
	cat "$T/vm.conf.08" "$T/allow.conf" >"$CONF"
	check "08: vm.conf allows the second uid" vt reload
	check "08: allowed, it starts a vm with root's /dev/kvm" \
	    hv start k3 -k "$T/kernel" -a test=run
	check "08: stop it" hv stop -w k3
	printf 'allow kvm group %s\n' $HOSTILE_GID >"$T/allow.conf"
	cat "$T/vm.conf.08" "$T/allow.conf" >"$CONF"
	check "08: vm.conf allows the second uid's group instead" vt reload
	check "08: allowed by group, it starts a vm" \
	    hv start k4 -k "$T/kernel" -a test=run
	check "08: stop that" hv stop -w k4
	cp "$T/vm.conf.08" "$CONF"
	check "08: vm.conf no longer allows it" vt reload
	check_fail "08: refused again" "may not use KVM" \
	    hv start k5 -k "$T/kernel" -a test=run
else
	echo "# 08: vm.conf has no allow kvm yet: the allowed cases wait for it"
fi
chmod 666 "$T/kvm"
check "08: with access of its own, it starts a vm" \
    hv start k6 -k "$T/kernel" -a test=run
check "08: stop the last" hv stop -w k6
root_answers 08
