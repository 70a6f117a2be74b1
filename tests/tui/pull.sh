#!/bin/sh
# pull and images against a local HTTP server on 127.0.0.1 that knows
# Range requests (rangehttpd.py): a pull fetches and verifies an image
# from the catalog, a cut transfer resumes where it stopped (the server
# sees the Range), a server that ignores Range restarts it, a wrong
# checksum keeps nothing, URL pulls with and without a checksum file, and
# the errors for what the server or the files get wrong; in the
# dashboard, a pull in the background while the dashboard goes on.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.sh"

vp() { "$VMTOP" -c "$*"; }
# the sources, apart from TOP when that is a sanitizer build's folder
SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ -e "$TOP/share/images.catalog" ] ||
    export VMTOP_CATALOG="$SRC/share/images.catalog"
WWW="$T/www"
CACHE="$VMTOP_STATE_DIR/images"
mkdir -p "$WWW" "$XDG_CONFIG_HOME/vmtop"
head -c 1048576 /dev/urandom >"$WWW/test.qcow2"
head -c 300000 /dev/urandom >"$WWW/other.img"
(cd "$WWW" && sha512sum test.qcow2 other.img >SHA512SUMS &&
    sha256sum --tag other.img >SHA256SUMS)
python3 "$SRC/tests/tui/rangehttpd.py" "$WWW" "$T/port" "$T/http.log" \
    2>"$T/http.err" &
HTTPD=$!
# tmux.sh's trap ends the tmux server; the HTTP server must end too
trap 'kill $HTTPD 2>/dev/null; tm kill-server 2>/dev/null' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://127.0.0.1:$(cat "$T/port")"
printf 'testimg sha512 %s/test.qcow2 %s/SHA512SUMS\n' "$URL" "$URL" \
    >"$XDG_CONFIG_HOME/vmtop/images.catalog"
printf 'missing\tsha512\t%s/none.qcow2\t%s/SHA512SUMS\n' "$URL" "$URL" \
    >>"$XDG_CONFIG_HOME/vmtop/images.catalog"

# --- a pull from the catalog ---------------------------------------------
check_out "pull NAME fetches and verifies the image" \
    "pulled testimg: $CACHE/test.qcow2, 1M, SHA-512 verified against $URL/SHA512SUMS" \
    vp pull testimg
cmp -s "$WWW/test.qcow2" "$CACHE/test.qcow2" &&
    ok "the cached image is the served one" ||
    not_ok "the cached image is the served one"
check_out "off a terminal, progress comes as lines" \
    "pulling testimg: 100% of 1M" sh -c "rm '$CACHE/test.qcow2.info';
    '$VMTOP' -c 'pull testimg'"
check_out "images lists it, verified" \
    "^testimg  *1M sha512 *[0-9-]* [0-9:]* $CACHE/test.qcow2\$" vp images
check_out "images -j" \
    "\"name\": \"testimg\", \"path\": \"$CACHE/test.qcow2\", \"size\": 1048576, \"verified\": \"sha512\"" \
    vp images -j
check_fail "the shipped catalog still comes after the user's" \
    "no image nosuch in the catalog; it has: testimg, missing, debian-12, debian-13, ubuntu-24.04" \
    vp pull nosuch
check_out "a second pull finds it up to date" \
    "testimg is up to date: $CACHE/test.qcow2" vp pull testimg

# --- a cut transfer, resumed ---------------------------------------------
rm -f "$CACHE"/test.qcow2*
echo test.qcow2 >"$WWW/.cut"
check_fail "a cut transfer fails and keeps what came" \
    "cannot pull testimg from $URL/test.qcow2: .*512K kept in $CACHE/test.qcow2.part: pull again to resume" \
    vp pull testimg
[ ! -e "$CACHE/test.qcow2" ] && [ -s "$CACHE/test.qcow2.part" ] &&
    ok "only the .part file is there" || not_ok "only the .part file is there"
