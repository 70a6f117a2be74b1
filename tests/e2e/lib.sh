# Shared by the e2e suites that boot guests (run.sh, net.sh), after
# tests/lib.sh: each suite defines vm_console and vm_state (vm_reason if it
# can tell why a VM stopped) for the VMM it drives.

# wait_console NAME PATTERN SECONDS: until the console shows PATTERN (an
# ERE); gives up early once the vm has stopped or failed without it.
wait_console() {
	end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$end" ]; do
		vm_console "$1" | grep -qE -- "$2" && return 0
		case "$(vm_state "$1")" in
		stopped|failed)
			vm_console "$1" | grep -qE -- "$2" && return 0
			why=
			command -v vm_reason >/dev/null 2>&1 &&
			    why=" ($(vm_reason "$1"))"
			echo "vm $1 is $(vm_state "$1")$why and its console never showed \"$2\""
			vm_console "$1" | tail -n 15 | sed 's/^/  console: /'
			return 1 ;;
		esac
		sleep 0.25
	done
	echo "vm $1: no \"$2\" on the console within $3 s (state $(vm_state "$1"))"
	vm_console "$1" | tail -n 15 | sed 's/^/  console: /'
	return 1
}

# booted NAME: did it reach init? Cases of a guest that never booted fail
# at once instead of waiting again.
booted() {
	case " $unbooted " in *" $1 "*)
		echo "vm $1 never booted (see the boot case above)"; return 1 ;;
	esac
}

# expect NAME WHAT PATTERN [SECONDS]: the guest prints PATTERN.
expect() {
	if out=$(booted "$1" && wait_console "$1" "$3" "${4:-60}"); then
		ok "$1: $2"
	else
		not_ok "$1: $2"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# case_ NAME WHAT COMMAND...: a check on a guest that booted.
case_() {
	vm=$1; what=$2; shift 2
	if out=$(booted "$vm" && "$@" 2>&1); then ok "$vm: $what"; else
		not_ok "$vm: $what"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# await_init NAME T0: NAME's guest reaches init within BOOT_TIMEOUT of T0
# (at least 5 s more); one that does not joins $unbooted.
await_init() {
	left=$((BOOT_TIMEOUT - ($(date +%s) - $2)))
	[ $left -lt 5 ] && left=5
	if out=$(wait_console "$1" '^vmtop-guest: init$' "$left"); then
		ok "$1 boots to init ($(($(date +%s) - $2)) s)"
	else
		not_ok "$1 boots to init"; printf '%s\n' "$out" | sed 's/^/#   /'
		unbooted="$unbooted $1"
	fi
}

# wait_for NAME STATE SECONDS
wait_for() {
	end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(vm_state "$1")" = "$2" ] && return 0
		sleep 0.25
	done
	echo "vm $1 is $(vm_state "$1") ($(vm_reason "$1")), not $2, after $3 s"
	return 1
}


# last_tick NAME: the number of the newest "tick" line.
last_tick() {
	vm_console "$1" | sed -n 's/^vmtop-guest: tick \([0-9]*\) .*/\1/p' | tail -n 1
}
# tick_field NAME N FIELD: field 1 (uptime) or 2 (epoch) of tick N.
tick_field() {
	vm_console "$1" | sed -n "s/^vmtop-guest: tick $2 \([0-9.]*\) \([0-9]*\)\$/\\$3/p" |
	    tail -n 1
}

# start_guests: start each of $guests; those that started are $started.
start_guests() {
	started=
	for vm in $guests; do
		if out=$(vm_start "$vm"); then
			ok "start $vm"; started="$started $vm"
		else
			not_ok "start $vm"; printf '%s\n' "$out" | sed 's/^/#   /'
		fi
	done
}

# boot_guests: each started guest reaches init (await_init); the others
# and those that do not join $unbooted.
boot_guests() {
	t0=$(date +%s)
	unbooted=
	for vm in $guests; do
		case " $started " in *" $vm "*) ;; *) unbooted="$unbooted $vm"; continue ;; esac
		await_init "$vm" "$t0"
	done
}
