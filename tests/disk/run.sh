#!/bin/sh
# qcow2 interop with the real peer, both ways. Images made by qemu-img and
# qemu-io (v2 and v3; 4 KiB, 64 KiB and 2 MiB clusters; data, zero
# clusters, discarded ranges, compressed clusters, three-deep chains) must
# read through vmtop's disk layer exactly as `qemu-img convert -O raw`
# reads them; images vmtop makes or writes must pass `qemu-img check` and
# `qemu-img compare` against their raw source; and a writer killed with
# SIGKILL in the middle of its writes must leave an image that
# `qemu-img check` does not call corrupt (leaked clusters are allowed).
. "$(dirname "$0")/../lib.sh"
DISKIO="$TOP/tests/disk/vmtop-diskio"
D="$T/disk"
mkdir -p "$D"
trap finish EXIT

for f in "$VMTOP" "$DISKIO"; do
	[ -x "$f" ] || { echo "$f is missing: run make" >&2; exit 1; }
done
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	echo "qemu-img and qemu-io are missing: apt-get install qemu-utils" >&2
	exit 1
fi

# qio IMAGE COMMAND...: qemu-io commands on an image, quietly.
qio() {
	img=$1; shift
	args=
	for c in "$@"; do args="$args -c '$c'"; done
	eval qemu-io -f qcow2 $args '"$img"' >/dev/null
}

# same_as_qemu NAME IMAGE: vmtop reads IMAGE as qemu-img does.
same_as_qemu() {
	rm -f "$D/ref.raw" "$D/out.raw"
	if ! qemu-img convert -O raw "$2" "$D/ref.raw"; then
		not_ok "$1 (qemu-img convert failed)"; return
	fi
	if ! out=$("$DISKIO" dump "$2" "$D/out.raw" 2>&1); then
		not_ok "$1"; printf '%s\n' "$out" | sed 's/^/#   /'; return
	fi
	if cmp -s "$D/ref.raw" "$D/out.raw"; then ok "$1"; else
		not_ok "$1 ($(cmp "$D/ref.raw" "$D/out.raw" 2>&1 | head -1))"
	fi
}

# qemu_clean NAME IMAGE [RAW]: qemu-img check finds nothing, and the image
# reads like RAW.
qemu_clean() {
	if ! out=$(qemu-img check "$2" 2>&1); then
		not_ok "$1 (qemu-img check)"
		printf '%s\n' "$out" | sed 's/^/#   /'; return
	fi
	if [ -n "${3:-}" ] && ! out=$(qemu-img compare -F raw "$2" "$3" 2>&1)
	then
		not_ok "$1 (qemu-img compare)"
		printf '%s\n' "$out" | sed 's/^/#   /'; return
	fi
	ok "$1"
}

# A raw source with random data, zeros, text and a tail that is not
# cluster-aligned.
head -c 3M /dev/urandom >"$D/src.raw"
dd if=/dev/zero bs=1M count=2 2>/dev/null >>"$D/src.raw"
yes "qcow2 interop" | head -c 3000000 >>"$D/src.raw"
truncate -s 9000448 "$D/src.raw"

# --- qemu-img writes, vmtop reads ---------------------------------------
for compat in 0.10 1.1; do
	for cs in 4k 64k 2M; do
		img="$D/q-$compat-$cs.qcow2"
		qemu-img create -q -f qcow2 -o compat=$compat,cluster_size=$cs \
		    "$img" 40M
		qio "$img" "write -P 0x11 0 1M" "write -P 0x22 3M 5000" \
		    "write -P 0x33 7777 77777" "write -z 512k 256k" \
		    "discard 5M 1M" "write -P 0x44 20M 8M" "discard 22M 2M" \
		    "write -z 26M 1M" "write -P 0x55 39M 1M"
		same_as_qemu "qemu v$compat $cs: data, zeros, discards" "$img"
		qemu-img convert -q -c -O qcow2 \
		    -o compat=$compat,cluster_size=$cs "$D/src.raw" \
		    "$D/z-$compat-$cs.qcow2"
		same_as_qemu "qemu v$compat $cs: compressed clusters" \
		    "$D/z-$compat-$cs.qcow2"
	done
