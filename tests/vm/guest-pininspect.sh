#!/bin/sh
# Runs in the 6.1 guest (see vm-init): pininspect with the kpagepin source
# against pinload's io_uring buffers. TAP lines without numbers.
. /tests/lib-guest.sh
command -v pininspect >/dev/null && command -v pinload >/dev/null || {
	echo "ok - pininspect in the guest # SKIP pininspect/pinload not in the initramfs"; exit 0; }
if [ "${KPP_LOADED:-0}" != 1 ]; then
	echo "ok - pininspect with kpagepin # SKIP kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?})"
	exit 0
fi
start_pinload /tmp/pl.json /tmp/pl.err --size=8M --buffer=0:256K --buffer=4M:64K
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

# A THP-backed buffer (issue 8): its pages are one folio, so kpagepin reads
# an exact count, the folio's _pincount. Before 6.3 io_uring pins each 4k
# page of a buffer (pin_user_pages), so one registration of the 2 MiB buffer
# leaves _pincount 512; from 6.3 it keeps one pin for a buffer inside one
# folio ("io_uring/rsrc: optimise registered huge pages"): 1.
case $(uname -r) in
[2-5].* | 6.[012].*) thp_pins=512 ;;
*) thp_pins=1 ;;
esac
thp=/sys/kernel/mm/transparent_hugepage/enabled
thp_why=""
if [ ! -r $thp ]; then
	thp_why="no $thp (kernel without CONFIG_TRANSPARENT_HUGEPAGE)"
else
	echo "# THP enabled: $(cat $thp)"
	# pinload asks with MADV_HUGEPAGE: madvise is enough
	grep -q '\[never\]' $thp && { echo madvise >$thp || thp_why="THP is [never] and cannot be set to madvise"; }
fi
if [ -z "$thp_why" ]; then
	start_pinload /tmp/plt.json /tmp/plt.err --size=64K --thp-buffer=2M
	tpid=$plpid
	T="THP pinload started"; ok grep -q '"pid"' /tmp/plt.json
	grep -q '"pid"' /tmp/plt.json || { sed 's/^/# /' /tmp/plt.err; exit 1; }
	sed 's/^/# pinload: /' /tmp/plt.json
	tk=$(sed -n 's/.*"kind": "thp", "addr": "0x[0-9a-f]*", "len": [0-9]*, "thp_kib": \([0-9]*\)}.*/\1/p' /tmp/plt.json)
	[ "$tk" = 2048 ] || thp_why="the kernel gave no THP for the 2 MiB buffer (thp_kib ${tk:-?})"
fi
if [ -n "$thp_why" ]; then
	echo "ok - THP buffer: exact pin count from kpagepin # SKIP $thp_why"
else
	tp=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/plt.json)
	ta=$(sed -n 's/.*"buffers": \[{"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/plt.json)
	te=$(printf '0x%x' $((ta + 2097152)))
	tfd=$(sed -n 's/.*"ring_fd": \([0-9]*\).*/\1/p' /tmp/plt.json)
	vmpin=$(sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$tp/status)
	echo "# THP buffer $ta-$te, ring fd $tfd, VmPin $vmpin kB"
	pininspect --json "$tp" >/tmp/tj 2>/tmp/err
	T="THP: pininspect --json exits 0"; ok [ $? = 0 ]
	sed 's/^/# err: /' /tmp/err
	awk -f /tests/guest-json.awk /tmp/tj >/tmp/tr
	awk '$5 != "not-pinned"' /tmp/tr | sed 's/^/# THP run: /'
	# ADDR END PFN PAGES VERDICT SOURCE PINS PIN_EXACT EXCLUSIVE KIND HOLDER
	T="THP: ranges of $ta-$te: 512 pages pinned by kpagepin, exact count $thp_pins (one registration), the same on every page, AnonExclusive, kind anon, holder io_uring fd $tfd buf 0"
	ok [ "$(awk -v a="$ta" -v e="$te" -v p=$thp_pins -v h="io_uring_fd_${tfd}_buf_0" '
		$1 == a { f = 1 } f { n += $4; last = $2
			if ($5 != "pinned" || $6 != "kpagepin" || $7 != p || $8 != "true" ||
			    $9 != "true" || $10 != "anon" || $11 != h) bad++ }
		last == e { f = 0 } END { print n + 0, bad + 0 }' /tmp/tr)" = "512 0" ]
	T="THP: the buffer's pages are the only pinned ones (512)"
	ok [ "$(awk '$5 == "pinned" { n += $4 } $5 == "maybe-pinned" { m++ } END { print n + 0, m + 0 }' /tmp/tr)" = "512 0" ]
	T="THP: summary pinned 512, vmpin_kib $vmpin = 2048 (the whole folio), accounted"
	ok [ "$vmpin $(grep -c -e '"vmpin_kib": 2048,' -e '"pinned": 512,' -e '"vmpin_accounted": true' /tmp/tj)" = "2048 3" ]
	# the table's columns say the same: an exact count, not the ~ estimate
	pininspect -r -n -o START,END,PAGES,VERDICT,SOURCE,PINS,EXACT "$tp" >/tmp/tt 2>&1
	T="THP: table shows '$ta $te 512 pinned kpagepin $thp_pins yes' (PINS exact, no ~; EXACT yes)"
	ok grep -q "^$ta $te 512 pinned kpagepin $thp_pins yes$" /tmp/tt
	grep " pinned " /tmp/tt | sed 's/^/# THP table: /'
	# page by page: one order-9 folio (512 contiguous PFNs from a 512-aligned
	# one), each page with the folio's count
	pininspect --pages --json "$tp" >/tmp/tpj 2>/dev/null
	T="THP: --pages: 512 contiguous PFNs (512-aligned), each pinned by kpagepin with exact count $thp_pins"
	ok [ "$(awk -f /tests/guest-json.awk /tmp/tpj | awk -v a="$ta" -v p=$thp_pins '
		$1 == a { f = 1; p0 = $3; if (p0 % 512) bad++ } n == 512 { f = 0 }
		f { if ($3 != p0 + n || $5 != "pinned" || $6 != "kpagepin" || $7 != p || $8 != "true") bad++; n++ }
		END { print n + 0, bad + 0 }')" = "512 0" ]
	kill "$tpid"
	wait "$tpid" 2>/dev/null
fi
exit 0
