#!/bin/sh
# Dashboard and console tests, in the manner of tmux's regress/: the real
# vmtop in a detached tmux session on a private tmux socket, keys sent
# with send-keys, the screen read with capture-pane. A private engine with
# the test runner stands in for KVM; the test runner answers each line
# typed on its console with "got: LINE". Every wait is bounded; nothing
# depends on how long something takes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"

touch "$T/kernel"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "web" { kernel \$k; memory 512M; vcpus 2; cmdline "test=run" }
vm "db" { kernel \$k; memory 2G; cmdline "test=run" }
vm "cache" { kernel \$k; memory 1G; cmdline "test=run" }
vm "broken" { kernel \$k; cmdline "test=error" }
vm "idle" { kernel \$k; memory 256M; cmdline "test=run" }
CONF

# row N: the Nth line of the table (after the titles).
row() { screen | sed -n "$((3 + $1))p"; }
# first_row_is NAME VM: wait until the first row is VM's.
first_row_is() {
	i=0
	while [ "$i" -lt 50 ]; do
		row 1 | grep -q " $2 " && { ok "$1"; return; }
		sleep 0.1; i=$((i + 1))
	done
	not_ok "$1 (first row: $(row 1))"; dump
}
# select VM: move the selection onto VM with the filter, then clear it.
select_vm() {
	keys / C-u "$1" Enter
	wait_screen "filter: $1" 20
	keys / C-u Enter
	wait_gone "filter: $1"
}

start_engine
vt "start web; start db; start cache" >/dev/null
vt "start broken" >/dev/null 2>&1

# --- the table at 132x40 ------------------------------------------------
dash 132 40
see "header has the CPU meter" "^CPU\["
see "header has the memory meter" "Mem\[.*/"
see "header counts the VMs by state" "VMs: 5, 1 stopped, 3 running, 1 failed"
see "header shows the engine's uptime" "engine: up [0-9]*s, pid $ENGINE_PID"
see "every column at 132x40" \
    "^ *ID *NAME *STATE *VCPUS *CPU% *MEM *DISK R/W *NET RX/TX *UPTIME *OWNER *TTY"
see "web's row" "web *running *2 *[0-9.]* *512M *[0-9.KMG]*/[0-9.KMG]* .*pts/"
see "db's row" "db *running *1 .* 2G "
see "failed VM in the table" "broken *failed"
see "stopped VM without rates" "idle *stopped *1 *- *256M *- *- *-"
see "CPU% from the runner's cpu_ns" "web *running *2 *0\.1 "
see "the hints on the message line" "q quit  ? help"
screen_e | grep -q "32m.*running" && ok "running VMs in colour" ||
    { not_ok "running VMs in colour"; screen_e | cat -v | sed 's/^/#   /'; }

# --- sorting --------------------------------------------------------------
first_row_is "sorted by id at first" web
keys N
first_row_is "N sorts by name" broken
see "the sort is named" "sorted by name"
keys R
first_row_is "R reverses" web
keys R M
first_row_is "M sorts by memory, largest first" db
keys '<'
see "< moves the sort column left" "sorted by cpu"
keys '>' '>'
see "> moves the sort column right" "sorted by disk"
keys P
see "P sorts by CPU%" "sorted by cpu"
i=0; while [ $i -lt 50 ] && row 4 | grep -q running; do sleep 0.1; i=$((i + 1)); done
row 4 | grep -q -e broken -e idle && ok "VMs without a runner sort last by CPU%" ||
    { not_ok "VMs without a runner sort last by CPU%"; dump; }
keys N

# --- filter -----------------------------------------------------------------
keys /
see "/ opens the filter line" "^Filter:"
keys w e
see "the filter applies as it is typed" "Filter: we"
see "web matches" " web "
unseen "db is filtered out" " db "
keys Escape
see "Escape gives back the old filter" " db "
keys / C-u r u n n Enter
see "a filter on the state" "filter: runn"
unseen "stopped VMs filtered out" " idle "
keys / C-u Enter
see "an empty filter shows every VM" " idle "

# --- help ---------------------------------------------------------------------
keys '?'
see "? shows the key bindings" "force stop the VM (asks)"
see "help lists X" "^X  .*confirm-before"
see "help lists the arrows" "^Down .*cursor down"
keys q
see "q closes the help" "ID *NAME"

