# What the engine and dashboard benches share: how they give up, and the
# check for the files they run. Sourced after tests/lib.sh.

# broke WHAT: a bench that cannot go on; show the engine's last words.
broke() {
	echo "bench: $*" >&2
	[ -f "$T/engine.log" ] &&
	    tail -n 20 "$T/engine.log" | sed 's/^/#   /' >&2
	exit 1
}

# need_built FILE...: give up unless every FILE is built.
need_built() {
	for f in "$@"; do
		[ -x "$f" ] || broke "$f is missing: run \`make bench\`"
	done
}
