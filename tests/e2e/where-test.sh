#!/bin/sh
# Tests of tests/e2e/where.sh without QEMU: a stand-in tests/vmhost/run.sh
# under a scratch TOP dies as a panicking host does (status 125, no
# summary) as often as it is told, then runs the suite.
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/../lib.sh"
S=$(mktemp -d) || exit 1
trap 'rm -rf "$S"' EXIT
mkdir -p "$S/tests/vmhost"
cat >"$S/tests/vmhost/run.sh" <<'EOF'
n=$(($(cat "$TOP/hosts") + 1)); echo "$n" >"$TOP/hosts"
[ "$n" -le "$(cat "$TOP/deaths")" ] && { echo "vmhost: console: Kernel panic"; exit 125; }
shift 2; exec "$@"
EOF
printf 'echo "ok - inner"; echo "1 passed, 0 failed"; exit 0\n' >"$S/pass.sh"
printf 'echo "not ok - inner"; echo "0 passed, 1 failed"; exit 1\n' >"$S/fail.sh"

# where DEATHS SCRIPT [TRIES]: where.sh's output, with its status and the
# number of hosts it booted in $S/rc and $S/hosts.
where() {
	echo "$1" >"$S/deaths"; echo 0 >"$S/hosts"
	(export TOP=$S VMTOP_E2E_HOST=vmhost VMTOP_E2E_TRIES=${3:-}
	 . "$E2E/where.sh"; e2e_where "$S/$2") >"$S/out" 2>&1
	echo $? >"$S/rc"
}

where 0 pass.sh
check "a live host runs the suite once" \
    [ "$(cat "$S/rc") $(cat "$S/hosts")" = "0 1" ]
where 2 pass.sh
check "two dead hosts in a row, then the suite passes on the third" \
    [ "$(cat "$S/rc") $(cat "$S/hosts")" = "0 3" ]
check "each dead host is said" [ "$(grep -c 'host itself failed' "$S/out")" = 2 ]
where 5 pass.sh
check "five dead hosts: the suite fails with the host's status" \
    [ "$(cat "$S/rc") $(cat "$S/hosts")" = "125 5" ]
check "and says the host ended early" \
    grep -q '^not ok - the nested-KVM host ended early (status 125)' "$S/out"
where 1 pass.sh 1
check "VMTOP_E2E_TRIES=1 boots one host only" \
    [ "$(cat "$S/rc") $(cat "$S/hosts")" = "125 1" ]
where 0 fail.sh
check "the suite's own failure is never retried" \
    [ "$(cat "$S/rc") $(cat "$S/hosts")" = "1 1" ]
finish