# --- details pane ---------------------------------------------------------------
select_vm db
keys Enter
see "Enter shows the details" "^name: db"
see "details from the show request" "^memory: 2G"
see "details have the tty" "^tty: /dev/pts/"
keys Escape
see "Escape closes the details" "ID *NAME"
keys i
see "i shows the details too" "^name: db"
keys q

# --- actions and their errors --------------------------------------------------
keys s
see "an error goes to the message line" "vm db is already running"
see "the table stays after an error" "ID *NAME"
keys Z
see "an unbound key says so" "Z is not bound"
select_vm idle
keys s
check "s starts the selected VM" wait_state idle running
keys p
check "p pauses it" wait_state idle paused
see "the table shows it paused" "idle *paused"
keys p
check "p again unpauses it" wait_state idle running
keys x
check "x stops it (power button)" wait_state idle stopped

# --- force stop asks first ---------------------------------------------------------
select_vm cache
keys X
see "X asks before a force stop" "Force stop cache, losing what it has not saved? (y/n)"
keys n
see "any key but y cancels" "cancelled"
check_out "cache still running after n" running vt status cache
keys F9
see "F9 asks too" "Force stop cache"
keys y
check "y force stops it" wait_state cache stopped
keys s
check "and s starts it again" wait_state cache running
keys r
see "r restarts a VM: stop, then start once stopped" "restarted cache"
check "the restarted VM runs" wait_state cache running

# --- the prompt: bind changes the help, completion, history ----------------------------
keys :
see ": opens the prompt" "^:"
keys 'bind z show %%' Enter
wait_gone "^:bind"
keys '?'
see "the help follows the live bindings" "^z  .*show %%"
keys q :
keys 'unbind z' Enter
keys '?'
wait_screen "force stop" 20
unseen "unbind removes it from the help" "^z  .*show"
keys q
wait_gone "force stop"
keys :
keys s t a t Tab
see "Tab completes a command name" "^:status$"
keys Enter
see "the prompt runs the command; output in a pane" "reason: vm broken"
keys q :
keys 's' 'h' 'o' Tab 'c' 'a' Tab
see "Tab completes a VM name" "^:show cache$"
keys Enter
see "completed command ran" "^name: cache"
keys q :
keys Up
see "Up recalls the history" "^:show cache"
keys C-c
wait_gone "^:show"
keys : 'stop nosuch' Enter
see "a prompt command's error goes to the message line" "vm nosuch: no such vm"

# --- resize ------------------------------------------------------------------------
tm resize-window -t vt -x 60 -y 15
see "a resize redraws at once" "^ID *NAME *STATE *VCPUS *CPU% *MEM *NET RX/TX *UPTIME$"
unseen "narrow: TTY dropped" "TTY"
unseen "narrow: OWNER dropped" "OWNER"
unseen "narrow: DISK dropped" "DISK"
tm resize-window -t vt -x 40 -y 15
see "narrower: more columns dropped" "^ID *NAME *STATE *CPU% *MEM *UPTIME$"
tm resize-window -t vt -x 132 -y 40
see "wide again" "NET RX/TX"

# --- quitting leaves the engine -------------------------------------------------------
keys q
see "q quits" "vmtop-exit=0"
see "the terminal is back in canonical mode" "^icanon$"
check_out "the engine still runs its VMs" "web *running" vt status web
kill -0 "$ENGINE_PID" 2>/dev/null && ok "the engine process is alive" ||
    not_ok "the engine process is alive"
[ -f "$VMTOP_STATE_DIR/history" ] && grep -q "show.*cache" "$VMTOP_STATE_DIR/history" &&
    ok "the history is saved in the state folder" ||
    not_ok "the history is saved in the state folder"
dash 132 40
keys : Up
see "the history is kept across runs" "^:stop nosuch"
keys C-c q
see "quit again" "vmtop-exit=0"

# --- 60x15 from the start -----------------------------------------------------------------
dash 60 15
see "60x15: the columns that fit" "^ID *NAME *STATE *VCPUS *CPU% *MEM *NET RX/TX *UPTIME$"
see "60x15: rows" "web *running *2 *0\.1 *512M *0/0 "
see "60x15: the header" "VMs: 5"
keys q
see "quit at 60x15" "vmtop-exit=0"