done

# Three-deep chains: a raw or qcow2 base, a middle and a top layer.
for basefmt in raw qcow2; do
	b="$D/chain-base.$basefmt"
	rm -f "$b"
	qemu-img create -q -f $basefmt "$b" 32M
	qemu-io -f $basefmt -c "write -P 0x61 0 32M" "$b" >/dev/null
	qemu-img create -q -f qcow2 -o cluster_size=4k -b "chain-base.$basefmt" \
	    -F $basefmt "$D/chain-mid.qcow2"
	qio "$D/chain-mid.qcow2" "write -P 0x62 1M 3M" "write -z 8M 1M" \
	    "write -P 0x63 9000 100"
	qemu-img create -q -f qcow2 -o cluster_size=64k -b chain-mid.qcow2 \
	    -F qcow2 "$D/chain-top.qcow2"
	qio "$D/chain-top.qcow2" "write -P 0x64 2M 100k" "discard 3M 64k" \
	    "write -z 10M 2M" "write -P 0x65 7 3"
	same_as_qemu "three-deep chain over a $basefmt base" \
	    "$D/chain-top.qcow2"
	check_out "info shows the chain over $basefmt" \
	    "chain 2: .*chain-base.$basefmt ($basefmt" \
	    "$VMTOP" -c "info $D/chain-top.qcow2"
done
# A base smaller than its overlay reads as zeros past its end.
qemu-img create -q -f qcow2 "$D/short-base.qcow2" 1M
qio "$D/short-base.qcow2" "write -P 0x71 0 1M"
qemu-img create -q -f qcow2 -b short-base.qcow2 -F qcow2 \
    "$D/long-top.qcow2" 4M
qio "$D/long-top.qcow2" "write -P 0x72 1000000 100000"
same_as_qemu "a base shorter than its overlay" "$D/long-top.qcow2"

# --- vmtop writes, qemu-img checks --------------------------------------
check "create qcow2" "$VMTOP" -c "create $D/new.qcow2 -s 100M"
qemu_clean "qemu-img checks a created image" "$D/new.qcow2"
check_out "qemu-img reads its size" "virtual size: 100 MiB" \
    qemu-img info "$D/new.qcow2"
check "create an overlay" "$VMTOP" -c "create $D/new-top.qcow2 -b new.qcow2"
check_out "qemu-img reads its base" "backing file: new.qcow2" \
    qemu-img info "$D/new-top.qcow2"
check "convert raw to qcow2" "$VMTOP" -c "convert $D/src.raw $D/conv.qcow2"
qemu_clean "converted qcow2 checks and compares" "$D/conv.qcow2" \
    "$D/src.raw"
check "convert qcow2 to raw" "$VMTOP" -c "convert $D/conv.qcow2 $D/back.raw"
check "converted raw is the source" cmp "$D/src.raw" "$D/back.raw"
check "convert a chain to one image" \
    "$VMTOP" -c "convert -O qcow2 $D/chain-top.qcow2 $D/flat.img"
check "the flat image reads like the chain" \
    qemu-img compare "$D/chain-top.qcow2" "$D/flat.img"

# Random writes, write-zeroes and discards, mirrored on a raw file.
seed=1
for opts in compat=0.10,cluster_size=64k compat=1.1,cluster_size=4k \
    compat=1.1,cluster_size=64k compat=1.1,cluster_size=2M \
    compat=1.1,cluster_size=512 compat=1.1,cluster_size=4k,refcount_bits=1 \
    compat=1.1,cluster_size=64k,refcount_bits=64; do
	img="$D/w.qcow2"
	rm -f "$img"
	qemu-img create -q -f qcow2 -o $opts "$img" 24M
	truncate -s 0 "$D/w.raw"
	truncate -s 24M "$D/w.raw"
	if out=$("$DISKIO" mirror "$img" "$D/w.raw" $seed 400 2>&1); then
		qemu_clean "vmtop writes ($opts)" "$img" "$D/w.raw"
	else
		not_ok "vmtop writes ($opts)"; printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	seed=$((seed + 1))
