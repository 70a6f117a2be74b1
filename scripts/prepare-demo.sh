#!/bin/sh
# Prepare the demo VM that the engine's embedded default config boots:
# build/demo/vmlinuz (Debian's kernel) and build/demo/initrd.img (busybox
# with a shell on the serial console). Cached: prints nothing and takes
# well under a second once built. Used by `make run`.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
exec sh "$TOP/tests/guest/build.sh" "$TOP/build/demo"
