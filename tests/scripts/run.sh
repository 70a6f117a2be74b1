#!/bin/sh
# scripts/check-commands.sh: passes with the real table, and fails naming
# the Debian package when a command is missing from PATH or the table
# names one that exists nowhere.
. "$(dirname "$0")/../lib.sh"
CHECK="$TOP/scripts/check-commands.sh"
TABLE="$TOP/scripts/commands"
SH=$(command -v sh)

check_out "every command in the table is on PATH" "all [0-9]* commands found" \
    "$SH" "$CHECK"

bad=$(awk '!/^#/ && NF && NF != 2' "$TABLE")
if [ -z "$bad" ]; then ok "every table line is \"command package\""; else
	not_ok "every table line is \"command package\""
	printf '%s\n' "$bad" | sed 's/^/#   /'
fi

# A PATH with every command of the table but those named.
path_without() {
	rm -rf "$T/bin"; mkdir -p "$T/bin"
	awk '!/^#/ && NF { print $1 }' "$TABLE" | while read -r c; do
		case " $* " in *" $c "*) continue ;; esac
		p=$(command -v "$c") && ln -s "$p" "$T/bin/$c"
	done
}

path_without qemu-img
check_fail "a command missing from PATH names its package" \
    "qemu-img is missing: it is in the Debian package qemu-utils" \
    env PATH="$T/bin" "$SH" "$CHECK" "$TABLE"
check_out "and only that one" "^1\$" \
    sh -c "PATH='$T/bin' '$SH' '$CHECK' '$TABLE' 2>&1 | grep -c ' is missing: '"

path_without qemu-img qemu-io
check_fail "two commands of one package ask for it once" \
    "apt-get install qemu-utils)" env PATH="$T/bin" "$SH" "$CHECK" "$TABLE"
check_out "and name both commands" "^2\$" \
    sh -c "PATH='$T/bin' '$SH' '$CHECK' '$TABLE' 2>&1 | grep -c ' is missing: '"

{ cat "$TABLE"; echo "vmtop-no-such-command	vmtop-no-such-package"; } >"$T/table"
check_fail "a table entry for a missing command names its package" \
    "vmtop-no-such-command is missing: it is in the Debian package vmtop-no-such-package" \
    "$SH" "$CHECK" "$T/table"

check_fail "an unreadable table is an error" "cannot read $T/none" \
    "$SH" "$CHECK" "$T/none"

finish