# --- scrolling: 4 rows for 5 VMs ------------------------------------------------------
dash 80 8
see "a short screen shows the first rows" " web "
unseen "the last VM is below" " idle "
keys End
see "End scrolls to the last VM" " idle "
unseen "and the first goes off the top" " web "
keys Home
see "Home scrolls back" " web "
keys PageDown Enter
see "PageDown moves a page" "^name: idle"
keys q
wait_gone "^name: idle"
keys q
see "quit the short screen" "vmtop-exit=0"

# --- colours ---------------------------------------------------------------------
dash 132 40 -C
screen_e | grep -q "\[3[0-7]m" && { not_ok "-C: no colours"; } || ok "-C: no colours"
keys q
run 132 40 "NO_COLOR=1 $VMTOP -S $SOCK -f $CONF"
wait_screen "engine: up"
screen_e | grep -q "\[3[0-7]m" && { not_ok "NO_COLOR: no colours"; } || ok "NO_COLOR: no colours"
keys q

# --- keymaps ------------------------------------------------------------------------------
dash 132 40 -k vi
keys g j l
see "vi keys: g j l shows the second VM" "^name: db"
keys q q
dash 132 40 -k emacs
keys M-'<' C-n C-n Enter
see "emacs keys: M-< C-n C-n" "^name: cache"
keys q
wait_gone "^name: cache"
keys C-x
see "emacs C-x quits" "vmtop-exit=0"
mkdir -p "$XDG_CONFIG_HOME/vmtop"
printf 'bind y show %%%%\nunbind q\nbind Q quit\n' >"$XDG_CONFIG_HOME/vmtop/keys"
dash 132 40
keys y
see "the user's keys file adds bindings" "^name: web"
keys Escape
wait_gone "^name: web"
keys q
see "it removes them" "q is not bound"
keys Q
see "and replaces them" "vmtop-exit=0"
printf 'bind\nbind Q quit\nstart web\n' >"$XDG_CONFIG_HOME/vmtop/keys"
dash 132 40
see "errors in the keys file on the message line" "keys:1: usage: bind"
keys Q
rm "$XDG_CONFIG_HOME/vmtop/keys"
check_fail "an unknown keymap" "no keymap nosuch" "$VMTOP" -k nosuch -c list-keys
check_out "list-keys gives bind commands" "^bind -N 'start the VM' s start %%" \
    "$VMTOP" -c list-keys

# --- the console from the dashboard ---------------------------------------------------------
dash 100 30
keys c
see "c attaches to the console" "vmtop: console of web (pts/"
see "output from before anyone attached is replayed" "web: booted with 2 vcpus"
keys 'hello web' Enter
see "typed lines reach the guest and its answer comes back" "got: hello web"
keys C-]
see "Ctrl-] goes back to the dashboard" "detached from the console of web"
see "with the table" "ID *NAME"
select_vm idle
keys c
see "a stopped VM has no console: a message" "vm idle is stopped: it has no console"
see "and the dashboard stays" "ID *NAME"
keys q
see "quit after the console" "vmtop-exit=0"

# --- the console from a shell ------------------------------------------------------------------
run 100 30 "$VMTOP -S $SOCK -c 'console web'"
see "console web replays" "got: hello web"
see "a status line" "detach: ~. or Ctrl-]"
keys 'from the shell' Enter
see "live both ways" "got: from the shell"
keys '~?'
see "~? lists the escapes" "~. detach, ~? this help"
keys Enter '~.'
see "~. after a newline detaches" "detached from the console of web"
see "exit status 0" "vmtop-exit=0"
see "terminal modes restored" "^icanon$"
run 100 30 "$VMTOP -S $SOCK -c 'console -r 1 web'"
see "-r 1 replays one line" "got: from the shell"
unseen "and no more" "got: hello web"
keys C-]
see "Ctrl-] detaches" "vmtop-exit=0"

# exclusive, and -f takes over with a notice to both
run 100 30 "$VMTOP -S $SOCK -c 'console web'"
see "first attach" "vmtop: console of web"
tm new-window -d -t vt -n other "$VMTOP -S $SOCK -c 'console web'; echo second-exit=\$?; sleep 3600"
i=0; while [ $i -lt 50 ] && ! tm capture-pane -p -t vt:other | grep -q "second-exit"; do sleep 0.1; i=$((i + 1)); done
tm capture-pane -p -t vt:other | grep -q "attached by pid" && ok "a second attach is refused, naming the pid" ||
    { not_ok "a second attach is refused, naming the pid"; tm capture-pane -p -t vt:other | sed 's/^/#   /'; }
