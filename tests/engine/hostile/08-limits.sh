# 8 (limits): a user other than root may run only so much memory and so
# many vCPUs in all, and define only so many ad hoc VMs; a start past a
# limit is refused with a sentence naming the VM, the user, the limit and
# what is in use. An ad hoc VM that fails to start is not kept, so failed
# starts leave nothing behind.

who08=$(id -nu $HOSTILE_UID)
# ad08 NAME OPTIONS...: an ad hoc start as the second uid.
ad08() { n=$1; shift; hv "start $n -k $T/kernel -a test=run $*"; }
# gone08 NAME: root's status lists no VM called NAME.
gone08() { ! vt status | grep -q " $1 "; }
# until08 COMMAND...: poll until it succeeds, for up to a minute.
until08() {
	i=0
	until "$@"; do
		i=$((i + 1)); [ $i -lt 600 ] || return 1
		sleep 0.1
	done
}

# adhoc08: how many ad hoc VMs the second uid has defined.
adhoc08() {
	vtj status | grep -o "\"uid\":$HOSTILE_UID,[^}]*\"adhoc\":true" |
	    wc -l
}

# From a clean slate: none of the second uid's VMs is running.
check "08: the second uid's vms are stopped" hv "stop -a -w"
n08=$(adhoc08)

# The default limit, 16G.
check_fail "08: 64G is over the default memory limit" \
    "vm big08: memory 64G would exceed user $who08's limit of 16G (0B in use)" \
    ad08 big08 -m 64G
check "08: and the refused vm is not kept" gone08 big08

# Smaller limits, read on reload.
cp "$CONF" "$T/conf08"
printf 'limit user memory 1G\nlimit user vcpus 2\nlimit user adhoc %d\n' \
    $((n08 + 3)) >>"$CONF"
check "08: reload with limits" vt reload
check "08: nobodys starts (512M, 1 vcpu)" hv start nobodys
check_fail "08: memory past what is left is refused" \
    "vm m08: memory 600M would exceed user $who08's limit of 1G (512M in use)" \
    ad08 m08 -m 600M
check_fail "08: vcpus past what is left are refused" \
    "vm c08: 2 vcpus would exceed user $who08's limit of 2 (1 in use)" \
    ad08 c08 -m 1M -p 2
check_fail "08: so is a configured vm started with more" \
    "vm nobodys: memory 2G would exceed user $who08's limit of 1G (0B in use)" \
    sh -c "$VMTOP -S $SOCK -c 'stop -w nobodys' >/dev/null &&
        setpriv --reuid=$HOSTILE_UID --regid=$HOSTILE_GID --clear-groups \
        $VMTOP -S $SOCK -c 'start nobodys -m 2G'"
check "08: nobodys starts again" hv start nobodys
check "08: within the limits, an ad hoc vm starts" ad08 ok08 -m 256M -p 1
check_out "08: and runs" running vt status ok08
check "08: root is not bound by them" \
    vt "start root08 -k $T/kernel -a test=run -m 4G -p 8"
check "08: stop them" vt "stop -w ok08; stop -w root08; stop -w nobodys"

# 200 failed ad hoc starts: each says why, none is kept.
before08=$(vt status | wc -l)
fail08=0
bad08=
for i in $(seq 200); do
	if out=$(hv "start f08-$i -k /nonexistent/kernel -a test=run -m 1M" 2>&1)
	then
		bad08="f08-$i started"
	elif printf '%s\n' "$out" | grep -q "vm f08-$i: .*kernel"; then
		fail08=$((fail08 + 1))
	else
		bad08="f08-$i: $out"
	fi
done
check "08: 200 failed ad hoc starts fail on their kernel ($fail08; $bad08)" \
    test "$fail08" -eq 200
check "08: and leave no vm behind" gone08 f08-200
check_out "08: status is as long as before" "^$before08$" \
    sh -c "$VMTOP -S $SOCK -c status | wc -l"

# Failing later, in the runner, drops it as well.
check_fail "08: an ad hoc vm whose runner fails" "asked for an error" \
    hv "start e08 -k $T/kernel -a test=error -m 1M"
check "08: is not kept" gone08 e08
check "08: one that crashes once running" \
    hv "start x08 -k $T/kernel -a test=crash -m 1M"
check "08: when it has crashed, it is not kept" until08 gone08 x08

# Ad hoc VMs defined: ok08 and two more make 3 more than before, the
# limit.
check "08: a second ad hoc vm" ad08 a08-2 -m 1M
check "08: a third" ad08 a08-3 -m 1M
check "08: stopped, they stay" hv "stop -w a08-2; stop -w a08-3"
check_fail "08: a fourth is refused" \
    "vm a08-4: user $who08 already has $((n08 + 3)) ad hoc vms, the limit" \
    ad08 a08-4 -m 1M
check "08: one of its own starts again" hv "start ok08"
check "08: and stops" hv "stop -w ok08"

cp "$T/conf08" "$CONF"
check "08: reload without the limits" vt reload
root_answers "08"
