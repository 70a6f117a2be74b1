# 3: runners reaching each other. Each VM's runner drops to a uid of its
# own from the runner range (runner_uid_first 900000, count 65536), never
# the owner's or 65534 shared by every unowned VM, and runs as pid 1 of a
# pid namespace of its own under the pid the engine started (so F_SETOWN,
# kill or ptrace from one runner finds no process of its uid to reach).

# runner_pid VM: the pid the engine reports for VM's runner.
runner_pid() {
	vtj "status $1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'
}
# status_field PID FIELD: a field of /proc/PID/status.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}
# runner_inner PID: the runner's child, pid 1 of its namespace.
runner_inner() {
	k=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
	echo "${k%% *}"
}
# runs_sandboxed VM: print "uid U inner NSPID" for VM's runner, or fail.
runs_sandboxed() {
	p=$(runner_pid "$1")
	[ -n "$p" ] && [ "$p" -gt 0 ] || { echo "vm $1: no runner pid"; return 1; }
	k=$(runner_inner "$p")
	[ -n "$k" ] || { echo "vm $1: runner $p has no child"; return 1; }
	u=$(status_field "$p" Uid | cut -f1)
	ku=$(status_field "$k" Uid | cut -f1)
	[ "$u" = "$ku" ] || { echo "vm $1: runner uid $u, its child $ku"; return 1; }
	[ "$u" -ge 900000 ] && [ "$u" -lt 965536 ] ||
	    { echo "vm $1: uid $u not from the runner range"; return 1; }
	[ "$(status_field "$p" Gid | cut -f1)" = "$u" ] ||
	    { echo "vm $1: gid is not its uid"; return 1; }
	ns=$(status_field "$k" NSpid)
	case "$ns" in
	"$k	1") ;;
	*) echo "vm $1: child NSpid '$ns', want '$k	1'"; return 1 ;;
	esac
	echo "vm $1: runner $p uid $u, child NSpid $ns"
}

check "3: roots starts" vt start roots
check "3: nobodys starts" vt start nobodys
check "3: roots is running" wait_state roots running
check "3: nobodys is running" wait_state nobodys running
check_out "3: roots' runner has a range uid and a pid namespace" "NSpid" \
    runs_sandboxed roots
check_out "3: nobodys' runner too (not 65534)" "NSpid" runs_sandboxed nobodys
ur=$(status_field "$(runner_pid roots)" Uid | cut -f1)
un=$(status_field "$(runner_pid nobodys)" Uid | cut -f1)
if [ -n "$ur" ] && [ "$ur" != "$un" ]; then
	ok "3: the two runners have different uids ($ur, $un)"
else
	not_ok "3: the two runners share uid '$ur'"
fi
np=$(runner_pid nobodys)
nk=$(runner_inner "$np")
check "3: nobodys stops" vt stop -w nobodys
# (other root engines on this machine may use the same range: look at
# this runner's own processes, not at its uid)
check "3: its runner and the runner's child are gone" \
    sh -c "[ -n '$nk' ] && ! [ -e /proc/$np ] && ! [ -e /proc/$nk ]"
check "3: roots stops" vt stop -w roots
root_answers "3"
