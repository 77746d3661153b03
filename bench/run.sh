#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/run.sh: pininspect against the kernel's page-types and a floor reader,
# side by side on the same target process (issue 9). Not part of make check.
# Needs root (PFNs, /proc/kpageflags, the bpf source), python3, GNU time
# (apt install time: peak RSS), a C compiler
# and Debian's linux-source-6.1 (apt install linux-source-6.1) for page-types,
# which is built here at bench time in a temporary directory, never kept in
# this repository.
#
#   sudo bench/run.sh                    # 8 GiB, 4k and THP, 5 runs each
#   sudo BENCH_GIB="1 4 8" bench/run.sh   # a scale table
#
# Environment:
#   BENCH_GIB            sizes of the target in GiB (default 8)
#   BENCH_VARIANTS       "4k thp" (default), or one of them
#   BENCH_RUNS           timed runs per tool (default 5; medians reported)
#   BENCH_SOURCES        pininspect pin sources (default "io_uring bpf"; add
#                        kpagepin where the module or patched kernel exists)
#   BENCH_CALLGRIND=1    also count user-space instructions with callgrind
#   BENCH_PININSPECT_OLD another pininspect binary to compare (before/after)
#   BENCH_PAGE_TYPES     a page-types binary to use instead of building one
#   BENCH_LINUX_SOURCE   the tarball (default /usr/src/linux-source-6.1.tar.xz)
#   BENCH_NO_BUILD=1     do not run make in the tree
#   BENCH_OUT            results file (default bench/results-<UTC date>.md;
#                        each run appends its table)
#   BENCH_TMP            work directory (default: a new one, removed at exit)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${BENCH_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
out=${BENCH_OUT:-$top/bench/results-$(date -u +%F).md}

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (PFNs, /proc/kpageflags and the bpf source need it)" >&2
	exit 1
fi
if [ -n "${BENCH_TMP:-}" ]; then
	tmp=$BENCH_TMP
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d /tmp/pininspect-bench.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
fi

# 1. pininspect and pinload from this tree
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	(
		cd "$top"
		[ -f Makefile ] || { ./autogen.sh && ./configure -q; }
		make -j"$(nproc)" pininspect tests/helpers/pinload >"$tmp/make.log" 2>&1
	) || { cat "$tmp/make.log" >&2; exit 1; }
fi

# 2. the floor reader
${CC:-cc} -O2 -Wall -Wextra -o "$tmp/floor" "$top/bench/floor.c"

# 3. page-types from the kernel source: tools/vm (6.1) or tools/mm (6.3+)
#    with what its Makefile needs: tools/lib (libapi), tools/include,
#    tools/scripts, tools/build and two uapi headers
page_types=${BENCH_PAGE_TYPES:-}
if [ -z "$page_types" ]; then
	[ -r "$tarball" ] || {
		echo "bench: $tarball missing: apt install linux-source-6.1, or set BENCH_PAGE_TYPES" >&2
		exit 1
	}
	mkdir -p "$tmp/linux"
	echo "bench: extracting page-types and its libraries from $tarball" >&2
	tar -xJf "$tarball" -C "$tmp/linux" --wildcards \
		'*/tools/[mv]m/*' '*/tools/lib/*' '*/tools/include/*' '*/tools/scripts/*' \
		'*/tools/build/*' '*/include/uapi/linux/magic.h' \
		'*/include/uapi/linux/kernel-page-flags.h'
	tooldir=$(ls -d "$tmp"/linux/*/tools/mm "$tmp"/linux/*/tools/vm 2>/dev/null | head -n1)
	make -C "$tooldir" page-types >"$tmp/page-types.log" 2>&1 ||
		{ cat "$tmp/page-types.log" >&2; exit 1; }
	page_types=$tooldir/page-types
fi

BENCH_PAGE_TYPES=$page_types
BENCH_FLOOR=$tmp/floor
BENCH_PININSPECT=$top/pininspect
BENCH_PINLOAD=$top/tests/helpers/pinload
BENCH_TMP=$tmp
BENCH_OUT=$out
export BENCH_PAGE_TYPES BENCH_FLOOR BENCH_PININSPECT BENCH_PINLOAD BENCH_TMP BENCH_OUT

{
	echo
	echo "## $(date -u '+%F %H:%M') UTC: $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?'), kernel $(uname -r), $(nproc) CPUs"
	echo
	echo "Target: pinload --size=N G (touched), --no-thp (4k) or --thp, 256 KiB registered with io_uring."
	echo "page-types: $(basename "$(dirname "$(dirname "$(dirname "$page_types")")")")/tools/$(basename "$(dirname "$page_types")") (-p PID, -p PID -L)."
	echo
} | tee -a "$out"
python3 "$top/bench/measure.py"
echo "bench: results appended to $out" >&2
