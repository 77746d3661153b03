#!/bin/sh
# Runs in the 6.1 guest (see vm-init): pininspect with the kpagepin source
# against pinload's io_uring buffers. TAP lines without numbers.
ok() { if "$@" >/dev/null 2>&1; then echo "ok - $T"; else echo "not ok - $T"; fi; }
command -v pininspect >/dev/null && command -v pinload >/dev/null || {
	echo "ok - pininspect in the guest # SKIP pininspect/pinload not in the initramfs"; exit 0; }
if [ "${KPP_LOADED:-0}" != 1 ]; then
	echo "ok - pininspect with kpagepin # SKIP kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?})"
	exit 0
fi
pinload --no-stdin --size=8M --buffer=0:256K --buffer=4M:64K >/tmp/pl.json 2>/tmp/pl.err &
plpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '"pid"' /tmp/pl.json; do sleep 0.1; i=$((i + 1)); done
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/pl.json)
b0=$(sed -n 's/.*"buffers": \[{"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/pl.json)
T="pinload started in the guest"; ok [ -n "$pid" ]
[ -n "$pid" ] || { cat /tmp/pl.err; exit 1; }

pininspect --probe >/tmp/probe.out 2>&1
T="probe sees kpagepin loaded, ABI 1, provider ${KPP_PROVIDER:-module}"
ok grep -q "kpagepin: *loaded (abi 1, ${KPP_PROVIDER:-module})" /tmp/probe.out
pininspect -r -n -o START,END,PAGES,VERDICT,SOURCE,PINS,EXCL "$pid" >/tmp/out 2>/tmp/err
T="pininspect exits 0"; ok [ $? = 0 ]
T="buffer 0 ($b0, 64 pages) pinned by source kpagepin, exclusive"
ok grep -q "^$b0 [0-9a-fx]* 64 pinned kpagepin ~1 yes$" /tmp/out
T="exactly 80 pinned pages (256K + 64K)"
ok [ "$(awk '$4 == "pinned" { n += $3 } END { print n + 0 }' /tmp/out)" = 80 ]
T="every other page not-pinned by kpagepin"
ok [ -z "$(awk '$4 != "pinned" && !($4 == "not-pinned" && $5 == "kpagepin")' /tmp/out)" ]
pininspect --json "$pid" >/tmp/json 2>&1
T="JSON names kpagepin among the sources"; ok grep -q '"kpagepin"' /tmp/json
T="VmPin accounted"; ok grep -q '"vmpin_accounted": true' /tmp/json
sed 's/^/# /' /tmp/out | head -20
kill "$plpid"
wait "$plpid" 2>/dev/null
exit 0
