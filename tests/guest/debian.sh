# Debian's own kernel and busybox-static, fetched with `apt-get download`
# and unpacked with `dpkg -x` into a cache folder, never installed.
# Sourced by tests/guest/build.sh and tests/vmhost/build.sh; needs TOP.
#
#   debian_kernel    sets KVER, KROOT, VMLINUZ, MODDIR (modules.dep made)
#   debian_busybox   sets BUSYBOX
#   mod_closure NAME...  prints module paths (under MODDIR) in load order;
#                    a NAME ending in "?" is optional
#   stage_modules STAGE NAME...  copies them (decompressed) into
#                    STAGE/lib/modules and writes STAGE/etc/modules
#   built_from, stage_begin, stage_end  the cache check, start and end of
#                    a kernel + busybox initramfs build
#
# VMTOP_CACHE overrides the cache folder (default build/cache),
# VMTOP_KVER the kernel version (default: what linux-image-amd64 depends on).

CACHE=${VMTOP_CACHE:-$TOP/build/cache}

die() { echo "${0##*/}: $*" >&2; exit 1; }

# apt_fetch PKG DEST: unpack the .deb of PKG into DEST (once).
apt_fetch() {
	[ -d "$2" ] && return 0
	mkdir -p "$CACHE/debs" || die "cannot create $CACHE/debs"
	deb=$(ls "$CACHE/debs/$1"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		if ! out=$(cd "$CACHE/debs" && apt-get download "$1" 2>&1); then
			apt_update
			out=$(cd "$CACHE/debs" && apt-get download "$1" 2>&1) ||
			    die "apt-get download $1 failed: $out"
		fi
		deb=$(ls "$CACHE/debs/$1"_*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || die "apt-get download $1 left no .deb: $out"
	fi
	rm -rf "$2.tmp.$$"
	dpkg -x "$deb" "$2.tmp.$$" || die "dpkg -x $deb failed"
	# another build may have won the race; theirs is as good as ours
	mv "$2.tmp.$$" "$2" 2>/dev/null || rm -rf "$2.tmp.$$"
}

# apt_update: refresh the package lists, which needs root.
apt_update() {
	[ -n "${apt_updated:-}" ] && return 0
	apt_updated=1
	[ "$(id -u)" -eq 0 ] ||
	    die "the apt package lists are missing or stale: run 'apt-get update' as root"
	apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
}

# kernel_version: the linux-image-X version linux-image-amd64 depends on,
# remembered until the package lists change.
kernel_version() {
	if [ -n "${VMTOP_KVER:-}" ]; then echo "$VMTOP_KVER"; return; fi
	vf="$CACHE/kernel-version"
	if [ -s "$vf" ] && { [ ! -d /var/lib/apt/lists ] ||
	    [ -n "$(find "$vf" -newer /var/lib/apt/lists 2>/dev/null)" ]; }; then
		cat "$vf"; return
	fi
	v=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | head -n 1)
	if [ -z "$v" ]; then
		apt_update
		v=$(apt-cache depends linux-image-amd64 2>/dev/null |
		    sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' |
		    head -n 1)
	fi
	[ -n "$v" ] || die "cannot tell which kernel linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
	mkdir -p "$CACHE" && echo "$v" >"$vf.$$" && mv "$vf.$$" "$vf"
	echo "$v"
}

debian_busybox() {
	apt_fetch busybox-static "$CACHE/busybox-static"
	BUSYBOX="$CACHE/busybox-static/bin/busybox"
	[ -x "$BUSYBOX" ] || die "$BUSYBOX missing from busybox-static"
}

debian_kernel() {
	KVER=$(kernel_version) || exit 1
	KROOT="$CACHE/linux-image-$KVER"
	apt_fetch "linux-image-$KVER" "$KROOT"
	VMLINUZ="$KROOT/boot/vmlinuz-$KVER"
	MODDIR="$KROOT/lib/modules/$KVER"
	[ -f "$VMLINUZ" ] || die "$VMLINUZ missing from linux-image-$KVER"
	# modules.dep is made by depmod at install time, so make it here
	if [ ! -s "$MODDIR/modules.dep" ]; then
		debian_busybox
		"$BUSYBOX" depmod -b "$KROOT" "$KVER" ||
		    die "depmod for $KVER failed"
	fi
}

# mod_path NAME: the module's path in modules.dep ("-" and "_" are one).
mod_path() {
	n=$(echo "$1" | sed 's/[-_]/[-_]/g')
	sed -n "s,^\([^:]*/$n\.ko\(\.[a-z]*\)\{0\,1\}\):.*,\1,p" \
	    "$MODDIR/modules.dep" | head -n 1
}

# mod_deps PATH: what modules.dep says PATH needs.
mod_deps() {
	grep -F "$1:" "$MODDIR/modules.dep" | head -n 1 | sed 's/^[^:]*: *//'
}

# mod_closure NAME...: every module NAME needs, dependencies first.
mod_closure() {
	mod_seen=
	for m in "$@"; do
		case "$m" in
		*\?) p=$(mod_path "${m%?}"); [ -n "$p" ] || continue ;;
		*) p=$(mod_path "$m")
		   [ -n "$p" ] || die "module $m not in $KVER's modules.dep" ;;
		esac
		mod_visit "$p"
	done
}

