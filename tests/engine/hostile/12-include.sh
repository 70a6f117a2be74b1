# 12: a config that includes itself out of memory. Five small files that
# include one another 30 times at each of 4 levels ask for 810000
# inclusions; the parser stops at limits.include_files, says so once, and
# stays small. Each included file's buffer is freed once it is parsed, so
# a long run of big includes within limits.include_bytes needs no more
# memory than one of them. Only the parser is reachable this way: the
# engine reads only the config root gave it, and reload is root's.

inc12=$T/inc12
mkdir -p "$inc12"
for i in 1 2 3; do
	n=$((i + 1))
	for j in $(seq 30); do echo "include \"l$n.conf\""; done >"$inc12/l$i.conf"
done
echo 'x = "leaf"' >"$inc12/l4.conf"
for j in $(seq 30); do echo 'include "l1.conf"'; done >"$inc12/top.conf"
chmod -R a+rX "$inc12"
chown $HOSTILE_UID "$inc12"

# peak12 FILE: vmtop -n -f FILE as the second uid; its output in
# $T/out12, its peak RSS in KiB in $inc12/rss, its exit status in rc12.
peak12() {
	rc12=0
	as_hostile timeout 600 /usr/bin/time -o "$inc12/rss" -f %M \
	    "$VMTOP" -n -f "$1" >"$T/out12" 2>&1 || rc12=$?
	rss12=$(tail -n 1 "$inc12/rss")
}

peak12 "$inc12/top.conf"
check "12: the fan-out config is refused (exit $rc12)" test "$rc12" -eq 1
check_out "12: with the limit's error, naming the file and the limit" \
    'l2.conf:3: include "[^"]*/l3.conf": more than 64 files included in all (limit include files 64)' \
    cat "$T/out12"
check_out "12: said once" "^1$" grep -c "limit include files" "$T/out12"
echo "# 12: the fan-out parse peaked at $rss12 KiB"
check "12: in little memory ($rss12 KiB)" test "$rss12" -lt 32768

# 200 includes of a 1 MiB file, one after the other: 200 MiB read, at
# most one of them held at a time.
head -c 1048576 /dev/zero | tr '\0' '#' >"$inc12/big.conf"
{
	echo "limit include files 201"
	echo "limit include bytes 201M"
	for j in $(seq 200); do echo 'include "big.conf"'; done
} >"$inc12/many.conf"
chmod a+r "$inc12/big.conf" "$inc12/many.conf"
peak12 "$inc12/many.conf"
check "12: 200 MiB of includes parse (exit $rc12)" test "$rc12" -eq 0
echo "# 12: 200 includes of 1 MiB peaked at $rss12 KiB"
check "12: each one freed once parsed ($rss12 KiB)" test "$rss12" -lt 32768
# and the byte limit stops the 201st
echo 'include "big.conf"' >>"$inc12/many.conf"
peak12 "$inc12/many.conf"
check "12: past limit include bytes, refused (exit $rc12)" test "$rc12" -eq 1
check_out "12: saying so once, with the limit" \
    'include "[^"]*/big.conf": more than 201M read in all (limit include bytes 201M)' \
    cat "$T/out12"
check_out "12: once" "^1$" grep -c "limit include bytes" "$T/out12"
root_answers "12"
