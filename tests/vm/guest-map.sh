#!/bin/sh
# Runs in the 6.1 guest (see vm-init): `pininspect --map` (issue 10) with the
# kpagepin source. pinload A munmaps buffer 0 on SIGUSR1: its 64 pages must
# show as an orphaned pin attributed to A's io_uring buffer 0. pinload B
# pins 256 MiB: the memory blocks (without holes) holding its pages must be
# predicted blocked by pins, and the real offline through
# /sys/devices/system/memory/memoryN/state must fail while the pin is held
# (6.1 retries migrating the pinned pages until a signal, sent after 3 s;
# a block failing at once with EBUSY has other unmovable pages: the next
# one is tried). After unregister that block is not blocked by pins, and
# the real offline confirms it (or other unmovable pages block it: said).
# TAP lines without numbers.
. /tests/lib-guest.sh
command -v pininspect >/dev/null && command -v pinload >/dev/null || {
	echo "ok - pininspect --map in the guest # SKIP pininspect/pinload not in the initramfs"; exit 0; }
if [ "${KPP_LOADED:-0}" != 1 ]; then
	echo "ok - pininspect --map with kpagepin # SKIP kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?})"
	exit 0
fi
start() {	# start OUT ARGS...: pid of pinload in $pl
	out=$1; shift
	pinload --no-stdin "$@" >"$out" 2>"$out.err" &
	i=0
	while [ $i -lt 300 ] && ! grep -q '"pid"' "$out"; do sleep 0.1; i=$((i + 1)); done
	pl=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' "$out")
}
usr1() {	# usr1 PID OUT: signal and wait for the event line
	kill -USR1 "$1"
	i=0
	while [ $i -lt 50 ] && ! grep -q '"usr1"' "$2"; do sleep 0.1; i=$((i + 1)); done
}

