#!/bin/bash
# Build and run the libFuzzer targets of tests/fuzz.
#
#   run.sh build            build every target into $FUZZ_OUT (default
#                           $top_builddir/tests/fuzz/out)
#   run.sh run [SECS] [T..] build, then fuzz each target (all by default) for
#                           SECS seconds (default $FUZZ_SECONDS or 60);
#                           exit 1 on any crash, leak or timeout
#   run.sh tap [SECS]       the same as TAP (used by fuzz-short.test)
#   run.sh replay [T..]     run each target once over its seeds and the
#                           regression inputs in tests/fuzz/regress/<target>/
#   run.sh have-clang       exit 0 when clang can link -fsanitize=fuzzer
#
# Environment: CLANG (default clang-14, else clang), top_srcdir,
# top_builddir (where config.h is), FUZZ_OUT, FUZZ_JOBS (make -j for builds).
# New corpus entries go to $FUZZ_OUT/corpus/<target>; crash, leak and
# timeout inputs to $FUZZ_OUT/artifacts/<target>/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FUZZ_OUT:=$top_builddir/tests/fuzz/out}"
if [ -z "${CLANG:-}" ]; then
	CLANG=clang
	command -v clang-14 >/dev/null 2>&1 && CLANG=clang-14
fi
TARGETS="maps status fdinfo kpagepin scan mkfixture escape procfiles savefile"
# the whole library (it grows: list it, do not hard-code it) and the JSON writer
LIBSRC="$(cd "$top_srcdir" && ls src/lib/*.c) src/jsonwrt.c"
# the tool's sources (src/watch.c is included by fuzz-savefile itself)
TOOLSRC="$(cd "$top_srcdir" && ls src/*.c | grep -v -e '^src/jsonwrt.c$' -e '^src/watch.c$')"
# pkg-config flags configure found, for the library's optional dependencies
pkgvar() { # pkgvar SUFFIX: the values of KMOD_SUFFIX, TRACEFS_SUFFIX, ... in the Makefile
	local v
	for v in KMOD TRACEFS TRACEEVENT LIBBPF SMARTCOLS PROC2 URING; do
		sed -n "s/^${v}_$1 = //p" "$top_builddir/Makefile" 2>/dev/null
	done | tr '\n' ' '
}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS_F="-g -O1 -std=gnu11 $SAN -I$top_srcdir/include -I$top_srcdir -I$top_srcdir/src -I$top_builddir"

have_clang() {
	local t
	command -v "$CLANG" >/dev/null 2>&1 || { echo "no $CLANG"; return 1; }
	t=$(mktemp -d) || return 1
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$t/t.c"
	if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" >"$t/err" 2>&1; then
		echo "$CLANG cannot link -fsanitize=fuzzer (libclang-rt-dev missing?): $(head -c 300 "$t/err")"
		rm -rf "$t"; return 1
	fi
	rm -rf "$t"
	return 0
}

# objects of the library (and of the tool, for targets that include one of
# its files) with coverage and sanitizers; sets OBJS, TOOLOBJS (empty when
# a tool source does not build: only the targets needing it fail)
build_objs() {
	local obj="$FUZZ_OUT/obj" s o inc
	[ -f "$top_builddir/config.h" ] || { echo "no $top_builddir/config.h: run configure first" >&2; return 1; }
	mkdir -p "$obj" "$FUZZ_OUT/bin" || return 1
	OBJS=""
	for s in $LIBSRC; do
		o="$obj/$(echo "$s" | tr / _).o"
		if [ ! -f "$o" ] || [ "$top_srcdir/$s" -nt "$o" ] || [ "$top_builddir/config.h" -nt "$o" ] ||
		   [ "$here/run.sh" -nt "$o" ] || [ -n "$(find "$top_srcdir/include" "$top_srcdir/src/jsonwrt.h" -newer "$o" 2>/dev/null | head -1)" ]; then
			# the bpf source as its no-bpf stub: no skeleton, no libbpf
			case "$s" in
			*/pinsrc-bpf.c) inc="-D_GNU_SOURCE" ;;
			*) inc="-include $top_builddir/config.h" ;;
			esac
			"$CLANG" $CFLAGS_F $(pkgvar CFLAGS) -fsanitize=fuzzer-no-link $inc \
				-c "$top_srcdir/$s" -o "$o" || return 1
		fi
		OBJS="$OBJS $o"
	done
	# main() renamed so libFuzzer's is used
	TOOLOBJS=""
	for s in $TOOLSRC; do
		o="$obj/$(echo "$s" | tr / _).o"
		if [ ! -f "$o" ] || [ "$top_srcdir/$s" -nt "$o" ] || [ "$here/run.sh" -nt "$o" ] ||
		   [ -n "$(find "$top_srcdir/include" "$top_srcdir/src" -maxdepth 1 -name '*.h' -newer "$o" 2>/dev/null | head -1)" ]; then
			if ! "$CLANG" $CFLAGS_F $(pkgvar CFLAGS) -fsanitize=fuzzer-no-link -Dmain=pininspect_main \
				-include "$top_builddir/config.h" -c "$top_srcdir/$s" -o "$o"; then
				TOOLOBJS=""; return 0
			fi
		fi
		TOOLOBJS="$TOOLOBJS $o"
	done
}

