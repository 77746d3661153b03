#!/bin/sh
# Runs in the guest (see vm-init): the bpf pin source must agree with
# kpagepin on every page of a pinload (issue 6, item 4): same verdict, pin
# count, exactness and AnonExclusive, page by page. 4k, THP and memfd
# buffers and the unregistered pages around them. TAP lines without numbers.
. /tests/lib-guest.sh
skip() { echo "ok - bpf source agrees with kpagepin on every page # SKIP $*"; exit 0; }
command -v pininspect >/dev/null && command -v pinload >/dev/null ||
	skip "pininspect/pinload not in the initramfs"
[ "${KPP_LOADED:-0}" = 1 ] || skip "kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?}): nothing to compare with"
# where a distribution mounts it; the bpf source finds its tracepoints there
[ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
pininspect --probe >/tmp/bprobe 2>&1
bl=$(sed -n 's/^bpf: *//p' /tmp/bprobe)
echo "# probe bpf: $bl; BTF: $(ls -l /sys/kernel/btf/vmlinux 2>&1)"
case $bl in
*"; usable"*) ;;
*) skip "bpf source unusable here: ${bl:-no bpf line in --probe}" ;;
esac

start_pinload /tmp/bpl.json /tmp/bpl.err --size=1M --buffer=0:64K --buffer=512K:16K --thp-buffer=2M \
	--memfd-buffer=64K --on-usr1=unregister
T="pinload started for the bpf comparison"; ok grep -q '"pid"' /tmp/bpl.json
grep -q '"pid"' /tmp/bpl.json || { sed 's/^/# /' /tmp/bpl.err; exit 1; }
sed 's/^/# pinload: /' /tmp/bpl.json
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/bpl.json)

t0=$(cut -d' ' -f1 /proc/uptime)
pininspect --source=bpf --pages -J "$pid" >/tmp/bpf.json 2>/tmp/bpf.err
rb=$?
t1=$(cut -d' ' -f1 /proc/uptime)
pininspect --source=kpagepin --pages -J "$pid" >/tmp/kpp.json 2>/tmp/kpp.err
rk=$?
echo "# --source=bpf --pages took $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
T="--source=bpf --pages -J exits 0"; ok [ $rb = 0 ]
sed 's/^/# bpf err: /' /tmp/bpf.err
T="--source=kpagepin --pages -J exits 0"; ok [ $rk = 0 ]
sed 's/^/# kpagepin err: /' /tmp/kpp.err
T="each JSON names its forced source and only that exact one"
ok [ "$(grep -c '"source": "kpagepin"' /tmp/bpf.json) $(grep -c '"source": "bpf"' /tmp/kpp.json)" = "0 0" \
	-a "$(grep -c '"source": "bpf"' /tmp/bpf.json)" -gt 0 -a "$(grep -c '"source": "kpagepin"' /tmp/kpp.json)" -gt 0 ]

# ADDR END PFN PAGES VERDICT SOURCE PINS PIN_EXACT EXCLUSIVE KIND HOLDER
# compared: address, PFN, verdict, pins, pin_exact, exclusive, kind, holder
awk -f /tests/guest-json.awk /tmp/bpf.json | awk '{ print $1, $3, $5, $7, $8, $9, $10, $11 }' >/tmp/bpf.pages
awk -f /tests/guest-json.awk /tmp/kpp.json | awk '{ print $1, $3, $5, $7, $8, $9, $10, $11 }' >/tmp/kpp.pages
nb=$(grep -c . /tmp/bpf.pages)
nk=$(grep -c . /tmp/kpp.pages)
np=$(awk '$3 == "pinned"' /tmp/kpp.pages | grep -c .)
echo "# pages: bpf $nb, kpagepin $nk, pinned by kpagepin $np"
T="both list the same $nk pages"; ok [ "$nb" = "$nk" -a "$nk" -gt 0 ]
T="kpagepin sees the 16 + 4 + 512 + 16 registered pages pinned"; ok [ "$np" = 548 ]
# the bpf column first, kpagepin second, where they differ
diff /tmp/bpf.pages /tmp/kpp.pages >/tmp/bdiff 2>&1
nd=$(grep -c '^[-+][^-+]' /tmp/bdiff)
T="bpf and kpagepin agree on every page (verdict, pins, exact, AnonExclusive): $nd lines differ"
ok [ "$nd" = 0 ]
head -n 20 /tmp/bdiff | sed 's/^/# diff bpf kpagepin: /'
# what was compared, one line per kind of page
awk '{ k = $3 " " $4 " " $5 " " $6 " " $7; if (!(k in n)) o[++m] = k; n[k]++ }
	END { for (i = 1; i <= m; i++) print n[o[i]], o[i] }' /tmp/kpp.pages |
	sed 's/^/# kpagepin pages (count verdict pins exact excl kind): /'

# after IORING_UNREGISTER_BUFFERS: the counts are back to 0, the same for both
kill -USR1 "$plpid"
i=0
while [ $i -lt 100 ] && ! grep -q '"event": "usr1"' /tmp/bpl.json; do sleep 0.1; i=$((i + 1)); done
T="pinload unregistered its buffers"; ok grep -q '"event": "usr1", "action": "unregister", "ok": true' /tmp/bpl.json
pininspect --source=bpf --pages -J "$pid" 2>/dev/null | awk -f /tests/guest-json.awk |
	awk '{ print $1, $3, $5, $7, $8, $9, $10, $11 }' >/tmp/bpf.after
pininspect --source=kpagepin --pages -J "$pid" 2>/dev/null | awk -f /tests/guest-json.awk |
	awk '{ print $1, $3, $5, $7, $8, $9, $10, $11 }' >/tmp/kpp.after
T="after unregister: kpagepin sees no pinned or maybe-pinned page"
ok [ -s /tmp/kpp.after -a -z "$(awk '$3 != "not-pinned" || $4 != 0' /tmp/kpp.after)" ]
nd=$(diff /tmp/bpf.after /tmp/kpp.after 2>&1 | grep -c '^[-+][^-+]')
T="after unregister: bpf and kpagepin agree on every page: $nd lines differ"
ok [ "$nd" = 0 -a -s /tmp/bpf.after ]
diff /tmp/bpf.after /tmp/kpp.after 2>&1 | head -n 10 | sed 's/^/# diff after: /'
kill "$plpid"
wait "$plpid" 2>/dev/null
exit 0
