#!/bin/bash
# ASan + UBSan build of libpininspect, pininspect and the test helpers in a
# separate copy of the tree (the main tree is configured in-tree, so a VPATH
# build from it fails), then the unit and fixture tests under the sanitizers.
#
#   scripts/sanitize.sh [--tap] [--keep] [TEST...]
#
# TEST defaults to the unit tests and tests/fixtures.test; SANITIZE_LIVE=1
# adds the live host tests that run pininspect on pinload (root).
# --tap prints TAP (tests/fuzz/sanitize.test uses it); --keep keeps the copy
# (its path is printed). SANITIZE_DIR=DIR builds in DIR (reused when it holds
# a previous build: incremental). CC defaults to gcc.
# Any sanitizer report fails: halt_on_error, leaks detected, and the logs are
# searched for reports a test might have swallowed.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
tap=false keep=false
while [ $# -gt 0 ]; do
	case "$1" in
	--tap) tap=true ;;
	--keep) keep=true ;;
	--) shift; break ;;
	-*) echo "usage: $0 [--tap] [--keep] [TEST...]" >&2; exit 64 ;;
	*) break ;;
	esac
	shift
done
tests=("$@")

n=0 failed=0
say() { $tap && echo "# $*" || echo "sanitize: $*"; }
result() { # result STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		$tap && echo "ok $n - $2" || echo "sanitize: ok: $2"
	else
		failed=$((failed + 1))
		$tap && echo "not ok $n - $2" || echo "sanitize: FAILED: $2"
	fi
}
finish() {
	$tap && echo "1..$n"
	if $keep || [ -n "${SANITIZE_DIR:-}" ]; then
		say "build tree kept in $work"
	elif [ "$failed" -gt 0 ]; then
		# keep the logs (130 MB of build tree would pile up in /tmp)
		mkdir -p "$work/logs"
		(cd "$tree" 2>/dev/null && find tests -name '*.log' -newer "$work/copy.log" |
			while IFS= read -r f; do mkdir -p "$work/logs/$(dirname "$f")" && cp "$f" "$work/logs/$f"; done)
		rm -rf "$tree" "$work/stage"
		say "logs kept in $work (rerun with --keep for the build tree)"
	else
		rm -rf "$work"
	fi
	[ "$failed" -eq 0 ]; exit $?
}
indent() { sed 's/^/#   /' | tail -"${1:-40}"; }

# the sub-make must not inherit the outer make check's jobserver and flags
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
# tests under the outer make check get these: point them at the copy
unset top_srcdir top_builddir PININSPECT

if [ -n "${SANITIZE_DIR:-}" ]; then
	work="$SANITIZE_DIR"; mkdir -p "$work" || exit 1
else
	work=$(mktemp -d /tmp/pininspect-sanitize.XXXXXX) || exit 1
fi
tree="$work/tree"

# 1. copy: tracked and untracked-but-not-ignored files (what the tree builds from)
copy_tree() {
	local dest="$tree"
	# into an existing build tree: stage, then copy only files whose content
	# changed (with a new mtime); tar keeps the source's mtimes, which can
	# be older than objects built from a previous version of the file
	[ -d "$tree" ] && { rm -rf "$work/stage"; dest="$work/stage"; }
	mkdir -p "$dest" || return 1
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z -c -o --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -xf - -C "$dest" || return 1
	else
		# not a git checkout: everything but build outputs
		(cd "$src" && tar --exclude='*.o' --exclude='*.a' --exclude='*.log' --exclude='*.trs' \
			--exclude=Makefile --exclude=config.status --exclude=config.h \
			--exclude=autom4te.cache --exclude=./pininspect -cf - .) | tar -xf - -C "$dest" || return 1
	fi
	[ "$dest" = "$tree" ] && return 0
	(cd "$dest" && find . -type f -o -type l) | while IFS= read -r f; do
		if ! cmp -s "$dest/$f" "$tree/$f"; then
			mkdir -p "$(dirname "$tree/$f")" && rm -f "$tree/$f" && cp -P "$dest/$f" "$tree/$f" || return 1
		fi
	done
	rm -rf "$work/stage"
}
copy_tree >"$work/copy.log" 2>&1; r=$?
result $r "copy the tree to $tree"
[ $r = 0 ] || { indent <"$work/copy.log"; finish; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}"
jobs=${SANITIZE_JOBS:-2}

# 2. configure and build with the sanitizers
(
	cd "$tree" || exit 1
	if [ ! -f config.status ]; then
		./autogen.sh && ./configure -q CC="${CC:-gcc}" CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN" || exit 1
	fi
	make -j"$jobs" && make -j"$jobs" check TESTS=
) >"$work/build.log" 2>&1; r=$?
result $r "ASan+UBSan build of libpininspect, pininspect and the helpers (${CC:-gcc})"
[ $r = 0 ] || { indent <"$work/build.log"; finish; }

# 3. the tests: unit + fixtures by default
if [ ${#tests[@]} -eq 0 ]; then
	for f in "$tree"/tests/unit/test-*; do
		case "$f" in *.c|*.o|*.log|*.trs) continue ;; esac
		[ -x "$f" ] && tests+=("tests/unit/${f##*/}")
	done
	tests+=(tests/fixtures.test tests/live/audit-fixtures.test)
	if [ "${SANITIZE_LIVE:-0}" = 1 ]; then
		for t in tests/live/report.test tests/live/unprivileged.test tests/live/hostile-names.test \
			 tests/live/race-exit.test tests/live/race-remap.test tests/live/race-exec.test; do
			[ -f "$tree/$t" ] && tests+=("$t")
		done
	fi
fi
say "tests: ${tests[*]}"
(cd "$tree" && make -j"$jobs" -k check TESTS="${tests[*]}") >"$work/check.log" 2>&1
for t in "${tests[@]}"; do
	trs="$tree/${t%.test}.trs"; log="$tree/${t%.test}.log"
	case "$t" in *.test) ;; *) trs="$tree/$t.trs"; log="$tree/$t.log" ;; esac
	if [ ! -f "$trs" ]; then
		result 1 "$t under ASan+UBSan (did not run)"; continue
	fi
	pass=$(grep -c '^:test-result: PASS' "$trs"); skip=$(grep -c '^:test-result: SKIP' "$trs")
	bad=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' "$trs")
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer' "$log"; then
		bad=$((bad + 1))
		say "sanitizer report in $log:"; grep -E -A12 'ERROR: |runtime error:' "$log" | indent 30
	fi
	if [ "$bad" -eq 0 ]; then
		result 0 "$t under ASan+UBSan ($pass passed, $skip skipped)"
	else
		result 1 "$t under ASan+UBSan ($bad failed)"
		grep -E '^not ok' "$log" | head -20 | indent 20
	fi
done
finish
