#!/bin/sh
# Runs in the 6.1 guest (see vm-init): soft-RoCE (rdma_rxe on dummy0) and
# rdma-client's memory regions (ibv_reg_mr: 4k pages and a THP); pininspect
# with the kpagepin source must report those pages pinned, attribute them
# to the MRs it reads through RDMA netlink, and agree with VmPin.
# TAP lines without numbers.
up() { cut -d' ' -f1 /proc/uptime; }
t0=$(up)
. /tests/lib-guest.sh
skip() { echo "ok - rdma holders # SKIP $*"; exit 0; }
[ -f /etc/kpp-rdma ] && skip "$(cat /etc/kpp-rdma)"
command -v rdma-client >/dev/null || skip "rdma-client not in the initramfs"
command -v pininspect >/dev/null || skip "pininspect not in the initramfs"
m1=$(head -n 1 /etc/kpp-rdma-modules 2>/dev/null)
[ -n "$m1" ] || skip "no RDMA modules in the initramfs"
case $m1 in
/lib/modules/"$(uname -r)"/*) ;;
*) skip "RDMA modules are for another kernel than $(uname -r)" ;;
esac
# crc32_generic first: rxe needs the crc32 hash, modules.dep does not say so
while read -r m; do
	n=$(basename "$m" .ko)
	[ -e "/sys/module/$(echo "$n" | tr - _)" ] && continue
	insmod "$m" 2>/tmp/insmod.err || {
		echo "not ok - insmod $n: $(cat /tmp/insmod.err)"
		exit 1
	}
done </etc/kpp-rdma-modules
echo "# RDMA modules loaded: $(awk "BEGIN { printf \"%.1f\", $(up) - $t0 }") s"

ip link set dummy0 up 2>/dev/null
rdma link add rxe0 type rxe netdev dummy0 >/tmp/rl.err 2>&1
T="rdma link add rxe0 type rxe netdev dummy0"; ok [ -e /sys/class/infiniband/rxe0 ]
[ -e /sys/class/infiniband/rxe0 ] || { sed 's/^/# /' /tmp/rl.err; exit 1; }

rdma-client --no-stdin >/tmp/rc.json 2>/tmp/rc.err &
rcpid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"pid"' /tmp/rc.json && kill -0 $rcpid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
T="rdma-client registered its MRs"; ok grep -q '"pid"' /tmp/rc.json
grep -q '"pid"' /tmp/rc.json || { sed 's/^/# /' /tmp/rc.err; exit 1; }
sed 's/^/# client: /' /tmp/rc.json
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/rc.json)
# "name": "4k", "addr": "0x..", "len": N, "lkey": N, ...
field() {	# field MR KEY
	sed -n "s/.*\"name\": \"$1\", \([^}]*\)}.*/\1/p" /tmp/rc.json |
		sed -n "s/.*\"$2\": \"*\([0-9a-fx]*\)\"*.*/\1/p"
}
a4=$(field 4k addr); l4=$(field 4k len); k4=$(field 4k lkey)
ath=$(field thp addr); lth=$(field thp len); kth=$(field thp lkey)
thp=$(sed -n 's/.*"name": "thp", [^}]*"thp": \([a-z]*\)}.*/\1/p' /tmp/rc.json)
odp=$(sed -n 's/.*"odp": "\([^"]*\)".*/\1/p' /tmp/rc.json)
vmpin=$(sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
vmlck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
echo "# VmPin $vmpin kB, VmLck $vmlck kB, THP backed: $thp, ODP: $odp"
rdma resource show mr 2>&1 | sed 's/^/# rdma: /'

T="ODP registration on rxe (6.1: no ODP, EINVAL)"
case $odp in
EINVAL | EOPNOTSUPP) echo "ok - $T: refused with $odp" ;;
registered*) echo "ok - $T: registered ($odp): must not pin" ;;
*) echo "not ok - $T: $odp" ;;
esac
T="VmPin counts both MRs ($(( (l4 + lth) / 1024 )) kB), VmLck unchanged (0)"
ok [ "$vmpin" = $(( (l4 + lth) / 1024 )) -a "$vmlck" = 0 ]

