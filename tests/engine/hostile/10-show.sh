# 10: show of another user's VM. Non-owners see what status shows and no
# more: no cmdline, kernel, disks, config file or networks, and not why it
# failed (the reason may name paths), in text and in JSON.

# lacks10 TEXT COMMAND...: the command succeeds and its output lacks TEXT.
lacks10() {
	text=$1; shift
	out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
	if printf '%s\n' "$out" | grep -qF -- "$text"; then
		printf '%s\n' "$out"; return 1
	fi
}

cp "$CONF" "$T/conf10"
printf 'vm "broken10" { kernel "%s/secret10/kernel"; cmdline "test=run" }\n' \
    "$T" >>"$CONF"
check "10: reload with a vm of root's that cannot start" vt reload
check_fail "10: root starts it and it fails" "secret10" vt start broken10

check_out "10: root's show has the cmdline" "test=run" vt show roots
check_out "10: and the kernel" "$T/kernel" vt show roots
check_out "10: the second uid's show has the state" "stopped" hv show roots
for what in test=run "$T/kernel" cmdline defined vm.conf; do
	check "10: the second uid's show has no $what" \
	    lacks10 "$what" hv show roots
	check "10: nor its show --json" lacks10 "$what" hvj show roots
done
check_out "10: its own vm shows it all" "test=run" hv show nobodys

check_out "10: root is told why its vm failed" "secret10" vt show broken10
check_out "10: the second uid is told it failed" \
    "vm broken10 failed (its owner may see why)" hv show broken10
for cmd in "show broken10" "status broken10" "status"; do
	check "10: $cmd as the second uid names no path" \
	    lacks10 secret10 hv "$cmd"
	check "10: nor with --json" lacks10 secret10 hvj "$cmd"
done
cp "$T/conf10" "$CONF"
check "10: reload without it" vt reload
root_answers "10"
