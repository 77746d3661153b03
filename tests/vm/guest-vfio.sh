#!/bin/sh
# Runs in the 6.1 guest's vfio boot (q35, intel-iommu, qemu's edu device;
# see run-vm-tests.sh): vfio-client maps 1 MiB with VFIO_IOMMU_MAP_DMA.
# type1 pins the pages and charges VmLck, not VmPin; pininspect with the
# kpagepin source must report them pinned with the holder "vfio (VmLck)",
# and its audit check vfio-pins must report them.
# TAP lines without numbers.
up() { cut -d' ' -f1 /proc/uptime; }
t0=$(up)
. /tests/lib-guest.sh
skip() { echo "ok - vfio holder class # SKIP $*"; exit 0; }
[ -f /etc/kpp-vfio-modules ] || skip "no VFIO modules in the initramfs"
command -v vfio-client >/dev/null || skip "vfio-client not in the initramfs"
command -v pininspect >/dev/null || skip "pininspect not in the initramfs"
case $(head -n 1 /etc/kpp-vfio-modules) in
/lib/modules/"$(uname -r)"/*) ;;
*) skip "VFIO modules are for another kernel than $(uname -r)" ;;
esac
while read -r m; do
	n=$(basename "$m" .ko | tr - _)
	[ -e "/sys/module/$n" ] && continue
	insmod "$m" 2>/tmp/insmod.err || {
		echo "not ok - insmod $n: $(cat /tmp/insmod.err)"
		exit 1
	}
done </etc/kpp-vfio-modules

# qemu's edu device (1234:11e8), in an IOMMU group of its own
dev=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && dev=$d
done
T="edu PCI device present"; ok [ -n "$dev" ]
[ -n "$dev" ] || exit 1
T="edu is in an IOMMU group (intel_iommu=on)"; ok [ -e "$dev/iommu_group" ]
[ -e "$dev/iommu_group" ] || { dmesg | grep -i -e DMAR -e iommu | tail -5 | sed 's/^/# /'; exit 1; }
group=$(basename "$(readlink "$dev/iommu_group")")
echo 1234 11e8 >/sys/bus/pci/drivers/vfio-pci/new_id
i=0
while [ $i -lt 50 ] && [ ! -e "/dev/vfio/$group" ]; do sleep 0.1; i=$((i + 1)); done
T="edu bound to vfio-pci: /dev/vfio/$group"; ok [ -e "/dev/vfio/$group" ]

vfio-client "$group" >/tmp/vc.json 2>/tmp/vc.err &
vcpid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"pid"' /tmp/vc.json && kill -0 $vcpid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
T="vfio-client mapped its buffer (VFIO_IOMMU_MAP_DMA)"; ok grep -q '"pid"' /tmp/vc.json
grep -q '"pid"' /tmp/vc.json || { sed 's/^/# /' /tmp/vc.err; exit 1; }
sed 's/^/# client: /' /tmp/vc.json
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/vc.json)
addr=$(sed -n 's/.*"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/vc.json)
len=$(sed -n 's/.*"len": \([0-9]*\).*/\1/p' /tmp/vc.json)
vmpin=$(sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
vmlck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
T="type1 charges VmLck ($vmlck kB = $((len / 1024)) kB), not VmPin ($vmpin kB)"
ok [ "$vmlck" = $((len / 1024)) -a "$vmpin" = 0 ]

if [ "${KPP_LOADED:-0}" != 1 ]; then
	echo "ok - vfio holder class # SKIP kpagepin not loaded"
	kill $vcpid
	exit 0
fi
pininspect -r -n -o START,END,PAGES,VERDICT,SOURCE,HOLDER "$pid" >/tmp/raw 2>/tmp/err
T="pininspect exits 0"; ok [ $? = 0 ]
sed 's/\\x20/ /g' /tmp/raw >/tmp/out	# raw cells escape blanks
sed 's/^/# err: /' /tmp/err
end=$(printf '0x%x' $((addr + len)))
T="the mapped buffer ($addr-$end) is pinned by kpagepin, holder vfio (VmLck)"
ok grep -q "^$addr $end $((len / 4096)) pinned kpagepin vfio (VmLck)$" /tmp/out
T="no other page pinned"
ok [ "$(awk '$4 == "pinned" { n += $3 } END { print n + 0 }' /tmp/out)" = $((len / 4096)) ]
pininspect --json "$pid" >/tmp/json 2>&1
T="JSON: vfio class with the VmLck it explains"
ok sh -c "tr -d ' \n' </tmp/json | grep -q '\"vfio\":{\"vmlck_kib\":$vmlck,\"lock_kib\":$vmlck,\"unexplained_kib\":$((len / 1024)),\"vfio\":true,\"attributed_kib\":$((len / 1024))}'"
pininspect "$pid" 2>&1 | awk '$4 != "not-pinned"' | sed 's/^/# table: /'
# the audit names the client's pins as the vfio holder class (info: exit 0)
pininspect --audit --check=vfio-pins -n "$pid" >/tmp/audit 2>/tmp/audit.err
rc=$?
sed 's/^/# audit: /' /tmp/audit /tmp/audit.err
T="audit --check=vfio-pins exits 0 (an info finding)"; ok [ $rc = 0 ]
T="audit --check=vfio-pins reports the client's $((len / 4096)) pinned pages (VmLck $vmlck kB)"
ok [ "$(awk -v p="$pid" '$1 == p && $3 == "vfio-pins" { n += $7 } END { print n + 0 }' /tmp/audit)" = $((len / 4096)) ]
t1=$(up)
echo "# vfio setup + checks: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s; guest uptime at result: $t1 s"
kill $vcpid
wait $vcpid 2>/dev/null
exit 0