tm kill-window -t vt:other
tm new-window -d -t vt -n other "$VMTOP -S $SOCK -c 'console -f web'; echo second-exit=\$?; sleep 3600"
see "the first attacher is told of the takeover" "taken over by pid"
see "and its terminal restored" "^icanon$"
i=0; while [ $i -lt 50 ] && ! tm capture-pane -p -t vt:other | grep -q "took the console of web over"; do sleep 0.1; i=$((i + 1)); done
tm capture-pane -p -t vt:other | grep -q "took the console of web over from pid" && ok "-f takes over, saying from whom" ||
    { not_ok "-f takes over, saying from whom"; tm capture-pane -p -t vt:other | sed 's/^/#   /'; }
tm send-keys -t vt:other C-]
tm kill-window -t vt:other

# SIGTERM, and a killed engine: the terminal is restored
run 100 30 "$VMTOP -S $SOCK -c 'console web'"
see "attached again" "vmtop: console of web"
signal_client TERM
see "SIGTERM detaches" "vmtop-exit="
see "and restores the terminal" "^icanon$"
run 100 30 "$VMTOP -S $SOCK -c 'console web'"
see "attached once more" "vmtop: console of web"
signal_client HUP
see "SIGHUP detaches" "vmtop-exit="
see "and restores the terminal too" "^icanon$"
run 100 30 "$VMTOP -S $SOCK -c 'console db'"
see "attached to db" "vmtop: console of db"
stop_engine
see "a killed engine ends the console" "lost the engine"
see "with an error status" "vmtop-exit=1"
see "and the terminal restored" "^icanon$"

# --- the dashboard without its engine ----------------------------------------------------------
start_engine
vt "start web" >/dev/null
dash 132 40
see "dashboard on the new engine" "web *running"
stop_engine
see "a lost engine is a message, not a crash" "the engine went away"
keys q
see "q still quits" "vmtop-exit=0"

# --- batch output ------------------------------------------------------------------------
start_engine
vt "start web; start db" >/dev/null
out=$("$VMTOP" -S "$SOCK" -b -n 2 -d 0.2 2>&1)
[ "$(printf '%s\n' "$out" | grep -c '^vmtop - ')" -eq 2 ] && ok "-b -n 2 prints two tables" ||
    { not_ok "-b -n 2 prints two tables"; printf '%s\n' "$out" | sed 's/^/#   /'; }
printf '%s\n' "$out" | grep -q "^ *ID NAME *STATE *VCPUS *CPU% *MEM *DISK R/W *NET RX/TX *UPTIME *OWNER *TTY" &&
    ok "-b has every column" || { not_ok "-b has every column"; printf '%s\n' "$out" | sed 's/^/#   /'; }
printf '%s\n' "$out" | grep -q " web *running" && ok "-b lists the VMs" || not_ok "-b lists the VMs"
out=$("$VMTOP" -S "$SOCK" -b -j -n 2 -d 0.2 2>&1)
[ "$(printf '%s\n' "$out" | grep -c '"cpu_percent":')" -eq 10 ] && ok "-b -j: a JSON line per VM per table" ||
    { not_ok "-b -j: a JSON line per VM per table"; printf '%s\n' "$out" | sed 's/^/#   /'; }
if command -v python3 >/dev/null 2>&1; then
	printf '%s\n' "$out" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' &&
	    ok "-b -j lines are JSON" || not_ok "-b -j lines are JSON"
fi
check_fail "-b needs a number after -n" "not a number" "$VMTOP" -S "$SOCK" -b -n x
check_fail "the dashboard needs a terminal" "needs a terminal" sh -c "$VMTOP -S $SOCK </dev/null"