check_out "images shows the partial pull" \
    "^test.qcow2  *512K partial .*test.qcow2.part\$" vp images
: >"$T/http.log"
check_out "pull again resumes after the cut" \
    "resuming after 512K (524288 bytes)" vp pull testimg
grep -q "^GET /test.qcow2 bytes=524288-\$" "$T/http.log" &&
    ok "the server saw a Range request from the cut" ||
    { not_ok "the server saw a Range request from the cut";
    sed 's/^/#   /' "$T/http.log"; }
cmp -s "$WWW/test.qcow2" "$CACHE/test.qcow2" && [ ! -e "$CACHE/test.qcow2.part" ] &&
    ok "the resumed image is whole and verified" ||
    not_ok "the resumed image is whole and verified"

# --- a server that ignores Range -----------------------------------------
rm -f "$CACHE"/test.qcow2*
echo test.qcow2 >"$WWW/.cut"
vp pull testimg >/dev/null 2>&1
touch "$WWW/.norange"
check_out "a server that ignores Range: the pull starts again" \
    "the server sent testimg from its start" vp pull testimg
cmp -s "$WWW/test.qcow2" "$CACHE/test.qcow2" &&
    ok "the restarted image is whole" || not_ok "the restarted image is whole"
rm -f "$WWW/.norange"

# --- a part file that is longer than the image ---------------------------
rm -f "$CACHE"/test.qcow2*
head -c 2000000 /dev/zero >"$CACHE/test.qcow2.part"
check_out "a .part longer than the image (416): the pull starts again" \
    "pulled testimg" vp pull testimg

# --- a wrong checksum ----------------------------------------------------
rm -f "$CACHE"/test.qcow2*
good=$(sha512sum "$WWW/test.qcow2" | cut -d' ' -f1)
cp "$WWW/SHA512SUMS" "$T/sums.good"
bad=$(sha512sum "$WWW/other.img" | cut -d' ' -f1)
printf '%s  test.qcow2\n' "$bad" >"$WWW/SHA512SUMS"
check_fail "a wrong checksum is refused, naming both hashes" \
    "cannot pull testimg: its SHA-512 is $good, but SHA512SUMS says $bad: deleted $CACHE/test.qcow2.part, nothing kept" \
    vp pull testimg
[ -z "$(ls "$CACHE" | grep test.qcow2)" ] && ok "a wrong checksum keeps nothing" ||
    { not_ok "a wrong checksum keeps nothing"; ls -l "$CACHE" | sed 's/^/#   /'; }
# the same after a resume: the kept part goes too
echo test.qcow2 >"$WWW/.cut"
vp pull testimg >/dev/null 2>&1
check_fail "a resumed pull with a wrong checksum is refused" \
    "nothing kept" vp pull testimg
[ -z "$(ls "$CACHE" | grep test.qcow2)" ] &&
    ok "and keeps nothing either" || not_ok "and keeps nothing either"
printf 'this is not a checksum line\n' >"$WWW/SHA512SUMS"
check_fail "a malformed checksum file names its line" \
    "cannot pull testimg: SHA512SUMS line 1: not a checksum line" \
    vp pull testimg
printf '%s  other.img\n' "$bad" >"$WWW/SHA512SUMS"
check_fail "a checksum file without the image" \
    "cannot pull testimg: $URL/SHA512SUMS lists no SHA-512 hash for test.qcow2" \
    vp pull testimg
cp "$T/sums.good" "$WWW/SHA512SUMS"

# --- URL pulls -----------------------------------------------------------
check_out "pull URL -s with a BSD-style SHA256SUMS" \
    "pulled other.img: $CACHE/other.img, 293.0K, SHA-256 verified against $URL/SHA256SUMS" \
    vp pull -s "$URL/SHA256SUMS" "$URL/other.img"
