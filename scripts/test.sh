#!/bin/bash
# Build and run the whole test suite (unit, fixtures, live host tests, qemu
# guest tests); the last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1
./scripts/build.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
out=$(mktemp "${TMPDIR:-/tmp}/pininspect-check.XXXXXX") || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
trap 'rm -f "$out"' EXIT
make -j"$(nproc)" -k check >"$out" 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$out" | grep -v '^PASS' || true
for log in $(find tests -name '*.log' ! -name test-suite.log); do
	grep -q '^not ok' "$log" 2>/dev/null && { echo "--- $log"; tail -30 "$log"; }
done
sum=$(awk '/^# (PASS|FAIL|SKIP|XPASS|ERROR|XFAIL):/ { sub(":", "", $2); n[$2] += $3 }
	END { printf "%d passed, %d failed, %d skipped", n["PASS"] + n["XFAIL"],
	      n["FAIL"] + n["XPASS"] + n["ERROR"], n["SKIP"] }' "$out")
[ -n "$sum" ] || { tail -40 "$out"; sum="0 passed, 1 failed, 0 skipped"; rc=1; }
echo "$sum"
exit $rc
