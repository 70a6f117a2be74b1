#!/bin/sh
# Networking tests that need no guest. vmtop-netpeer plays the guest of a
# vmtop-slirp with frames built by hand (DHCP, ARP, TCP, UDP) against real
# sockets on 127.0.0.1; then the real engine, with the test runner
# standing in for vmtop-vm, starts helpers for `interface user`, reports
# a hostfwd port in use by its rule, adds and removes forwards while the
# VM runs and ends the helpers with the VM; as root, taps join their
# switch's bridge.
. "$(dirname "$0")/../lib.sh"
SLIRP="$TOP/vmtop-slirp"
PEER="$TOP/tests/net/vmtop-netpeer"
export VMTOP_SLIRP="$SLIRP"

for f in "$SLIRP" "$PEER"; do
	[ -x "$f" ] || { not_ok "$f is built (make vmtop-slirp $PEER)"; finish; exit 1; }
done

# A free TCP port on 127.0.0.1 for each rule, from the pid.
base=$((20000 + $$ % 20000))

for s in dhcp hostfwd-tcp hostfwd-udp inuse forward host restricted dns sandbox rings syslog; do
	base=$((base + 3))
	if out=$("$PEER" "$SLIRP" "$s" "$base" 2>&1); then
		ok "vmtop-slirp: $s"
	else
		not_ok "vmtop-slirp: $s"
	fi
	printf '%s\n' "$out" | sed 's/^/#   /'
done

# The engine: one helper per user-mode NIC, for as long as the VM runs.
P1=$((base + 3)); P2=$((base + 4))
touch "$T/kernel"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "net" {
	kernel \$k
	interface user { hostfwd "tcp:127.0.0.1:$P1-:22"; hostfwd "udp::$P2-:53" }
	interface user { restricted no }
}
vm "clash" { kernel \$k; interface user { hostfwd "tcp:127.0.0.1:$P1-:80" } }
vm "badguest" { kernel \$k; interface user { hostfwd "tcp::$P2-10.0.2.2:22" } }
vm "rb" { kernel \$k; cmdline "test=reboot:5"; interface user }
CONF
ENGINE_ARGS=-v start_engine