build_target() { # build_target T (after build_objs)
	local extra=""
	if [ "$1" = savefile ]; then
		[ -n "$TOOLOBJS" ] || { echo "the tool's sources do not build" >&2; return 1; }
		extra="$TOOLOBJS"
	fi
	"$CLANG" $CFLAGS_F $(pkgvar CFLAGS) -fsanitize=fuzzer -include "$top_builddir/config.h" \
		"$here/fuzz-$1.c" $OBJS $extra $(pkgvar LIBS) -o "$FUZZ_OUT/bin/fuzz-$1"
}

build() {
	local t rc=0
	build_objs || return 1
	for t in ${*:-$TARGETS}; do
		build_target "$t" || { echo "fuzz-$t: does not build" >&2; rc=1; }
	done
	return $rc
}

# fuzz_one TARGET SECS: 0 clean, else libFuzzer's status; log in $FUZZ_OUT/log/TARGET
fuzz_one() {
	local t="$1" secs="$2" work="$FUZZ_OUT/corpus/$1" art="$FUZZ_OUT/artifacts/$1"
	local seeds="$here/corpus/$1" dict="" extra=()
	mkdir -p "$work" "$art" "$FUZZ_OUT/log"
	[ -f "$here/$t.dict" ] && extra+=(-dict="$here/$t.dict")
	[ -d "$here/regress/$t" ] && extra+=("$here/regress/$t")
	ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
	"$FUZZ_OUT/bin/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$art/" \
		"$work" "$seeds" "${extra[@]}" >"$FUZZ_OUT/log/$t" 2>&1
}

replay_one() {
	local t="$1" dirs=("$here/corpus/$1")
	mkdir -p "$FUZZ_OUT/log" "$FUZZ_OUT/artifacts/$t"
	[ -d "$here/regress/$t" ] && dirs+=("$here/regress/$t")
	"$FUZZ_OUT/bin/fuzz-$t" -runs=0 -artifact_prefix="$FUZZ_OUT/artifacts/$t/" "${dirs[@]}" >"$FUZZ_OUT/log/$t.replay" 2>&1
}

summary() { # one line of libFuzzer's stats for a log
	awk '/^stat::number_of_executed_units/ { e = $2 } /^stat::peak_rss_mb/ { r = $2 }
		/^#[0-9]+.*cov:/ { for (i = 1; i <= NF; i++) if ($i == "cov:") c = $(i + 1) }
		END { printf "%s runs, cov %s, peak rss %s MiB", e, c, r }' "$1"
}

cmd="${1:-run}"; shift || true
case "$cmd" in
have-clang)
	have_clang ;;
build)
	have_clang >&2 || exit 77
	build "$@" ;;
run|tap)
	secs="${1:-${FUZZ_SECONDS:-60}}"; [ $# -gt 0 ] && shift
	targets="${*:-$TARGETS}"
	if [ "$cmd" = tap ]; then
		why=$(have_clang) || { echo "1..0 # SKIP $why"; exit 0; }
		mkdir -p "$FUZZ_OUT/log" || exit 1
		n=$(echo $targets | wc -w)
		echo "1..$((n * 2 + 1))"
		if ! build_objs >"$FUZZ_OUT/build.log" 2>&1; then
			echo "not ok 1 - build the library for fuzzing"; sed 's/^/# /' "$FUZZ_OUT/build.log" | tail -30
			exit 1
		fi
		echo "ok 1 - build the library for fuzzing with $CLANG"
		i=1; rc=0
		for t in $targets; do
			i=$((i + 1))
			if ! build_target "$t" >"$FUZZ_OUT/log/$t.build" 2>&1; then
				echo "not ok $i - $t: build"; rc=1
				tail -20 "$FUZZ_OUT/log/$t.build" | sed 's/^/# /'
				i=$((i + 1)); echo "not ok $i - $t: not fuzzed (no binary)"
				continue
			fi
			if replay_one "$t"; then echo "ok $i - $t: builds; seeds and regression inputs replay cleanly"
			else echo "not ok $i - $t: replay of seeds/regressions"; rc=1
				tail -40 "$FUZZ_OUT/log/$t.replay" | sed 's/^/# /'; fi
			i=$((i + 1))
			if fuzz_one "$t" "$secs"; then
				echo "ok $i - $t: ${secs}s of fuzzing clean ($(summary "$FUZZ_OUT/log/$t"))"
			else
				echo "not ok $i - $t: crash, leak or timeout; inputs in $FUZZ_OUT/artifacts/$t/"; rc=1
				grep -E 'ERROR|SUMMARY|invariant|runtime error|==[0-9]+==|#[0-9]+ 0x' "$FUZZ_OUT/log/$t" |
					head -40 | sed 's/^/# /'
			fi
		done
		exit $rc
	fi
	have_clang >&2 || exit 77
	build $targets || exit 1
	rc=0
	for t in $targets; do
		if fuzz_one "$t" "$secs"; then
			echo "fuzz-$t: clean for ${secs}s ($(summary "$FUZZ_OUT/log/$t"))"
		else
			echo "fuzz-$t: FAILED, see $FUZZ_OUT/log/$t and $FUZZ_OUT/artifacts/$t/"; rc=1
			tail -30 "$FUZZ_OUT/log/$t"
		fi
	done
	exit $rc ;;
replay)
	have_clang >&2 || exit 77
	build "$@" || exit 1
	rc=0
	for t in ${*:-$TARGETS}; do
		replay_one "$t" && echo "fuzz-$t: replay clean" || { echo "fuzz-$t: replay FAILED"; tail -30 "$FUZZ_OUT/log/$t.replay"; rc=1; }
	done
	exit $rc ;;
*)
	sed -n '2,17p' "$0" >&2; exit 64 ;;
esac
