# A VM's files are opened with its owner's rights: the second uid cannot
# have the root engine open what it could not open itself, and the error
# says no more than it could find out (the same for a file that exists
# and one that does not, behind a directory it may not search).
mkdir -p "$T/private"
chmod 700 "$T/private"
echo secret >"$T/private/kernel"
cp "$T/private/kernel" "$T/private/disk.img"
echo root >"$T/rootdisk.img"
chmod 644 "$T/rootdisk.img"

check_fail "04: -k of a file in root's 0700 folder is refused" \
    "vm p1: kernel $T/private/kernel: Permission denied" \
    hv start p1 -k "$T/private/kernel"
check_fail "04: -k of a missing file there reads the same" \
    "vm p2: kernel $T/private/nothing: Permission denied" \
    hv start p2 -k "$T/private/nothing"
check_fail "04: -d of a file there is refused" \
    "vm p3: disk $T/private/disk.img: Permission denied" \
    hv start p3 -k "$T/kernel" -d "$T/private/disk.img"
check_fail "04: -d of root's file it may read but not write is refused" \
    "vm p4: disk $T/rootdisk.img: Permission denied" \
    hv start p4 -k "$T/kernel" -d "$T/rootdisk.img"
out=$(hv start p5 -k "$T/private/nothing" 2>&1)
case $out in
*"No such file"*) not_ok "04: no error tells whether a hidden path exists ($out)" ;;
*) ok "04: no error tells whether a hidden path exists" ;;
esac

check "04: a kernel the second uid may read works" \
    hv start p6 -k "$T/kernel" -a test=run
check "04: and its runner runs" said p6 "p6: booted"
check "04: stop it" hv stop -w p6
check "04: root's own vm opens root's private files" \
    vt start p7 -k "$T/private/kernel" -d "$T/private/disk.img" -a test=run
check "04: stop root's" vt stop -w p7
check_fail "04: a directory is not a kernel" \
    "vm p8: kernel $T/private: not a regular file or block device" \
    vt start p8 -k "$T/private"
root_answers 04
