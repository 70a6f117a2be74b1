# Shared by the shell test suites: a private engine on its own socket,
# state in a temporary folder, the test runner instead of vmtop-vm, and
# counters that end in the "N passed, M failed" line.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
VMTOP="$TOP/vmtop"
TEST_RUNNER="$TOP/tests/runner/vmtop-test-runner"
passed=0
failed=0

T=$(mktemp -d /tmp/vmtop-test.XXXXXX)
export HOME="$T/home" XDG_RUNTIME_DIR="$T/run" XDG_STATE_HOME="$T/state"
export XDG_CONFIG_HOME="$T/config" VMTOP_STATE_DIR="$T/state/vmtop"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME"
chmod 755 "$T" "$XDG_RUNTIME_DIR"
export VMTOP_RUNNER="$TEST_RUNNER" VMTOP_KVM=/dev/null
SOCK="$T/run/engine.sock"
CONF="$T/vm.conf"
ENGINE_PID=

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# vt COMMANDS: run a batch command against the private engine.
vt() { "$VMTOP" -S "$SOCK" -f "$CONF" -c "$*"; }
# vtj COMMANDS: the same with JSON output.
vtj() { "$VMTOP" -S "$SOCK" -f "$CONF" -j -c "$*"; }

# check NAME COMMAND...: the command must succeed.
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else
		not_ok "$name"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check_fail NAME PATTERN COMMAND...: it must fail, saying PATTERN.
check_fail() {
	name=$1; pat=$2; shift 2
	if out=$("$@" 2>&1); then
		not_ok "$name (succeeded)"; printf '%s\n' "$out" | sed 's/^/#   /'
	elif printf '%s\n' "$out" | grep -q -- "$pat"; then ok "$name"; else
		not_ok "$name (no \"$pat\")"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# check_out NAME PATTERN COMMAND...: it must succeed and print PATTERN.
check_out() {
	name=$1; pat=$2; shift 2
	if out=$("$@" 2>&1) && printf '%s\n' "$out" | grep -q -- "$pat"; then
		ok "$name"
	else
		not_ok "$name (no \"$pat\")"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# state NAME: the VM's state as the engine reports it.
state() {
	vtj "status $1" 2>/dev/null | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p'
}

# wait_state NAME STATE [TENTHS]: poll until the VM is in STATE.
wait_state() {
	i=0
	while [ "$i" -lt "${3:-100}" ]; do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	echo "vm $1 is $(state "$1"), not $2" >&2
	return 1
}

start_engine() {
	"$VMTOP" -D -S "$SOCK" -f "$CONF" ${ENGINE_ARGS:-} \
	    >>"$T/engine.log" 2>&1 &
	ENGINE_PID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}

stop_engine() {
	[ -n "$ENGINE_PID" ] || return 0
	# SIGINT stops the VMs; SIGTERM would leave their runners running
	kill -INT "$ENGINE_PID" 2>/dev/null
	wait "$ENGINE_PID" 2>/dev/null
	ENGINE_PID=
}

finish() {
	stop_engine
	# a sanitizer build (make asan) reports into the engine's log
	if [ -f "$T/engine.log" ] &&
	    grep -q 'Sanitizer\|runtime error:' "$T/engine.log"; then
		not_ok "the engine's log has a sanitizer report"
	fi
	if [ "$failed" -gt 0 ] && [ -f "$T/engine.log" ]; then
		echo "# engine log:"; sed 's/^/#   /' "$T/engine.log" | tail -n 40
	fi
	rm -rf "$T"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
