#!/bin/sh
# Install the Debian packages vmtop builds and tests with; quick when all
# are present. Usage: install-deps.sh [build|check]
set -e
build="gcc make pkg-config bison libevent-dev libncurses-dev libedit-dev
libseccomp-dev libslirp-dev libcmocka-dev qemu-system-x86 libc6-dev cpio
zlib1g-dev libglib2.0-dev"
check="tmux clang util-linux procps iproute2 qemu-utils"
want=$build
[ "${1:-build}" = check ] && want="$build $check"
missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root, or install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
