#!/bin/sh
# Runs in the 6.1 guest (see vm-init): pininspect --watch while move_pages
# moves a pinned buffer and the unpinned pages after it to the other NUMA
# node (issue 4, deliver 5). The kernel leaves the pinned pages where they
# are and moves the others (guest-pin move says which); the watch must
# report no transition, the pinned pages preserved, and the migration
# events it saw. TAP lines without numbers; no jq here: the NDJSON is
# compact, sed reads it.
T=""
. /tests/lib-guest.sh
skip() { echo "ok - pininspect --watch with move_pages # SKIP $*"; exit 0; }
command -v pininspect >/dev/null && command -v pinload >/dev/null ||
	skip "pininspect/pinload not in the initramfs"
[ "${KPP_LOADED:-0}" = 1 ] || skip "kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?})"
[ -e /sys/devices/system/node/node1 ] || skip "guest has one NUMA node"
[ -d /sys/kernel/tracing/instances ] ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
[ -d /sys/kernel/tracing/instances ] || skip "tracefs unavailable (no /sys/kernel/tracing/instances)"
[ -d /sys/kernel/tracing/events/migrate/mm_migrate_pages ] ||
	skip "no migrate:mm_migrate_pages tracepoint in $(uname -r)"

# 1 MiB area, the first 256K (64 pages) registered; move all 256 pages.
np=256
npinned=64
start_pinload /tmp/wpl.json /tmp/wpl.err --size=1M --buffer=0:256K
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/wpl.json)
b0=$(sed -n 's/.*"buffers": \[{"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/wpl.json)
T="watch: pinload started"; ok test -n "$pid" -a -n "$b0"
[ -n "$pid" ] && [ -n "$b0" ] || { sed 's/^/# /' /tmp/wpl.err; exit 1; }

pininspect --watch --json --duration=6 "$pid" >/tmp/w.json 2>/tmp/w.err &
wpid=$!
i=0
while [ $i -lt 200 ] && ! grep -q '"type":"start"' /tmp/w.json; do
	kill -0 $wpid 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
T="watch: started (NDJSON start object)"; ok grep -q '"type":"start"' /tmp/w.json
T="watch: event set includes migrate:mm_migrate_pages"
ok grep -q '"type":"start".*"events":\[[^]]*"migrate:mm_migrate_pages"' /tmp/w.json

guest-pin move "$pid" "$b0" $np >/tmp/mv.out 2>&1
mrc=$?
wait $wpid
wrc=$?
sed -n '1s/^/# move_pages: /p' /tmp/mv.out

# The kernel's side: pinned pages kept their PFN and node, the rest moved.
target=$(sed -n 's/^target \([01]\) ret .*/\1/p' /tmp/mv.out)
kept=$(awk -v p=$npinned 'NF == 4 && $1 ~ /^[0-9]+$/ && $1 < p && $4 == 1 && $3 == $2' /tmp/mv.out | wc -l)
moved=$(awk -v p=$npinned -v t="$target" 'NF == 4 && $1 ~ /^[0-9]+$/ && $1 >= p && $4 == 0 && $3 == t' /tmp/mv.out | wc -l)
T="move_pages ran (status $mrc, target node ${target:-?})"; ok test $mrc = 0 -a -n "$target"
T="kernel: the $npinned pinned pages kept their PFN and node ($kept)"; ok [ "$kept" = $npinned ]
T="kernel: the $((np - npinned)) unpinned pages moved to node ${target:-?} ($moved)"
ok [ "$moved" = $((np - npinned)) ]

# The tool's side.
T="watch: exit 0 (got $wrc)"; ok [ $wrc = 0 ]
T="watch: no transition reported for the pinned pages"
ok [ "$(grep -c '"type":"transition"' /tmp/w.json)" = 0 ]
grep '"type":"summary"' /tmp/w.json | tail -n 1 >/tmp/wsum
sum=$(cat /tmp/wsum)
pres=$(echo "$sum" | sed -n 's/^[^[]*"transitions":{"preserved":\([0-9]*\),.*/\1/p')
T="watch summary: $npinned pages preserved (got ${pres:-none})"; ok [ "$pres" = $npinned ]
T="watch summary: pid $pid watched, $npinned pinned pages, not gone"
ok grep -q "\"processes\":\[{\"pid\":$pid,\"comm\":\"[^\"]*\",\"pinned_pages\":$npinned,[^}]*\"gone\":null,\"transitions\":{\"preserved\":$npinned," /tmp/wsum
mig=$(echo "$sum" | sed -n 's/^[^[]*"events":{[^}]*"migrate:mm_migrate_pages":\([0-9]*\).*/\1/p')
T="watch summary: migrate:mm_migrate_pages counted (${mig:-none})"; ok [ "${mig:-0}" -gt 0 ]
grep -v '"type":"summary"' /tmp/w.json | sed 's/^/# ndjson: /' | cut -c1-200
echo "$sum" | cut -c1-400 | sed 's/^/# summary: /'
sed 's/^/# watch stderr: /' /tmp/w.err | head -n 8

T="pininspect after the move: buffer 0 ($b0) still 64 pinned pages"
pininspect -r -n -o START,PAGES,VERDICT "$pid" >/tmp/wafter 2>&1
ok grep -q "^$b0 64 pinned$" /tmp/wafter
kill "$plpid"
wait "$plpid" 2>/dev/null
exit 0