# --- commands that wait leave the dashboard live -------------------------------------------
# selected: the name on the highlighted row of the table, where text is
# drawn in reverse video (tmux sends an attribute only where it changes).
selected() {
	screen_e | awk -v e="$(printf '\033')" '
	function text(t) { if (rev && t ~ /[^ ]/) hit = 1; out = out t }
	{
		hit = 0; out = ""; s = $0
		while ((i = index(s, e "[")) > 0) {
			text(substr(s, 1, i - 1))
			s = substr(s, i + 2); j = index(s, "m")
			n = split(substr(s, 1, j - 1), c, ";")
			if (n == 0) rev = 0
			for (k = 1; k <= n; k++) {
				if (c[k] == "" || c[k] == 0 || c[k] == 27) rev = 0
				else if (c[k] == 7) rev = 1
			}
			s = substr(s, j + 1)
		}
		text(s)
		if (hit && out !~ /NAME/) { split(out, f, " "); print f[2] }
	}'
}
# wait_selected NAME VM: until the highlighted row is VM's.
wait_selected() {
	i=0
	while [ "$i" -lt 50 ]; do
		[ "$(selected)" = "$2" ] && { ok "$1"; return; }
		sleep 0.1; i=$((i + 1))
	done
	not_ok "$1 (selected: $(selected))"; dump
}
# wait_redraw NAME: until the engine's uptime in the header changes.
wait_redraw() {
	before=$(screen | grep -o "engine: up [0-9]*s")
	i=0
	while [ "$i" -lt 50 ]; do
		now=$(screen | grep -o "engine: up [0-9]*s")
		[ -n "$now" ] && [ "$now" != "$before" ] && { ok "$1"; return; }
		sleep 0.1; i=$((i + 1))
	done
	not_ok "$1 (still \"$before\")"; dump
}
dash 132 40
see "web runs before the wait" "web *running"
keys Home
wait_selected "the cursor starts on web" web
keys : 'wait web' Enter
see "the status line counts the waiting command" "1 waiting, sort:"
keys Down
wait_selected "the cursor moves while wait web waits" db
wait_redraw "the screen is redrawn while wait web waits"
see "wait web still waits" "1 waiting"
keys Enter
see "another command runs meanwhile" "^name: db"
keys Escape
wait_gone "^name: db"
keys : 'stop web' Enter
see "the wait's result when it ends" "web has stopped"
wait_gone "1 waiting" && ok "nothing waits any more" || { not_ok "nothing waits any more"; dump; }
check_out "the engine says web stopped" stopped vt status web
keys q
see "quit after the wait" "vmtop-exit=0"

# stop -w on a guest that ignores the power button
vt "start slow -k $T/kernel -a test=noshutdown" >/dev/null
dash 132 40
see "the slow guest runs" "slow *running"
keys Home
wait_selected "the cursor on the first row" web
keys : 'stop slow -w' Enter
see "stop -w waits" "1 waiting"
keys Down
wait_selected "the cursor moves while stop -w waits" db
wait_redraw "the screen is redrawn while stop -w waits"
check_out "slow is still stopping" stopping vt status slow
keys : 'stop slow -f' Enter
see "stop -w ends once the VM has stopped" "slow stopped"
wait_gone "waiting" && ok "stop -w is done" || { not_ok "stop -w is done"; dump; }
keys q
see "quit after stop -w" "vmtop-exit=0"

# --- replies that break the protocol, from a fake engine ------------------------------------
FAKE="$TOP/tests/runner/vmtop-fakeengine"
"$FAKE" "$T/short-hello.sock" shorthello & fake1=$!
"$FAKE" "$T/short-reply.sock" shortreply & fake2=$!
i=0; while [ $i -lt 50 ] && ! { [ -S "$T/short-hello.sock" ] && [ -S "$T/short-reply.sock" ]; }; do sleep 0.1; i=$((i + 1)); done
check_fail "a short hello is named" \
    "malformed reply from the engine: hello message of 3 bytes (expected 8)" \
    "$VMTOP" -S "$T/short-hello.sock" -c list
check_fail "a short reply to a wait is named" \
    "malformed reply from the engine: ok message of 3 bytes (expected 0)" \
    "$VMTOP" -S "$T/short-reply.sock" -c 'wait web'
for c in status 'show web'; do
	check_fail "a short vm info to $c is named" \
	    "malformed reply from the engine: vm info message of 3 bytes (expected" \
	    "$VMTOP" -S "$T/short-reply.sock" -c "$c"
done
check_fail "a short update in -b output is named" \
    "malformed reply from the engine: vm info message of 3 bytes (expected" \
    "$VMTOP" -S "$T/short-reply.sock" -b -n 1
run 132 40 "$VMTOP -S $T/short-reply.sock"
see "a short update is named on the message line" \
    "malformed update from the engine: vm info message of 3 bytes (expected"
keys : 'wait web' Enter
see "a short reply to a waiting command is named" \
    "malformed reply from the engine: ok message of 3 bytes (expected 0)"
keys q
see "quit after the fake engine" "vmtop-exit=0"
kill "$fake1" "$fake2"

tm kill-server 2>/dev/null
finish
