# 11: another user's fake engine. A client talks only to an engine that
# runs as itself or as root (SO_PEERCRED), and its fallback socket folder
# /tmp/vmtop-UID must be its own, a folder and 0700.

FAKE11="$TOP/tests/runner/vmtop-fakeengine"
U11=60011

S11="$T/fake11/engine.sock"
mkdir -m 0755 "$T/fake11"; chown $HOSTILE_UID "$T/fake11"
setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups \
    "$FAKE11" "$S11" shortreply >/dev/null 2>&1 &
fake11=$!
if wait_for "11" test -S "$S11"; then
	ok "11: the second uid's fake engine listens"
	chmod 0777 "$S11"
	check_fail "11: root's client refuses it, naming its uid" \
	    "the engine on $S11 runs as uid $HOSTILE_UID, not as you (uid 0) or root: refusing it" \
	    "$VMTOP" -S "$S11" -c status
	check_fail "11: so does another user's" "runs as uid $HOSTILE_UID" \
	    setpriv --reuid=$U11 --regid=$U11 --clear-groups \
	    "$VMTOP" -S "$S11" -c status
	check_fail "11: its own user's client still talks to it" \
	    "malformed reply from the engine" \
	    as_hostile "$VMTOP" -S "$S11" -c "pause x"
else
	not_ok "11: the second uid's fake engine listens"
fi
kill $fake11; wait $fake11 2>/dev/null

# The fallback folder, when there is no XDG_RUNTIME_DIR.
D11=/tmp/vmtop-$U11
as11() {
	env -u XDG_RUNTIME_DIR HOME="$T" setpriv --reuid=$U11 --regid=$U11 \
	    --clear-groups "$VMTOP" -c status
}
rm -rf "$D11"
as_hostile mkdir -m 0777 "$D11"
check_fail "11: a fallback folder made by another uid is refused" \
    "the socket folder $D11 belongs to uid $HOSTILE_UID, not to you: refusing it" as11
rm -rf "$D11"
mkdir -m 0777 "$D11"; chown $U11 "$D11"; chmod 0777 "$D11"
check_fail "11: one of its own with mode 0777 is refused" \
    "the socket folder $D11 has mode 0777, not 0700: refusing it" as11
rm -rf "$D11"
mkdir -m 0700 "$T/elsewhere11"; chown $U11 "$T/elsewhere11"
ln -s "$T/elsewhere11" "$D11"
check_fail "11: a link to a folder of its own is refused" \
    "the socket folder $D11 is not a folder (a link or a file): refusing it" as11
rm -f "$D11"
# Consoles are held by the engine for one client at a time, never by a
# pid in a file: another user's client is refused root's.
was11=$(state roots)
[ "$was11" = running ] || vt start roots >/dev/null 2>&1
check_fail "11: the second uid may not take root's console" \
    "vm roots: permission denied (not its owner)" \
    as_hostile script -qec "$VMTOP -S $SOCK -c 'console -f roots'" /dev/null
[ "$was11" = running ] || vt stop -w roots >/dev/null 2>&1
root_answers "11"
