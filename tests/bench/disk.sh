#!/bin/sh
# make bench: the disk layer side by side with qemu on the same files.
# Convert of 256 MiB raw -> qcow2 and qcow2 -> raw (vmtop convert against
# qemu-img convert), and 4 KiB sequential and random writes and reads
# through the disk layer (tests/disk/vmtop-diskio) against qemu-img bench
# (sequential, queue depth 1) and qemu-io running the very same requests.
# Each figure is the best of RUNS runs, timed from outside, process start
# to exit (writes end with a flush). The target is qemu's speed or better.
# BENCH_DIR picks the file system (default /tmp). Figures never fail the
# bench: it exits non-zero only when something broke.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
VMTOP="$TOP/vmtop"
DISKIO="$TOP/tests/disk/vmtop-diskio"
RUNS=${RUNS:-3}
SIZE_MIB=256
COUNT=$((SIZE_MIB * 256))	# 4 KiB requests over the whole disk
T=$(mktemp -d "${BENCH_DIR:-/tmp}/vmtop-bench-disk.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

broke() { echo "bench: $*" >&2; exit 1; }
for f in "$VMTOP" "$DISKIO"; do
	[ -x "$f" ] || broke "$f is missing: run \`make bench\`"
done
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
    broke "qemu-img and qemu-io are missing: apt-get install qemu-utils"

now_ns() { date +%s%N; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# best PREP -- COMMAND...: the best time in seconds of RUNS runs of
# COMMAND, each after PREP (not timed); output to $T/out.
best() {
	prep=$1; shift 2
	b=
	i=0
	while [ $i -lt "$RUNS" ]; do
		eval "$prep" || broke "$prep failed"
		sync
		t0=$(now_ns)
		"$@" >"$T/out" 2>&1 || { cat "$T/out" >&2; broke "$* failed"; }
		t1=$(now_ns)
		t=$(calc "($t1 - $t0) / 1e9" 3)
		if [ -z "$b" ] || awk "BEGIN { exit !($t < $b) }"; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

rows=
row() { rows="$rows$(printf '%-30s %-20s %-20s %-20s %s' "$1" "$2" "$3" \
    "$4" "$5")
"; }
# fig SECONDS: "0.123 s (456 MiB/s)" for SIZE_MIB moved.
fig() { echo "$1 s ($(calc "$SIZE_MIB / $1" 0) MiB/s)"; }
# iops SECONDS: requests per second.
iops() { echo "$1 s ($(calc "$COUNT / $1" 0)/s)"; }
verdict() {
	awk "BEGIN { exit !($1 <= $2 * 1.02) }" && echo "target met" ||
	    echo "target missed"
}

echo "bench: disk layer vs qemu $(qemu-img --version | sed -n \
    's/.*version \([0-9.]*\).*/\1/p;q'), $SIZE_MIB MiB, best of $RUNS," \
    "$(nproc) CPUs, $(uname -r)"
head -c "$((SIZE_MIB * 3 / 4))M" /dev/urandom >"$T/src.raw"
yes "vmtop disk bench" | head -c "$((SIZE_MIB / 4))M" >>"$T/src.raw"
qemu-img convert -O qcow2 "$T/src.raw" "$T/full.qcow2" ||
    broke "qemu-img convert failed"

echo "bench: convert"
v=$(best 'rm -f "$T/o.qcow2"' -- "$VMTOP" -c "convert $T/src.raw $T/o.qcow2")
q=$(best 'rm -f "$T/q.qcow2"' -- qemu-img convert -O qcow2 "$T/src.raw" \
    "$T/q.qcow2")
qemu-img compare -q "$T/src.raw" "$T/o.qcow2" ||
    broke "vmtop's qcow2 differs from its source"
row "convert raw -> qcow2" "$(fig "$v")" "$(fig "$q")" "-" "$(verdict "$v" "$q")"
v=$(best 'rm -f "$T/o.raw"' -- "$VMTOP" -c "convert $T/full.qcow2 $T/o.raw")
q=$(best 'rm -f "$T/q.raw"' -- qemu-img convert -O raw "$T/full.qcow2" \
    "$T/q.raw")
cmp -s "$T/src.raw" "$T/o.raw" || broke "vmtop's raw differs from its source"
row "convert qcow2 -> raw" "$(fig "$v")" "$(fig "$q")" "-" "$(verdict "$v" "$q")"

# io MODE IMAGE PREP: one 4 KiB figure, vmtop against qemu.
io() {
	mode=$1; img=$2; prep=$3
	case $mode in *write) w=-w ;; *) w= ;; esac
	"$DISKIO" script "$mode" "$COUNT" $((SIZE_MIB << 20)) >"$T/script" ||
	    broke "vmtop-diskio script failed"
	v=$(best "$prep" -- "$DISKIO" bench "$img" "$mode" "$COUNT")
	qio=$(best "$prep" -- sh -c "qemu-io -t writeback -f qcow2 '$img' \
	    <'$T/script'")
	case $mode in
	seq-*)
		qb=$(best "$prep" -- qemu-img bench $w -t writeback -d 1 \
		    -s 4096 -c "$COUNT" -f qcow2 "$img")
		q=$(awk "BEGIN { print ($qb < $qio) ? $qb : $qio }")
		row "4 KiB $mode" "$(iops "$v")" "$(iops "$qb")" \
		    "$(iops "$qio")" "$(verdict "$v" "$q")" ;;
	*)
		row "4 KiB $mode" "$(iops "$v")" "-" "$(iops "$qio")" \
		    "$(verdict "$v" "$qio")" ;;
	esac
}

echo "bench: 4 KiB requests"
fresh="rm -f '$T/w.qcow2'; qemu-img create -q -f qcow2 '$T/w.qcow2' ${SIZE_MIB}M"
io seq-write "$T/w.qcow2" "$fresh"
io rand-write "$T/w.qcow2" "$fresh"
io seq-read "$T/full.qcow2" :
io rand-read "$T/full.qcow2" :

echo
printf '%-30s %-20s %-20s %-20s %s\n' "figure" "vmtop" "qemu-img" "qemu-io" \
    "target: qemu's speed"
printf '%s' "$rows"
