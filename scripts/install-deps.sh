#!/bin/sh
# Install the Debian packages vmtop builds and tests with; quick when all
# are present. "build": the compilers and libraries; "check": those and
# the package of every command in scripts/commands that is not on PATH
# (a command already there, say busybox from busybox-static, is kept)
# and grub-pc-bin.
# Usage: install-deps.sh [build|check]
set -e
build="gcc make pkg-config bison libevent-dev libncurses-dev libedit-dev
libseccomp-dev libslirp-dev libcmocka-dev qemu-system-x86 libc6-dev cpio
libcurl4-openssl-dev libssl-dev
zlib1g-dev libglib2.0-dev libisofs-dev"
missing=
for p in $build; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
if [ "${1:-build}" = check ]; then
	while read -r cmd pkg rest; do
		case "$cmd" in ''|'#'*) continue ;; esac
		command -v "$cmd" >/dev/null 2>&1 && continue
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	done <"$(dirname "$0")/commands"
	# GRUB's BIOS platform (no command of its own), for tests/images
	[ -f /usr/lib/grub/i386-pc/cdboot.img ] || missing="$missing grub-pc-bin"
fi
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root, or install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
