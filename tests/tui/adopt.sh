#!/bin/sh
# Clients across an engine restart, with the test runner for KVM: the VMs
# outlive their engine and the next engine adopts them. A dashboard lists
# the VM running again with the same runner pid after the engine is
# SIGKILLed and a new one started by hand; a `wait` in flight starts the
# next engine on demand and ends once the VM stops there; an attached
# console keeps working and is given back by the next engine;
# kill-engine -k leaves the VM for the next engine, kill-engine stops it.
# Every wait is bounded; runners and engines left over are ended here.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"

touch "$T/kernel"
cat >"$CONF" <<CONF
k = "$T/kernel"
vm "web" { kernel \$k; memory 512M; cmdline "test=run" }
CONF
RUNNERS=
# The engines serving $SOCK, started by hand or on demand.
engines() { pgrep -f -- "vmtop -D( -B)? -S $SOCK( |\$)"; }
cleanup() {
	"$VMTOP" -S "$SOCK" -c kill-engine >/dev/null 2>&1
	for p in $(engines) $RUNNERS; do kill -9 "$p" 2>/dev/null; done
	tm kill-server 2>/dev/null
}
trap cleanup EXIT
# pid NAME: the VM's runner pid as the engine reports it.
pid() { vtj "status $1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }
# wait_dead PID: until the process is gone (bounded).
wait_dead() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}
# wait_engine_gone: until no engine listens on $SOCK (bounded).
wait_engine_gone() {
	i=0
	while [ -n "$(engines)" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(engines)" ]
}
# kill_engines: SIGKILL every engine on $SOCK, as a crash would end it.
kill_engines() {
	for p in $(engines); do kill -9 "$p" 2>/dev/null; done
	ENGINE_PID=
	wait_engine_gone
}

start_engine
check "start web" vt start web
wpid=$(pid web)
RUNNERS="$RUNNERS $wpid"
[ -n "$wpid" ] && [ "$wpid" -gt 0 ] && ok "web has a runner pid ($wpid)" || not_ok "web has no runner pid"

# --- the dashboard across a SIGKILLed engine ----------------------------
dash 132 40
see "the dashboard lists web running" "web *running"
kill_engines
see "the dashboard says the engine went away" "the engine went away"
kill -0 "$wpid" 2>/dev/null && ok "the runner outlives a SIGKILLed engine" ||
    not_ok "the runner died with its engine"
start_engine
see "the dashboard lists web running again" "web *running"
[ "$(pid web)" = "$wpid" ] && ok "the next engine adopted web with the same pid" ||
    not_ok "web's pid is $(pid web), not $wpid"
check_out "status --json says adopted" '"adopted": *true' vtj status web
check_out "show says adopted" "flags:.*adopted" vt show web
keys / C-u web Enter
wait_screen "filter: web" 20
keys Enter
see "the details pane says adopted" "flags:.*adopted"
keys q
keys q
see "the dashboard quits" "vmtop-exit=0"

# --- a wait in flight across an engine restart --------------------------
[ "$(state web)" = running ] || vt start web >/dev/null 2>&1
wpid=$(pid web)
RUNNERS="$RUNNERS $wpid"
"$VMTOP" -S "$SOCK" -f "$CONF" -c "wait web" >"$T/wait.out" 2>&1 &
waiter=$!
# the wait is with the engine once the engine counts a waiter; a few
# tenths of a second let it be sent (sent later, it still succeeds)
sleep 0.5
kill_engines
# the waiter asks again, starting an engine on demand, which adopts web
i=0
while [ -z "$(engines)" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$(engines)" ] && ok "the waiting client started the next engine" ||
    not_ok "no engine came back"
check_out "web runs under the next engine" running vt status web
kill -0 "$waiter" 2>/dev/null && ok "the wait goes on with the next engine" ||
    not_ok "the wait ended: $(cat "$T/wait.out")"
check "stop web -w" vt stop web -w
i=0
while kill -0 "$waiter" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if wait "$waiter"; then ok "the wait in flight across a restart completes"
else not_ok "the wait failed: $(cat "$T/wait.out")"; fi
wait_dead "$wpid" && ok "web's runner ended when web stopped" || not_ok "web's runner is still there"

# --- a console across an engine restart ---------------------------------
kill_engines
start_engine
check "start web for the console" vt start web
wpid=$(pid web)
RUNNERS="$RUNNERS $wpid"
run 132 40 "$VMTOP -S $SOCK -f $CONF -c 'console -r 0 web'"
see "the console is attached" "vmtop: console of web"
keys "hello" Enter
see "the guest answers on the console" "got: hello"
kill_engines
see "the console says the engine went away" "the engine went away; the console of web goes on"
keys "away" Enter
see "the console works while no engine runs" "got: away"
start_engine
see "the console is held again from the next engine" "vmtop: console of web ("
keys "again" Enter
see "the console works with the next engine" "got: again"
check_fail "another client cannot take it without -f" \
    "the console of web is attached by pid" \
    sh -c "$VMTOP -S $SOCK -c 'console web' </dev/null"
keys "~."
see "the console detaches" "vmtop-exit=0"
[ "$(pid web)" = "$wpid" ] && ok "web kept its runner through the console's restart" ||
    not_ok "web's pid is $(pid web), not $wpid"

# --- kill-engine -k and kill-engine -------------------------------------
check "kill-engine -k" vt kill-engine -k
wait_engine_gone && ok "kill-engine -k ends the engine" || not_ok "the engine is still there"
kill -0 "$wpid" 2>/dev/null && ok "kill-engine -k leaves web's runner running" ||
    not_ok "kill-engine -k ended web's runner"
check_out "the next engine (on demand) lists web running" "web *running" vt status web
[ "$(pid web)" = "$wpid" ] && ok "with the same pid" || not_ok "web's pid is $(pid web), not $wpid"
check "kill-engine --keep" vt kill-engine --keep
wait_engine_gone && ok "kill-engine --keep ends the engine" || not_ok "the engine is still there"
kill -0 "$wpid" 2>/dev/null && ok "kill-engine --keep leaves web's runner running" ||
    not_ok "kill-engine --keep ended web's runner"
check_out "adopted once more" running vt status web
check "kill-engine" vt kill-engine
wait_dead "$wpid" && ok "kill-engine stops web" || not_ok "kill-engine left web's runner running"
ENGINE_PID=
finish