# Holder ranges only: the kernel gives no MR address, nothing to place on.
pininspect --source=io_uring --json "$pid" >/tmp/json 2>/tmp/err
T="--source=io_uring exits 0"; ok [ $? = 0 ]
sed 's/^/# err: /' /tmp/err
T="JSON lists both MRs read through RDMA netlink, unplaced without an exact source"
ok [ "$(grep -c '"placement": "unplaced"' /tmp/json)" = 2 ]

# The exact source: kpagepin, else bpf (6.1 under lockdown: probe_read path).
if [ "${KPP_LOADED:-0}" = 1 ]; then
	src=kpagepin
elif pininspect --source=bpf -n -o START "$pid" >/dev/null 2>/tmp/err; then
	src=bpf
else
	sed 's/^/# bpf: /' /tmp/err
	echo "ok - MR attribution # SKIP no exact source (kpagepin not loaded, bpf unusable; lockdown=${KPP_LOCKDOWN:-?})"
	kill $rcpid
	wait $rcpid 2>/dev/null
	exit 0
fi
echo "# exact source: $src"

pininspect --source=$src -r -n -o START,END,PAGES,VERDICT,SOURCE,PINS,HOLDER "$pid" >/tmp/raw 2>/tmp/err
T="pininspect exits 0"; ok [ $? = 0 ]
sed 's/\\x20/ /g' /tmp/raw >/tmp/out	# raw cells escape blanks
sed 's/^/# err: /' /tmp/err
awk '$4 == "pinned"' /tmp/out | sed 's/^/# /'
p4=$((l4 / 4096))
e4=$(printf '0x%x' $((a4 + l4)))
T="4k MR ($a4, $p4 pages) pinned by $src, holder rdma mr (lkey $(printf 0x%x "$k4"))"
ok grep -q "^$a4 $e4 $p4 pinned $src ~1 rdma mr [0-9]* (lkey $(printf 0x%x "$k4"))$" /tmp/out
eth=$(printf '0x%x' $((ath + lth)))
# the head page of the THP may form a run of its own (its flags differ)
T="THP MR ($ath-$eth, 512 pages) pinned by $src (exact pin count), holder rdma mr (lkey $(printf 0x%x "$kth"))"
ok [ "$(awk -v k="(lkey $(printf 0x%x "$kth"))" -v src=$src '
	$4 == "pinned" && $5 == src && $6 !~ /~/ && $7 == "rdma" && index($0, k) {
		if (!n) s = $1; e = $2; n += $3 }
	END { print s, e, n }' /tmp/out)" = "$ath $eth 512" ]
T="pinned pages = VmPin ($vmpin kB), all attributed to an rdma mr"
ok [ "$(awk '$4 == "pinned" && $7 == "rdma" { n += $3 } END { print n * 4 }' /tmp/out)" = "$vmpin" -a \
	-z "$(awk '$4 == "pinned" && $7 != "rdma"' /tmp/out)" ]
pininspect --source=$src --json "$pid" >/tmp/json 2>&1
T="JSON: vmpin_accounted true"; ok grep -q '"vmpin_accounted": true' /tmp/json
T="JSON: holder names the MR"; ok grep -q '"holder": "rdma mr [0-9]* (lkey ' /tmp/json
T="JSON: both MRs placed by length"; ok [ "$(grep -c '"placement": "length"' /tmp/json)" = 2 ]
pininspect --source=$src "$pid" 2>&1 | awk '$4 != "not-pinned"' | sed 's/^/# table: /'
t1=$(up)
echo "# rdma setup + checks: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s; guest uptime at result: $t1 s"
kill $rcpid
wait $rcpid 2>/dev/null
exit 0
