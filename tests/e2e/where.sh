# Sourced by the e2e suites (outside the nested host): run the suite here
# where /dev/kvm boots the test guest in $G, else re-run it inside the
# nested-KVM host and exit with its status. e2e_where SCRIPT [ARGS...]
e2e_where() {
	where=${VMTOP_E2E_HOST:-auto}
	[ "$where" = auto ] && where=$(sh "$E2E/kvm-probe.sh" "$G")
	[ "$where" = vmhost ] || return 0
	echo "# /dev/kvm here cannot boot the test guest: running in the nested-KVM host"
	log=$(mktemp) || exit 1
	trap 'rm -f "$log" "$log.rc"' EXIT
	# A host whose own kernel dies (status 125, no summary: its nested
	# KVM on TCG has panicked now and then, in runs of two in a row too)
	# gets another go, up to VMTOP_E2E_TRIES (5) hosts in all; the
	# suite's own failures never do.
	tries=${VMTOP_E2E_TRIES:-5}
	attempt=1
	while :; do
		{ VMTOP_E2E_INNER=1 sh "$TOP/tests/vmhost/run.sh" \
		    -t "${VMTOP_E2E_TIMEOUT:-1500}" sh "$@"
		  echo $? >"$log.rc"; } | tee "$log"
		rc=$(cat "$log.rc")
		[ "$rc" -eq 125 ] && [ "$attempt" -lt "$tries" ] &&
		    ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || break
		attempt=$((attempt + 1))
		echo "# the nested-KVM host itself failed (status 125): host $attempt of $tries"
	done
	if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
		echo "not ok - the nested-KVM host ended early (status $rc)"
		echo "0 passed, 1 failed"
		[ "$rc" -ne 0 ] || rc=1
	fi
	exit "$rc"
}

# e2e_guest_where SCRIPT [ARGS...]: build the test guest in $G (or fail
# the suite), then e2e_where.
e2e_guest_where() {
	if ! sh "$TOP/tests/guest/build.sh" "$G"; then
		echo "not ok - build the test guest (tests/guest/build.sh)"
		echo "0 passed, 1 failed"; exit 1
	fi
	e2e_where "$@"
}
