# The tmux side of the TUI tests, sourced after ../lib.sh: a private tmux
# server, a pane running vmtop, its screen and keys, and bounded waits.
if ! command -v tmux >/dev/null 2>&1; then
	not_ok "tmux is not installed"
	finish
	exit 1
fi
unset TMUX
TMUX_SOCK="$T/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
# A session that outlives the others, or the server exits between them.
tm new-session -d -s keep "sleep 3600"

# run W H COMMAND: a fresh session running COMMAND, then a shell line
# that shows its exit status and keeps the pane.
run() {
	w=$1; h=$2; shift 2
	tm kill-session -t vt 2>/dev/null
	tm new-session -d -s vt -x "$w" -y "$h" \
	    "$*; echo vmtop-exit=\$?; stty -a | tr ' ' '\\n' | grep -x -- '-*icanon'; sleep 3600"
}
# dash W H [ARGS]: the dashboard on the private engine.
dash() {
	w=$1; h=$2; shift 2
	run "$w" "$h" "$VMTOP -S $SOCK -f $CONF $*"
	wait_screen "^ *ID *NAME" || { echo "# the dashboard did not start"; screen | sed 's/^/#   /'; }
}
screen() { tm capture-pane -p -t vt; }
screen_e() { tm capture-pane -p -e -t vt; }
keys() { tm send-keys -t vt "$@"; }
# wait_screen PATTERN [TENTHS]: until the screen shows PATTERN.
wait_screen() {
	i=0
	while [ "$i" -lt "${2:-50}" ]; do
		screen | grep -q -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
# wait_gone PATTERN: until the screen no longer shows PATTERN.
wait_gone() {
	i=0
	while [ "$i" -lt 50 ]; do
		screen | grep -q -- "$1" || return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
dump() { screen | sed 's/^/#   /'; }
# signal_client SIG: send SIG to the vmtop that runs in the pane.
signal_client() {
	cpid=$(pgrep -P "$(tm display -p -t vt '#{pane_pid}')" -x vmtop | head -n 1)
	[ -n "$cpid" ] && kill -"$1" "$cpid"
}
# see NAME PATTERN: the screen shows PATTERN (waiting for it).
see() {
	if wait_screen "$2"; then ok "$1"; else not_ok "$1 (no \"$2\")"; dump; fi
}
# unseen NAME PATTERN: the screen does not show PATTERN (now).
unseen() {
	if screen | grep -q -- "$2"; then not_ok "$1 (\"$2\" shown)"; dump; else ok "$1"; fi
}