start /tmp/ma.json --size=4M --buffer=0:256K --buffer=1M:64K --on-usr1=munmap:0 --comm=map-orphan
a=$pl
T="pinload A started"; ok [ -n "$a" ]
[ -n "$a" ] || { sed 's/^/# /' /tmp/ma.json.err; exit 1; }
pininspect --map -r -n "$a" >/tmp/m1 2>/tmp/m1.err
T="--map exits 0 with kpagepin"; ok [ $? = 0 ]
sed 's/^/# /' /tmp/m1.err
T="--map: A owns 80 pinned anon pages (64 + 16), none orphaned"
ok [ "$(awk -v p="$a" '$8 == "anon" && $9 == "no" && index($10, p "\\x20") == 1 { n += $3 } END { print n + 0 }' /tmp/m1)" = 80 ]
pininspect --map --json "$a" >/tmp/m1.json 2>&1
T="--map --json: schema 1, source kpagepin"
ok grep -q '"source": "kpagepin"' /tmp/m1.json
usr1 "$a" /tmp/ma.json
T="A unmapped buffer 0"; ok grep -q '"action": "munmap:0", "ok": true' /tmp/ma.json
pininspect --map -r -n "$a" >/tmp/m2 2>&1
T="after munmap: 64 orphaned pages attributed to A's io_uring buffer 0"
ok [ "$(awk -v p="(pid\\\\x20$a\\\\x20" '$8 == "anon" && $9 == "yes" && index($11, "buf\\x200\\x20" p) { n += $3 } END { print n + 0 }' /tmp/m2)" = 64 ]
T="after munmap: A still owns buffer 1 (16 pages)"
ok [ "$(awk -v p="$a" '$8 == "anon" && $9 == "no" && index($10, p "\\x20") == 1 { n += $3 } END { print n + 0 }' /tmp/m2)" = 16 ]
sed 's/^/# /' /tmp/m2 | tail -n 3
kill "$a"; wait "$a" 2>/dev/null

if [ ! -d /sys/devices/system/memory ]; then
	# the patched tinyconfig guest kernel has no CONFIG_MEMORY_HOTPLUG
	echo "ok - memory-block planner and real offline # SKIP no /sys/devices/system/memory (CONFIG_MEMORY_HOTPLUG)"
	exit 0
fi
start /tmp/mb.json --size=512M --buffer=0:256M --on-usr1=unregister --comm=map-block
b=$pl
T="pinload B started"; ok [ -n "$b" ]
[ -n "$b" ] || { sed 's/^/# /' /tmp/mb.json.err; exit 1; }
pininspect --map -r -n "$b" >/tmp/m3 2>&1
awk -v p="$b" '$8 == "anon" && $9 == "no" && index($10, p "\\x20") == 1 && $6 != "-" { print $6 }' /tmp/m3 | sort -n | uniq -c |
	sort -rn >/tmp/blocks
T="B's pinned pages lie in $(wc -l </tmp/blocks) memory blocks"; ok [ -s /tmp/blocks ]
[ -s /tmp/blocks ] || { sed 's/^/# /' /tmp/m3; kill "$b"; exit 1; }
# blocks without holes (else the offline is refused outright: EINVAL)
: >/tmp/cands
while read -r n cand; do
	pininspect --map --memory-block "$cand" >/tmp/m4.$cand 2>&1
	grep -q "not System RAM" /tmp/m4.$cand || echo "$cand" >>/tmp/cands
done </tmp/blocks
T="B has pinned pages in a block without holes ($(tr '\n' ' ' </tmp/cands))"; ok [ -s /tmp/cands ]
[ -s /tmp/cands ] || { kill "$b"; exit 1; }
for blk in $(cat /tmp/cands); do
	T="memory block $blk predicted blocked by pins"; ok grep -q "offlining is BLOCKED by" /tmp/m4.$blk
done
sed 's/^/# /' /tmp/m4.$(head -n 1 /tmp/cands) | tail -n 3
# the real offline only inside the guest that vm-init runs (KPP_PROVIDER set)
if [ -z "${KPP_PROVIDER:-}" ]; then
	echo "ok - real offline # SKIP not in the test guest"
	kill "$b"; wait "$b" 2>/dev/null
	exit 0
fi
# While pinned: 6.1 retries migrating the pinned pages until the writer gets
# a signal (we send it after 3 s), unless other unmovable pages make it
# fail at once with EBUSY. A block of the first kind is the one to confirm.
blk=""
for cand in $(cat /tmp/cands); do
	st=/sys/devices/system/memory/memory$cand/state
	echo "# block $cand: state $(cat $st), valid_zones $(cat /sys/devices/system/memory/memory$cand/valid_zones 2>/dev/null), removable $(cat /sys/devices/system/memory/memory$cand/removable 2>/dev/null)"
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 3 sh -c "echo offline > $st" 2>/tmp/off1.err
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	secs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
	echo "# offline of block $cand while pinned: status $rc after $secs s: $(cat /tmp/off1.err)"
	T="real offline of block $cand fails while the pin is held (state $(cat $st))"
	ok [ $rc != 0 -a "$(cat $st)" = online ]
	[ "$(cat $st)" = online ] || echo online >$st
	if [ $rc = 124 ] || [ $rc = 143 ]; then
		blk=$cand	# kept retrying: the pins were what blocked it
		break
	fi
done
usr1 "$b" /tmp/mb.json
T="B unregistered its buffers"; ok grep -q '"action": "unregister", "ok": true' /tmp/mb.json
[ -n "$blk" ] || blk=$(head -n 1 /tmp/cands)
st=/sys/devices/system/memory/memory$blk/state
pininspect --map --memory-block "$blk" >/tmp/m5 2>&1
T="after unregister: block $blk not blocked by pins"; ok grep -q "not blocked by pins" /tmp/m5
timeout 10 sh -c "echo offline > $st" 2>/tmp/off2.err
rc=$?
echo "# real offline of block $blk after unregister: status $rc, state $(cat $st) $(cat /tmp/off2.err)"
if [ "$(cat $st)" = offline ]; then
	echo online >$st 2>/dev/null
	echo "# block $blk onlined again: $(cat $st)"
fi
if [ $rc = 0 ] && [ "$(cat $st)" = online ]; then
	echo "ok - the guest confirms the prediction: block $blk offlined once unpinned (and onlined again)"
else
	echo "ok - block $blk offline after unregister: other unmovable pages block it (status $rc) # SKIP not confirmable here"
fi
kill "$b"; wait "$b" 2>/dev/null
exit 0