rm -f "$CACHE"/other.img*
check_out "pull URL without a checksum file: kept, not verified" \
    "pulled other.img: .*not verified" vp pull "$URL/other.img"
check_out "images says it is not verified" "^other.img  *293.0K no " vp images
rm -f "$CACHE"/other.img*
run 120 10 "$VMTOP -c 'pull -s $URL/SHA256SUMS $URL/other.img'"
see "on a terminal, a progress bar" \
    "^other.img \[#\{30\}\] 100% 293.0K/293.0K\$"
see "and the result under it" "^pulled other.img: .*verified"
tm kill-session -t vt 2>/dev/null
check_fail "pull -a sha512 of a URL whose sums give SHA-256 only" \
    "lists no SHA-512 hash for other.img" \
    vp pull -a sha512 -s "$URL/SHA256SUMS" "$URL/other.img"

# --- errors --------------------------------------------------------------
printf '%s  none.qcow2\n' "$good" >>"$WWW/SHA512SUMS"
check_fail "an image the server does not have" \
    "cannot pull missing from $URL/none.qcow2: the server answered HTTP 404" \
    vp pull missing
[ ! -e "$CACHE/none.qcow2.part" ] && ok "a failed pull with no bytes keeps no .part" ||
    not_ok "a failed pull with no bytes keeps no .part"
cp "$T/sums.good" "$WWW/SHA512SUMS"
check_fail "a checksum file the server does not have" \
    "its checksum file $URL/nosums: the server answered HTTP 404" \
    vp pull -s "$URL/nosums" "$URL/other.img"
check_fail "a URL with no file name" "does not end in a file name" \
    vp pull "$URL/"
check_fail "an unknown scheme" "only http://, https:// and file:/// URLs" \
    vp pull "ftp://example.org/x.img"
check_fail "an unknown algorithm" "unknown algorithm md5" \
    vp pull -a md5 testimg
mkdir -p "$CACHE"; : >"$CACHE/test.qcow2.part"
flock "$CACHE/test.qcow2.part" sh -c "touch '$T/locked'; sleep 60" &
LOCKER=$!
i=0
while [ ! -e "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_fail "two pulls of one image: the second is refused" \
    "cannot pull testimg: another pull is writing it" vp pull testimg
kill $LOCKER 2>/dev/null; wait $LOCKER 2>/dev/null
rm -f "$CACHE"/test.qcow2*

# --- in the dashboard: in the background, the loop going on ----------------
: >"$CONF"
start_engine
echo test.qcow2 >"$WWW/.hold"
dash 150 30
keys : "pull testimg" Enter
see "the dashboard's pull goes to the background" \
    "pulling testimg in the background (images shows it; its output: $CACHE/test.qcow2.log)"
# the server holds the transfer; the dashboard still answers keys
keys '?'
see "the dashboard answers keys while the pull waits" "sort by"
keys q
i=0
while [ $i -lt 100 ] && ! vp images | grep -q "^test.qcow2  *512K partial"; do
	sleep 0.1; i=$((i + 1))
done
check_out "images shows the pull under way" "^test.qcow2  *512K partial" vp images
rm -f "$WWW/.hold"
i=0
while [ $i -lt 100 ] && ! vp images | grep -q "^testimg .* sha512 "; do
	sleep 0.1; i=$((i + 1))
done
check_out "the background pull ends verified" "^testimg  *1M sha512 " vp images
check_out "its output is in the log" "pulled testimg: $CACHE/test.qcow2" \
    cat "$CACHE/test.qcow2.log"
tm kill-session -t vt 2>/dev/null

printf 'bad line here\n' >>"$XDG_CONFIG_HOME/vmtop/images.catalog"
check_fail "a malformed catalog names its file and line" \
    "cannot pull testimg: $XDG_CONFIG_HOME/vmtop/images.catalog line 3: 3 words, not 4" \
    vp pull testimg

kill $HTTPD 2>/dev/null
finish
