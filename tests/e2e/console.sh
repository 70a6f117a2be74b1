#!/bin/sh
# The console through a real terminal to a real guest, the way `make run`
# has it: the dashboard in a tmux pane, the demo VM (busybox ash on its
# serial line, which asks the terminal where the cursor is after every
# prompt: the answer comes back as input just after the Enter) started
# with s and attached with c; Enter, then ~. must detach. Where this
# machine's /dev/kvm cannot boot the demo, the dashboard runs in the
# nested-KVM host on the pane's terminal (tests/vmhost/run.sh -i), as
# `make run` does there.
#
# Environment: VMTOP_E2E_HOST=auto|direct|vmhost picks where to run.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$E2E/../.." && pwd)}
export TOP
. "$TOP/tests/lib.sh"
export VMTOP_RUNNER="$TOP/vmtop-vm" VMTOP_KVM=/dev/kvm
# The nested host keeps VMTOP_* and these; the rest of lib.sh's private
# folders come along, so its engine finds no vm.conf and boots the demo.
export VMHOST_ENV="XDG_CONFIG_HOME XDG_STATE_HOME XDG_RUNTIME_DIR"

if ! command -v tmux >/dev/null 2>&1; then
	not_ok "tmux is not installed"
	finish
	exit 1
fi
if ! sh "$TOP/scripts/prepare-demo.sh"; then
	not_ok "prepare the demo VM (scripts/prepare-demo.sh)"
	finish
	exit 1
fi
where=${VMTOP_E2E_HOST:-auto}
[ "$where" = auto ] && where=$(sh "$E2E/kvm-probe.sh" "$TOP/build/demo")
dash="$VMTOP -S $SOCK"
if [ "$where" = vmhost ]; then
	echo "# /dev/kvm here cannot boot the demo VM: the dashboard runs in the nested-KVM host"
	dash="sh $TOP/tests/vmhost/run.sh -i $dash"
fi

unset TMUX
tm() { tmux -S "$T/tmux.sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
screen() { tm capture-pane -p -t vt; }
dump() { screen | grep -v '^ *$' | tail -n 20 | sed 's/^/#   /'; }
# wait_screen PATTERN SECONDS: until the screen shows PATTERN.
wait_screen() {
	i=0
	while [ "$i" -lt "$(($2 * 10))" ]; do
		screen | grep -q -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
# step NAME PATTERN SECONDS: ok once PATTERN shows, else not ok and stop.
step() {
	if wait_screen "$2" "$3"; then ok "$1"; return 0; fi
	not_ok "$1 (no \"$2\" within $3 s)"; dump
	tm kill-server 2>/dev/null
	finish
	exit 1
}
prompts() { screen | grep -c '^vmtop-guest# *$'; }

tm new-session -d -s vt -x 100 -y 30 "$dash; echo vmtop-exit=\$?; sleep 3600"
step "the dashboard lists the demo VM" "demo *stopped" 600
tm send-keys -t vt s
step "s starts it" "demo *running" 600
tm send-keys -t vt c
step "c attaches to its console" "vmtop: console of demo (pts/" 120
step "the guest's shell is up" "^vmtop-guest#" 900
# Enter: a new prompt, and with it the guest's question to the terminal,
# whose answer reaches the console as input before the ~ does.
n=$(prompts)
tm send-keys -t vt Enter
i=0
while [ "$i" -lt 1200 ] && [ "$(prompts)" -le "$n" ]; do
	sleep 0.1; i=$((i + 1))
done
[ "$(prompts)" -gt "$n" ] && ok "Enter reaches the guest" ||
    { not_ok "Enter reaches the guest (no new prompt)"; dump; }
sleep 1	# the terminal's answer is on its way; a later ~. is the same case
tm send-keys -t vt '~.'
if wait_screen "detached from the console of demo" 120; then
	ok "~. after Enter detaches"
else
	not_ok "~. after Enter detaches"; dump
	tm send-keys -t vt C-]
fi
screen | grep -q -- '~\.: not found' &&
    { not_ok "the guest got ~. as a command"; dump; } ||
    ok "the guest did not get ~."
step "back in the dashboard" "^ *ID *NAME" 60
tm send-keys -t vt q
step "q quits" "vmtop-exit=0" 120
# Direct: the engine and the demo VM outlive the dashboard here.
[ "$where" = vmhost ] || "$VMTOP" -S "$SOCK" -c kill-engine >/dev/null 2>&1
tm kill-server 2>/dev/null
finish
