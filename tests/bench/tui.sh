#!/bin/sh
# make bench, the client side: the dashboard's idle CPU with 100 running
# VMs at -d 1, the cost of redrawing a 1000-row table, and console
# throughput, side by side with the targets of issue 4 and with peers.
# A private engine runs with the test runner (tests/runner) standing in
# for vmtop-vm; the dashboard runs in a detached tmux session on a private
# tmux socket, as tests/tui/run.sh does. CPU is utime+stime from
# /proc/PID/stat. Figures never fail the bench: it exits non-zero only when
# something broke (an engine or a dashboard that did not start).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/lib.sh"
NIDLE=100		# running VMs for the idle figure
IDLE_S=20		# seconds the idle dashboard is watched
NROWS=1000		# VMs defined for the redraw figure
NREDRAW=100		# C-l sent for each redraw figure
FLOOD_MIB=64		# written by the runner for each console run
NFLOOD=3		# console runs of each kind; the best counts
IDLE_TARGET_PCT=1	# "well under 1% of a core"
RATIO_TARGET=0.9	# console through vmtop / cat on the raw pty

unset TMUX
TMUX_SOCK="$T/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }

cleanup() {
	trap - EXIT INT TERM HUP
	tm kill-server 2>/dev/null
	stop_engine
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

need_built "$VMTOP" "$TEST_RUNNER"
command -v tmux >/dev/null 2>&1 || broke "tmux is not installed"
HZ=$(getconf CLK_TCK)

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
now_ns() { date +%s%N; }
# ticks PID: utime+stime of PID, in clock ticks.
ticks() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
# wchar PID: bytes PID has written so far.
wchar() { sed -n 's/^wchar: //p' "/proc/$1/io" 2>/dev/null; }
alive() { kill -0 "$ENGINE_PID" 2>/dev/null || broke "the engine died"; }
names() { awk -v a="$1" -v b="$2" -v p="$3" -v s="$4" \
    'BEGIN { for (i = a; i <= b; i++) printf "%sv%04d%s", p, i, s }'; }
# verdict VALUE LIMIT [ge]: "target met" when VALUE < LIMIT (or >=).
verdict() {
	if [ "${3:-}" = ge ]; then c="$1 >= $2"; else c="$1 < $2"; fi
	awk "BEGIN { exit !($c) }" && echo "target met" || echo "target missed"
}
rows=
row() { rows="$rows$(printf '%-40s %-22s %-26s %s' "$1" "$2" "${3:--}" \
    "${4:-}")
"; }
notes=
note() { notes="$notes$*
"; }

# conf N: N VMs of the test runner that run until stopped.
conf() {
	awk -v k="$T/kernel" -v n="$1" 'BEGIN {
		printf "k = \"%s\"\n", k
		for (i = 1; i <= n; i++)
			printf "vm \"v%04d\" { kernel $k; cmdline \"test=run\" }\n", i
	}' >"$CONF"
}
engine() {
	start_engine
	[ -S "$SOCK" ] || broke "the engine did not start"
	alive
}
# dash SESSION W H ARGS: the dashboard in a fresh tmux session; its pid.
dash() {
	s=$1; w=$2; h=$3; shift 3
	tm new-session -d -s "$s" -x "$w" -y "$h" \
	    "exec $VMTOP -S $SOCK -f $CONF $*" || broke "tmux failed"
	i=0
	until tm capture-pane -p -t "$s" | grep -q '^ *ID *NAME'; do
		[ $i -lt 100 ] || broke "the dashboard did not start"
		sleep 0.1; i=$((i + 1))
	done
	DPID=$(tm display-message -p -t "$s" '#{pane_pid}')
	[ -r "/proc/$DPID/stat" ] || broke "no dashboard pid"
}
# settle PID: wait until PID's CPU time stops growing.
settle() {
	a=$(ticks "$1"); i=0
	while [ $i -lt 50 ]; do
		sleep 0.3; b=$(ticks "$1")
		[ "$a" = "$b" ] && return 0
		a=$b; i=$((i + 1))
	done
}

touch "$T/kernel"
echo "bench: dashboard and console, test runner, $(nproc) CPUs, $(uname -r)"
tm new-session -d -s keep "sleep 3600" || broke "tmux failed"

# 1. Idle: 100 running VMs, the dashboard at -d 1, watched for IDLE_S
# seconds; top -d 1 in the same size of terminal at the same time.
echo "bench: idle dashboard, $NIDLE running VMs, ${IDLE_S} s"
conf "$NIDLE"
engine
alive; vt "$(names 1 "$NIDLE" "start " "; ")" >/dev/null ||
    broke "starting $NIDLE VMs failed"
nrun=$(vtj status 2>/dev/null | grep -c '"state":"running"')
[ "$nrun" -eq "$NIDLE" ] || broke "$nrun of $NIDLE VMs are running"
dash idle 132 40 -d 1
tm new-session -d -s top -x 132 -y 40 "exec top -d 1" 2>/dev/null
TPID=$(tm display-message -p -t top '#{pane_pid}' 2>/dev/null)
sleep 2			# past the first screens
d0=$(ticks "$DPID"); e0=$(ticks "$ENGINE_PID"); t0=$(ticks "$TPID")
w0=$(now_ns)
sleep "$IDLE_S"
d1=$(ticks "$DPID"); e1=$(ticks "$ENGINE_PID"); t1=$(ticks "$TPID")
w1=$(now_ns)
[ -n "$d1" ] || broke "the dashboard died"
wall=$(calc "($w1 - $w0) / 1e9" 3)
pct() { calc "100 * ($2 - $1) / $HZ / $wall" 2; }
idle=$(pct "$d0" "$d1")
top_pct=-
[ -n "$t0" ] && [ -n "$t1" ] && top_pct="$(pct "$t0" "$t1")%"
row "dashboard idle CPU, $NIDLE VMs, -d 1" "$idle% of a core" \
    "< $IDLE_TARGET_PCT%: $(verdict "$idle" "$IDLE_TARGET_PCT")" \
    "top -d 1: $top_pct"
row "engine CPU meanwhile" "$(pct "$e0" "$e1")% of a core" "" \
    "serving 1 dashboard"
tm kill-session -t idle 2>/dev/null
tm kill-session -t top 2>/dev/null
alive; vt "stop -a -w" >/dev/null 2>&1
stop_engine

# 2. Redraw: 1000 VMs defined, the dashboard at -d 3600 so that only the
# keys draw. C-l (redraw, alias refresh) clears curses' idea of the screen,
# so each one sorts and lays out the 1000 rows and sends a whole screen.
# Keys that arrive together draw once, so the redraws are counted by the
# bytes the dashboard wrote (/proc/PID/io wchar) over those of one C-l.
echo "bench: redraw, $NROWS VMs defined"
conf "$NROWS"
engine
redraw() {		# redraw W H: sets us (CPU a redraw), nd, bytes
	dash rd "$1" "$2" -d 3600
	sleep 0.5; settle "$DPID"
	b0=$(wchar "$DPID")
	tm send-keys -t rd C-l; sleep 0.3; settle "$DPID"
	b1=$(wchar "$DPID")
	bytes=$((b1 - b0))
	[ "$bytes" -gt 0 ] || broke "C-l drew nothing"
	c0=$(ticks "$DPID"); i=0
	while [ $i -lt "$NREDRAW" ]; do
		tm send-keys -t rd C-l; sleep 0.01; i=$((i + 1))
	done
	sleep 0.3; settle "$DPID"
	c1=$(ticks "$DPID"); b2=$(wchar "$DPID")
	nd=$(calc "($b2 - $b1) / $bytes" 0)
	[ "$nd" -gt 0 ] || nd=1
	shown=$(tm capture-pane -p -t rd | grep -c ' v[0-9][0-9][0-9][0-9] ')
	tm kill-session -t rd 2>/dev/null
	us=$(calc "($c1 - $c0) * 1e6 / $HZ / $nd" 0)
}
redraw 132 40
row "redraw, $NROWS VMs, 132x40 (C-l)" "$(calc "$us / 1000" 2) ms CPU" "" \
    "$nd redraws, $shown rows, $bytes B each"
redraw 132 $((NROWS + 8))
row "redraw, $NROWS rows on a 132x$((NROWS + 8))" \
    "$(calc "$us / 1000" 2) ms CPU" "" "$nd redraws, $shown rows, $bytes B each"
# The peer: the batch mode prints the 1000-row table once per process.
n=10; t0=$(now_ns); i=0
while [ $i -lt $n ]; do
	alive; "$VMTOP" -S "$SOCK" -f "$CONF" -b -n 1 >/dev/null ||
	    broke "vmtop -b -n 1 failed"
	i=$((i + 1))
done
t1=$(now_ns)
row "vmtop -b -n 1, $NROWS rows (peer)" \
    "$(calc "($t1 - $t0) / 1e6 / $n" 2) ms wall" "" \
    "a whole process: connect, list, print"
note "redraw: the dashboard's CPU over $NREDRAW C-l keys sent by tmux" \
    "send-keys 10 ms apart, divided by the redraws counted from the bytes" \
    "written; the 1000-row screen is a tmux window $((NROWS + 8)) lines high."
stop_engine

# 3. Console: the runner writes FLOOD_MIB MiB (`flood N` typed on its
# console) to the pty; a pty opened here stands for the terminal and is
# drained as fast as it comes. Through `vmtop -c 'console NAME'`, against
# `cat` on the raw pty slave; the best of NFLOOD runs of each.
echo "bench: console, ${FLOOD_MIB} MiB a run"
conf 1
engine
alive; vt "start v0001" >/dev/null || broke "start v0001 failed"
wait_state v0001 running 100 || broke "v0001 is not running"
tty=$(vtj "status v0001" | sed -n 's/.*"tty": *"\([^"]*\)".*/\1/p')
[ -c "$tty" ] || broke "no pty for v0001 ($tty)"
if ! command -v python3 >/dev/null 2>&1; then
	row "console throughput" "skipped" "" "python3 is not installed"
else
cat >"$T/term.py" <<'EOF'
# term.py MODE MIB TTY COMMAND...: run COMMAND on a new pty, type
# "flood MIB" on the VM's console (MODE vmtop: through COMMAND; raw:
# straight to TTY), drain the pty until "flood done"; print bytes and
# seconds from the keystroke to the last byte.
import fcntl, os, select, signal, struct, sys, termios, time, tty
mode, mib, vmtty, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
tty.setraw(slave)
a = termios.tcgetattr(slave)
a[1] |= termios.OPOST | termios.ONLCR
termios.tcsetattr(slave, termios.TCSANOW, a)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in 0, 1, 2:
        os.dup2(slave, fd)
    os.close(master)
    os.execvp(cmd[0], cmd)
os.close(slave)
def read(timeout):
    r, _, _ = select.select([master], [], [], timeout)
    return os.read(master, 1 << 17) if r else b""
ready, tail, deadline = b"", b"", time.time() + 5
if mode == "vmtop":
    while b"detach" not in ready and time.time() < deadline:
        ready = (ready + read(0.1))[-4096:]
else:
    time.sleep(0.3)
while read(0.2):
    pass
key = ("flood %s\r" % mib).encode()
t0 = time.time()
if mode == "vmtop":
    os.write(master, key)
else:
    fd = os.open(vmtty, os.O_WRONLY | os.O_NOCTTY)
    os.write(fd, key)
    os.close(fd)
n, deadline = 0, t0 + 120
while time.time() < deadline:
    b = read(1)
    n += len(b)
    tail = (tail + b)[-64:]
    if b"flood done" in tail:
        break
t1 = time.time()
ok = b"flood done" in tail
if mode == "vmtop":
    os.write(master, b"\x1d")
    for i in range(50):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            break
        read(0.1)
    else:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
else:
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
print(n, "%.6f" % (t1 - t0) if ok else "fail")
EOF
	best_v=0; best_c=0; i=0
	# flood MODE COMMAND...: MiB/s of one run, or nothing.
	flood() {
		alive
		m=$1; shift
		out=$(python3 "$T/term.py" "$m" "$FLOOD_MIB" "$tty" "$@" \
		    2>>"$T/term.log" | tail -n 1) || return 1
		s=${out#* }
		[ "$s" != fail ] && [ -n "$s" ] && [ "$s" != "$out" ] || return 1
		calc "$FLOOD_MIB / $s" 1
	}
	while [ $i -lt "$NFLOOD" ]; do
		v=$(flood vmtop "$VMTOP" -S "$SOCK" -f "$CONF" -c \
		    "console -r 0 v0001") || broke "console through vmtop failed"
		c=$(flood raw cat "$tty") || broke "cat on $tty failed"
		echo "bench: run $((i + 1)): vmtop console $v MiB/s, cat $c MiB/s"
		best_v=$(awk "BEGIN { print ($v > $best_v) ? $v : $best_v }")
		best_c=$(awk "BEGIN { print ($c > $best_c) ? $c : $best_c }")
		i=$((i + 1))
	done
	ratio=$(calc "$best_v / $best_c" 2)
	row "console throughput, vmtop console" "$best_v MiB/s" "" \
	    "cat on the raw pty: $best_c MiB/s"
	row "console throughput, vmtop / cat" "$ratio" \
	    ">= $RATIO_TARGET: $(verdict "$ratio" "$RATIO_TARGET" ge)" \
	    "best of $NFLOOD runs each"
	note "console: the test runner writes $FLOOD_MIB MiB of 64-byte lines" \
	    "to its pty on \`flood $FLOOD_MIB\`; the terminal is a pty opened" \
	    "by python3 and drained at once; timed from the keystroke to" \
	    "\"flood done\"."
fi
alive; vt "stop -a -w" >/dev/null 2>&1
stop_engine

echo
printf '%-40s %-22s %-26s %s\n' FIGURE MEASURED TARGET "FLOOR / PEER"
printf '%s' "$rows"
echo
note "idle: utime+stime of the dashboard ($((d1 - d0)) ticks of 1/$HZ s) over" \
    "$wall s in a 132x40 tmux window; top -d 1 ran beside it as the peer."
printf '%s' "$notes"
exit 0
