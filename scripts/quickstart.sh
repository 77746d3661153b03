#!/bin/sh
# Install dependencies, build, pin memory for real with io_uring
# (tests/helpers/pinload) and report it with pininspect.
set -e
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
out=$(mktemp)
trap 'kill "$pid" 2>/dev/null; rm -f "$out"' EXIT INT TERM
# a 4k-page buffer, a second one, and a THP-backed buffer; stopped on exit
./tests/helpers/pinload --no-stdin --size=64M --buffer=0:256K --buffer=8M:1M --thp-buffer=2M \
	>"$out" </dev/null &
pid=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
echo "pinload: $(cat "$out")"
grep -q '"pid"' "$out" || { echo "pinload did not start" >&2; exit 1; }
./pininspect "$pid"