mod_visit() {
	case " $mod_seen " in *" $1 "*) return ;; esac
	mod_seen="$mod_seen $1"
	for d in $(mod_deps "$1"); do mod_visit "$d"; done
	echo "$1"
}

# stage_modules STAGE NAME...: copy the closure into STAGE/lib/modules
# (decompressed, so busybox insmod loads it) and list the load order in
# STAGE/etc/modules.
stage_modules() {
	st=$1; shift
	mkdir -p "$st/lib/modules" "$st/etc"
	list=$(mod_closure "$@") || exit 1
	: >"$st/etc/modules"
	for p in $list; do
		b=${p##*/}
		case "$b" in
		*.ko) cp "$MODDIR/$p" "$st/lib/modules/$b" ;;
		*.ko.xz) b=${b%.xz}; xz -dc "$MODDIR/$p" >"$st/lib/modules/$b" ;;
		*.ko.zst) b=${b%.zst}; zstd -qdc "$MODDIR/$p" >"$st/lib/modules/$b" ;;
		*.ko.gz) b=${b%.gz}; gzip -dc "$MODDIR/$p" >"$st/lib/modules/$b" ;;
		*) die "unknown module format: $p" ;;
		esac || die "cannot copy module $p"
		echo "$b" >>"$st/etc/modules"
	done
}

# make_cpio STAGE OUT: a gzip'd newc archive of STAGE, owned by root.
make_cpio() {
	(cd "$1" && find . | LC_ALL=C sort |
	    "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9n >"$2.tmp.$$" &&
	    mv "$2.tmp.$$" "$2" || { rm -f "$2.tmp.$$"; die "cannot write $2"; }
}

# built_from OUT STAMP: OUT's vmlinuz and initrd.img were made from STAMP.
built_from() {
	[ -f "$1/vmlinuz" ] && [ -f "$1/initrd.img" ] &&
	    [ "$(cat "$1/.stamp" 2>/dev/null)" = "$2" ]
}

# stage_begin OUT NAME INIT: fetch the kernel and busybox and set S to a
# staging folder (removed on exit) holding busybox as /bin/sh and INIT as
# /init.
stage_begin() {
	mkdir -p "$1" || die "cannot create $1"
	debian_kernel
	debian_busybox
	S=$(mktemp -d "${TMPDIR:-/tmp}/vmtop-$2.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$S"' EXIT
	trap 'exit 1' HUP INT TERM
	mkdir -p "$S/bin" "$S/dev" "$S/proc" "$S/sys" "$S/tmp" "$S/etc"
	cp "$BUSYBOX" "$S/bin/busybox"
	ln -s busybox "$S/bin/sh"
	cp "$3" "$S/init"
	chmod 755 "$S/init"
}

# stage_end OUT STAMP: the staged initramfs and the kernel into OUT.
stage_end() {
	make_cpio "$S" "$1/initrd.img"
	cp "$VMLINUZ" "$1/vmlinuz.tmp.$$" && mv "$1/vmlinuz.tmp.$$" "$1/vmlinuz" ||
	    die "cannot write $1/vmlinuz"
	echo "$2" >"$1/.stamp"
}
