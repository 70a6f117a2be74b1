# The cache of built images, shared by build-disk.sh and build-iso.sh:
# one folder per key under VMTOP_IMAGES_DIR (default /var/tmp), built
# once under a lock and renamed into place whole.
#
#   cache_key               the first 16 hex digits of stdin's sha256
#   cache_get PREFIX KEY KEEP BUILD
#       sets CACHED to BASE/PREFIX-KEY, running "BUILD TMPDIR" into a
#       temporary folder first if it is missing; then removes the other
#       PREFIX-* folders left unused for KEEP minutes (0: all of them)

IMAGES_DIR=${VMTOP_IMAGES_DIR:-/var/tmp}

die() { echo "${0##*/}: $*" >&2; exit 1; }

cache_key() { sha256sum | cut -c1-16; }

# cache_rm DIR: remove a folder, never crossing into a mount below it.
cache_rm() {
	if grep -q " $1/" /proc/self/mounts 2>/dev/null; then
		echo "${0##*/}: $1 still has mounts, left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

cache_get() {
	CACHED=$IMAGES_DIR/$1-$2
	if [ -f "$CACHED/.done" ]; then
		touch "$CACHED" 2>/dev/null
		return 0
	fi
	mkdir -p "$IMAGES_DIR" || die "cannot create $IMAGES_DIR"
	exec 9>"$IMAGES_DIR/$1.lock" || die "cannot open $IMAGES_DIR/$1.lock"
	flock 9 || die "flock $IMAGES_DIR/$1.lock failed"
	if [ ! -f "$CACHED/.done" ]; then
		# holding the lock, any temporary folder is a killed build's
		for d in "$IMAGES_DIR/$1"-*.tmp.*; do
			[ -d "$d" ] && cache_rm "$d"
		done
		cache_tmp=$CACHED.tmp.$$
		mkdir "$cache_tmp" || die "cannot create $cache_tmp"
		trap 'cache_rm "$cache_tmp"' EXIT
		trap 'exit 1' HUP INT TERM
		"$4" "$cache_tmp" || die "building $CACHED failed"
		date -u +%FT%TZ >"$cache_tmp/.done"
		rm -rf "$CACHED"
		mv -T "$cache_tmp" "$CACHED" || die "cannot rename $cache_tmp"
		trap - EXIT HUP INT TERM
	fi
	touch "$CACHED"
	for d in "$IMAGES_DIR/$1"-*; do
		case "$d" in "$CACHED"|*.tmp.*|*.lock) continue ;; esac
		[ -d "$d" ] || continue
		[ "$3" -eq 0 ] ||
		    [ -n "$(find "$d" -maxdepth 0 -mmin "+$3")" ] || continue
		cache_rm "$d"
	done
	flock -u 9
	exec 9>&-
}