done
# The same over qemu's compressed clusters and over a base chain.
cp "$D/z-1.1-64k.qcow2" "$D/zw.qcow2"
qemu-img convert -O raw "$D/zw.qcow2" "$D/zw.raw"
"$DISKIO" mirror "$D/zw.qcow2" "$D/zw.raw" 9 300 &&
    qemu_clean "vmtop writes over compressed clusters" "$D/zw.qcow2" \
    "$D/zw.raw"
sum_before=$(cat "$D/chain-base.qcow2" "$D/chain-mid.qcow2" | cksum)
qemu-img create -q -f qcow2 -b chain-top.qcow2 -F qcow2 "$D/chain-w.qcow2"
qemu-img convert -O raw "$D/chain-w.qcow2" "$D/chain-w.raw"
"$DISKIO" mirror "$D/chain-w.qcow2" "$D/chain-w.raw" 10 300 &&
    qemu_clean "vmtop writes over a chain" "$D/chain-w.qcow2" \
    "$D/chain-w.raw"
sum_after=$(cat "$D/chain-base.qcow2" "$D/chain-mid.qcow2" | cksum)
if [ "$sum_before" = "$sum_after" ]; then ok "the bases are unchanged"; else
	not_ok "the bases changed"; fi
# qemu-io writes into an overlay vmtop made; vmtop reads them as qemu.
qio "$D/new-top.qcow2" "write -P 0x99 50M 3M" "write -z 51M 64k"
same_as_qemu "qemu writes into vmtop's overlay" "$D/new-top.qcow2"

# --- SIGKILL in the middle of writes --------------------------------------
kills=0
for cs in 512 4k 64k 2M; do
	for round in 1 2 3; do
		img="$D/kill.qcow2"
		rm -f "$img"
		: >"$D/kill.out"
		qemu-img create -q -f qcow2 -o cluster_size=$cs "$img" 64M
		"$DISKIO" hammer "$img" $round >"$D/kill.out" 2>&1 &
		pid=$!
		i=0
		while ! grep -q ready "$D/kill.out" && [ $i -lt 200 ]; do
			sleep 0.02; i=$((i + 1))
		done
		sleep 0.$(( (round * 3 + ${#cs}) % 9 + 1 ))
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		qemu-img check "$img" >"$D/kill.check" 2>&1
		rc=$?
		# 0: clean; 3: leaked clusters only; 2: corrupt.
		if [ $rc -eq 0 ] || [ $rc -eq 3 ]; then
			kills=$((kills + 1))
		else
			not_ok "SIGKILL with $cs clusters, round $round (check $rc)"
			sed 's/^/#   /' "$D/kill.check" | head -20
		fi
	done
	ok_img="$D/kill.qcow2"
done
[ $kills -eq 12 ] && ok "12 writers killed mid-write: no corruption"
check "a killed writer's image opens and takes writes" \
    "$DISKIO" mirror "$ok_img" "$D/w.raw" 3 1

# --- broken images are refused, with the file named -------------------
qemu-img create -q -f qcow2 "$D/bad.qcow2" 1M
printf '\377\377\377\377' | dd of="$D/bad.qcow2" bs=1 seek=36 conv=notrunc \
    2>/dev/null
check_fail "a bad L1 size is refused" "bad.qcow2: L1 table of 4294967295" \
    "$VMTOP" -c "info $D/bad.qcow2"
qemu-img create -q -f qcow2 -b loop-b.qcow2 -F qcow2 -u "$D/loop-a.qcow2" 1M
qemu-img create -q -f qcow2 -b loop-a.qcow2 -F qcow2 -u "$D/loop-b.qcow2" 1M
check_fail "a looping chain is refused" "loops back" \
    "$VMTOP" -c "convert $D/loop-a.qcow2 $D/loop.raw"
