#!/bin/sh
# Check that every command in the table (scripts/commands: "command
# package" lines) is on PATH; name the package of each one missing and
# fail. Usage: check-commands.sh [TABLE]
table=${1:-$(dirname "$0")/commands}
[ -r "$table" ] || { echo "check-commands: cannot read $table" >&2; exit 2; }
n=0
missing=
while read -r cmd pkg rest; do
	case "$cmd" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	command -v "$cmd" >/dev/null 2>&1 && continue
	echo "check-commands: $cmd is missing: it is in the Debian package ${pkg:-?}" >&2
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done <"$table"
if [ -n "$missing" ]; then
	echo "check-commands: install them (as root: sh scripts/install-deps.sh check, or apt-get install$missing)" >&2
	exit 1
fi
echo "check-commands: all $n commands found"