# helper VM NIC: the pid of the vm's helper for a NIC, if one runs.
helper() { pgrep -f -x "vmtop-slirp $1 $2" | head -n 1; }
# gone VM NIC: no helper within 3 s.
gone() {
	i=0
	while [ -n "$(helper "$1" "$2")" ] && [ $i -lt 30 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -z "$(helper "$1" "$2")" ] || { echo "vmtop-slirp $1 $2 still runs"; return 1; }
}
sandboxed() {
	pid=$(helper "$1" "$2")
	[ -n "$pid" ] || { echo "no vmtop-slirp $1 $2"; return 1; }
	st=$(cat "/proc/$pid/status") || return 1
	echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$' || { echo "$(echo "$st" | grep NoNewPrivs)"; return 1; }
	echo "$st" | grep -q '^Seccomp:[[:space:]]*2$' || { echo "$(echo "$st" | grep '^Seccomp:')"; return 1; }
	u=$(echo "$st" | sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p')
	[ "$u" != 0 ] || { echo "vmtop-slirp $pid runs as root"; return 1; }
	ppid=$(echo "$st" | sed -n 's/^PPid:[[:space:]]*//p')
	[ "$ppid" = "$ENGINE_PID" ] || { echo "its parent is $ppid, not the engine"; return 1; }
}

check "start a vm with two user-mode interfaces" vt start net
check "a helper for interface 0" test -n "$(helper net 0)"
check "a helper for interface 1" test -n "$(helper net 1)"
check "the helper is sandboxed (no_new_privs, seccomp, uid)" sandboxed net 0
# empty_root VM NIC [WANT]: the helper's root holds nothing (but WANT,
# what find lists there).
empty_root() {
	pid=$(helper "$1" "$2")
	[ -n "$pid" ] || { echo "no vmtop-slirp $1 $2"; return 1; }
	r=$(stat -L -c %d:%i "/proc/$pid/root")
	[ "$r" != "$(stat -c %d:%i /)" ] || { echo "its root is the host's /"; return 1; }
	got=$(cd "/proc/$pid/root" && find . -mindepth 1 | sort | tr '\n' ' ')
	want=${3:-}
	[ "$got" = "$want" ] || { echo "its root holds '$got', not '$want'"; return 1; }
}
check "the restricted helper's root is empty" empty_root net 0
[ -e /etc/resolv.conf ] && want="./etc ./etc/resolv.conf " || want=
check "the other's holds resolv.conf alone" empty_root net 1 "$want"
if [ "$(id -u)" -eq 0 ]; then
	# runs_as_runner VM NIC: the helper has its VM's runner uid (the
	# runner's child, pid 1 of its pid namespace, under the engine's pid)
	runs_as_runner() {
		h=$(status_uid "$(helper "$1" "$2")")
		rp=$(vtj "status $1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
		r=$(status_uid "$rp")
		[ -n "$h" ] && [ "$h" = "$r" ] && [ "$h" -ge 900000 ] ||
		    { echo "helper uid '$h', runner uid '$r'"; return 1; }
	}
	status_uid() { sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
	check "the helpers run as their VM's runner uid" runs_as_runner net 1
fi
# "restricted no" reaches the helper (its debug line) and show.
logged() { grep -q "$1" "$T/engine.log" || { tail -n 5 "$T/engine.log"; return 1; }; }
check "interface 0's helper is restricted" logged "vmtop-slirp net/0: ready: uid [0-9]*, restricted,"
check "interface 1's (restricted no) is not" logged "vmtop-slirp net/1: ready: uid [0-9]*, unrestricted,"
check_out "show says which is which" "interface1: user (open)" vt show net
# The runner reports counters per NIC; show (and the dashboard's details
# pane) gives each interface its own. The test runner counts NIC i as
# (i + 1) * 1000 bytes received a second.
sleep 1.2
nic_counts() {	# from one `show`: interface 0's and 1's rx bytes
	vt show net | sed -n 's/^interface[01]: .*rx \([0-9]*\) bytes.*/\1/p' |
	    tr '\n' ' '
}
set -- $(nic_counts)
check "show gives interface 0 its own counters" test "${1:-0}" -gt 0
check "interface 1 counts twice what interface 0 does" \
    test "${2:-0}" -eq $((2 * ${1:-0}))
# forward and unforward, through the engine to the running helpers.
# The test runner plays no guest: the helper's listening socket takes a
# connection (libslirp accepts it before it calls the guest), and
# refuses it once the rule is gone. The netpeer's forward scenario
# above carries bytes through such a rule, to a guest and back.
P3=$((base + 5)); P4=$((base + 6)); P5=$((base + 7))
takes() { "$PEER" "$SLIRP" connect "$1"; }
refuses() { ! "$PEER" "$SLIRP" connect "$1" >/dev/null 2>&1 || { echo "127.0.0.1:$1 takes connections"; return 1; }; }
check "nothing listens on 127.0.0.1:$P3 yet" refuses $P3
check "forward a port of the running vm" vt forward net $P3-:8080
check_out "show lists it, on 127.0.0.1, beside vm.conf's" \
    "^forward0.0: tcp:127.0.0.1:$P3-:8080" vt show net
check_out "vm.conf's rules are still listed" "^hostfwd0.0: tcp:127.0.0.1:$P1-:22" vt show net
check "a client's connect is taken" takes $P3
check_fail "its host port twice is refused" \
    "vm net: forward tcp:127.0.0.1:$P3-:80: its host port is taken by tcp:127.0.0.1:$P3-:8080" \
    vt forward net tcp::$P3-:80
check_fail "so is a vm.conf rule's" "taken by tcp:127.0.0.1:$P1-:22" \
    vt forward net tcp:0.0.0.0:$P1-:80
"$PEER" "$SLIRP" hold $P4 >/dev/null 2>&1 & holder=$!
i=0; while ! takes $P4 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_fail "a port in use names the vm and the rule" \
    "vm net: interface 0: hostfwd \"tcp:127.0.0.1:$P4-:80\": Address already in use" \
    vt forward net $P4-:80
kill $holder; wait $holder 2>/dev/null
check "-i 1 forwards on the second interface" vt forward -i 1 net udp:0.0.0.0:$P5-:5353
check_out "show lists it under interface 1" "^forward1.0: udp:0.0.0.0:$P5-:5353" vt show net
check_fail "a bad rule is refused" "vm net: invalid forward \"tcp:x-:1\": ports are numbers" \
    vt forward net tcp:x-:1
check_fail "a rule without its guest port is" "vm net: invalid forward \"$P4\": expected" \
    vt forward net $P4
check_fail "a vm that does not run has no forwards" \
    "vm clash: forward tcp:127.0.0.1:$P4-:1: the vm is stopped, not running" \
    vt forward clash $P4-:1
check_fail "nor a tap's interface" "vm net has no interface 3" vt forward -i 3 net $P4-:1
if [ "$(id -u)" -eq 0 ]; then
	other() { setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$VMTOP" -S "$SOCK" -c "$*"; }
	check_fail "another user may not forward a port of the vm" \
	    "vm net: permission denied (not its owner)" other forward net $P4-:1
	check_fail "nor unforward one" \
	    "vm net: permission denied (not its owner)" other unforward net $P3
	check "the forward stays" takes $P3
fi
check "unforward removes it" vt unforward net $P3
check "a client's connect is refused then" refuses $P3
no_forwards() { ! vt show net | grep "^forward${1:-}"; }
check "show lists it no more" no_forwards 0
check_fail "unforward of a rule not added" "vm net: unforward $P3: no forward added with that host port" \
    vt unforward net $P3
check_fail "vm.conf's rules are not unforward's" "that rule is vm.conf's" \
    vt unforward net tcp:127.0.0.1:$P1
check "unforward takes the whole rule too" vt unforward net udp:0.0.0.0:$P5-:5353
check "forward it again" vt forward net $P3-:8080
# A guest reboot starts new helpers: the forwards are added to them.
P6=$((base + 8))
restarted() {
	i=0
	while ! vtj "status $1" | grep -q '"restarts": *[1-9]' ||
	    [ "$(state "$1")" != running ]; do
		[ $i -lt 300 ] || { vtj "status $1"; return 1; }
		sleep 0.1; i=$((i + 1))
	done
}
check "start a vm that reboots" vt start rb
check "forward a port of it" vt forward rb $P6-:80
check "it reboots" restarted rb
check_out "its forward is still listed" "^forward0.0: tcp:127.0.0.1:$P6-:80" vt show rb
check "and still taken, by the new helper" takes $P6
check "stop it" vt stop rb -f
check "its forward went with it" refuses $P6

check_fail "a hostfwd port in use names the rule" \
    "vm clash: interface 0: hostfwd \"tcp:127.0.0.1:$P1-:80\": Address already in use" \
    vt start clash
check_out "clash failed with that reason" "Address already in use" vtj status clash
check "clash left no helper behind" gone clash 0
check_fail "a guest address that is the host's is refused" \
    "vm badguest: interface 0: hostfwd \"tcp::$P2-10.0.2.2:22\": the guest address" \
    vt start badguest
check "stop the vm" vt stop net -w
check "its helpers end with it" gone net 0
check "both of them" gone net 1
check "its forward went with it" refuses $P3
check "start it again" vt start net
check "its forwards did not outlive the run" no_forwards
check "stop it again" vt stop net -w
check "clash starts once the port is free" vt start clash
runner=$(vtj "status clash" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
check "kill the runner" kill -9 "$runner"
check "the vm fails" wait_state clash failed
check "the helper ends with the runner" gone clash 0
no_zombies() {
	z=$(ps -o pid=,stat=,args= --ppid "$ENGINE_PID" | awk '$2 ~ /^Z/')
	[ -z "$z" ] || { echo "not reaped: $z"; return 1; }
}
check "the engine reaped the helpers" no_zombies

# An engine that adopts the vm finds its forwards in the state file: its
# helpers still hold them, but only the engine that started a helper
# holds its control socket.
check "start net again" vt start net
check "forward a port of it" vt forward net $P3-:8080
check "kill-engine -k leaves it running" vt kill-engine -k
wait "$ENGINE_PID" 2>/dev/null
ENGINE_ARGS=-v start_engine
check "the next engine adopts it" wait_state net running
check_out "show lists the forward still" "^forward0.0: tcp:127.0.0.1:$P3-:8080" vt show net
check "the forward still takes connections" takes $P3
check_fail "forward says why it cannot change them" \
    "vm net: interface 0: its vmtop-slirp was started by an earlier engine" \
    vt forward net $P4-:80
check "stop the adopted vm" vt stop net -w
check "its forward went with it" refuses $P3

# As another user: the helper keeps that user's uid.
if [ "$(id -u)" -eq 0 ]; then
	U="$T/user"; mkdir -p "$U"; chown 65534:65534 "$U"
	echo "vm \"mine\" { kernel \"$T/kernel\"; interface user }" >"$U/vm.conf"
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env HOME="$U" XDG_RUNTIME_DIR="$U" VMTOP_STATE_DIR="$U/state" \
	    "$VMTOP" -S "$U/engine.sock" -f "$U/vm.conf" "$@"; }
	check "a user's engine starts a user-mode vm" as_user -c "start mine"
	user_helper() {
		pid=$(helper mine 0)
		[ -n "$pid" ] || { echo "no helper"; return 1; }
		grep -q '^Uid:[[:space:]]*65534[[:space:]]' "/proc/$pid/status" &&
		    grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status"
	}
	check "its helper runs as that user, sandboxed" user_helper
	as_user -c "stop mine -w; kill-engine" >/dev/null 2>&1
fi

# Taps and switches (root, with /dev/net/tun and CAP_NET_ADMIN).
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && ! ip link show vmtopbr91 >/dev/null 2>&1 &&
    ip link add vmtoptest91 type bridge 2>/dev/null; then
	ip link del vmtoptest91
	cat >>"$CONF" <<CONF
switch "lan" { interface vmtopbr91 }
vm "tapped" { kernel "$T/kernel"; interface tap91 { switch "lan"; mtu 9000 }; interface { switch "lan"; down } }
CONF
	check "reload with a switch" vt reload
	check "start a vm with two taps on a switch" vt start tapped
	check "the switch's bridge was created" test -d /sys/class/net/vmtopbr91/bridge
	check_out "the bridge is up" "UP" ip link show vmtopbr91
	check_out "tap91 is a port of the bridge" "master vmtopbr91" ip link show tap91
	check_out "tap91 is up" "<.*UP.*>" ip link show tap91
	check_out "tap91 has its block's mtu" " mtu 9000 " ip link show tap91
	two_ports() {
		p=$(ls /sys/class/net/vmtopbr91/brif/ | tr '\n' ' ')
		case "$p" in
		*tap91*) [ "$(echo $p | wc -w)" -eq 2 ] && echo $p | tr ' ' '\n' |
		    grep -v '^tap91$' | grep -q '^tap[0-9][0-9]*$' ;;
		*) false ;;
		esac || { echo "ports: $p"; return 1; }
	}
	check "the next free tap is the second port" two_ports
	second_down() {
		t=$(ls /sys/class/net/vmtopbr91/brif/ | grep -v '^tap91$')
		! ip link show "$t" | grep -q '<[^>]*UP'
	}
	check "the second tap is down, as its block says" second_down
	check "stop the vm" vt stop tapped -w
	check "its taps are gone" sh -c '! ip link show tap91 2>/dev/null'
	check "the bridge stays" test -d /sys/class/net/vmtopbr91/bridge
	ip link del vmtopbr91 2>/dev/null
fi

vt stop -a -f -w >/dev/null 2>&1
finish
