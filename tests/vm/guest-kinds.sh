#!/bin/sh
# Runs in the guest (see vm-init): io_uring buffers on a memfd (shmem) and on
# an MFD_HUGETLB memfd (2 MiB huge pages reserved here), read with kpagepin
# (issue 11): kind, holder, verdict, exact count for the hugetlb folio and
# VmPin accounting. TAP lines without numbers.
. /tests/lib-guest.sh
skip() { echo "ok - $1 # SKIP $2"; }
command -v pininspect >/dev/null && command -v pinload >/dev/null || {
	skip "shmem and hugetlb pins" "pininspect/pinload not in the initramfs"; exit 0; }
[ "${KPP_LOADED:-0}" = 1 ] || {
	skip "shmem and hugetlb pins with kpagepin" "kpagepin not loaded (lockdown=${KPP_LOCKDOWN:-?})"; exit 0; }

# 2 MiB pages: pinload's hugetlb buffer is one of them
huge_why=""
if [ ! -w /proc/sys/vm/nr_hugepages ]; then
	huge_why="no /proc/sys/vm/nr_hugepages (kernel without CONFIG_HUGETLBFS)"
else
	echo 2 >/proc/sys/vm/nr_hugepages 2>/dev/null
	nh=$(cat /proc/sys/vm/nr_hugepages)
	echo "# nr_hugepages: $nh; $(grep -i '^Hugepagesize' /proc/meminfo)"
	[ "$nh" -ge 1 ] 2>/dev/null || huge_why="could not reserve a huge page (nr_hugepages $nh)"
	grep -q '^Hugepagesize: *2048 kB' /proc/meminfo || huge_why="default huge page size is not 2 MiB"
fi
# one registration of the 2 MiB hugetlb buffer: before 6.3 io_uring pins
# each 4k page (_pincount 512), from 6.3 the folio once (see guest-pininspect.sh)
case $(uname -r) in
[2-5].* | 6.[012].*) hpins=512 ;;
*) hpins=1 ;;
esac
args="--size=64K --memfd-buffer=256K"
[ -z "$huge_why" ] && args="$args --hugetlb-buffer=2M"
# shellcheck disable=SC2086
if ! start_pinload /tmp/kpl.json /tmp/kpl.err $args; then
	wait $plpid
	rc=$?
	if [ $rc = 77 ] && [ -z "$huge_why" ]; then
		# hugetlb mmap refused (ENOMEM): run without it
		huge_why="pinload: $(cat /tmp/kpl.err)"
		start_pinload /tmp/kpl.json /tmp/kpl.err --size=64K --memfd-buffer=256K
	fi
fi
T="pinload with memfd and hugetlb buffers started"
[ -n "$huge_why" ] && T="pinload with a memfd buffer (no hugetlb) started"
ok grep -q '"pid"' /tmp/kpl.json
grep -q '"pid"' /tmp/kpl.json || { sed 's/^/# /' /tmp/kpl.err; exit 1; }
sed 's/^/# pinload: /' /tmp/kpl.json
pid=$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/kpl.json)
fd=$(sed -n 's/.*"ring_fd": \([0-9]*\).*/\1/p' /tmp/kpl.json)
# buffers in the order given: memfd, then hugetlb
ma=$(sed -n 's/.*"buffers": \[{"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/kpl.json)
ha=$(sed -n 's/.*"buffers": \[{[^}]*}, {"addr": "\(0x[0-9a-f]*\)".*/\1/p' /tmp/kpl.json)
vmpin=$(sed -n 's/^VmPin:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
echo "# memfd buffer $ma, hugetlb buffer ${ha:-none}, ring fd $fd, VmPin $vmpin kB"

pininspect --json "$pid" >/tmp/kj 2>/tmp/err
T="pininspect --json exits 0"; ok [ $? = 0 ]
sed 's/^/# err: /' /tmp/err
awk -f /tests/guest-json.awk /tmp/kj >/tmp/kr
awk '$5 != "not-pinned"' /tmp/kr | sed 's/^/# run: /'
T="JSON: kpagepin among the sources"; ok grep -q '"kpagepin"' /tmp/kj

# buf INDEX: "PAGES VERDICT SOURCE PINS PIN_EXACT KIND" of the runs the
# holder io_uring fd FD buf INDEX has, joined when they agree
buf() {
	awk -v h="io_uring_fd_${fd}_buf_$1" '$11 == h {
		n += $4; k = $5 " " $6 " " $7 " " $8 " " $10
		if (!(k in s)) { s[k] = 1; o = o (o == "" ? "" : " | ") k } }
		END { print n + 0, o }' /tmp/kr
}
echo "# memfd runs: $(buf 0)"
T="memfd buffer ($ma, 64 pages): pinned by kpagepin, kind shmem, holder io_uring fd $fd buf 0"
ok [ "$(buf 0)" = "64 pinned kpagepin 1 false shmem" ]
T="memfd buffer starts at $ma"
ok grep -q "^$ma [^ ]* - [0-9]* pinned kpagepin 1 false [a-z]* shmem io_uring_fd_${fd}_buf_0$" /tmp/kr
want=256
if [ -n "$huge_why" ]; then
	skip "hugetlb buffer: pinned, exact count, kind hugetlb" "$huge_why"
else
	echo "# hugetlb runs: $(buf 1)"
	T="hugetlb buffer ($ha, 512 pages): pinned by kpagepin, exact count $hpins, kind hugetlb, holder io_uring fd $fd buf 1"
	ok [ "$(buf 1)" = "512 pinned kpagepin $hpins true hugetlb" ]
	T="hugetlb buffer starts at $ha"
	ok grep -q "^$ha [^ ]* - [0-9]* pinned kpagepin $hpins true [a-z]* hugetlb io_uring_fd_${fd}_buf_1$" /tmp/kr
	want=$((256 + 2048))
fi
T="no other page pinned or maybe-pinned"
ok [ -z "$(awk '$5 != "not-pinned" && $11 !~ /^io_uring_fd_/' /tmp/kr)" ]
T="VmPin $vmpin kB = $want kB (memfd 256${ha:+ + hugetlb 2048, the folio charged whole}), vmpin_kib the same"
ok [ "$vmpin $(grep -c "\"vmpin_kib\": $want," /tmp/kj)" = "$want 1" ]
T="summary: pinned_kib $want, vmpin_accounted true"
ok [ "$(grep -c -e "\"pinned_kib\": $want," -e '"vmpin_accounted": true' /tmp/kj)" = 2 ]
pininspect "$pid" 2>&1 | grep -v ' not-pinned ' | sed 's/^/# table: /'
kill "$plpid"
wait "$plpid" 2>/dev/null
[ -w /proc/sys/vm/nr_hugepages ] && echo 0 >/proc/sys/vm/nr_hugepages
exit 0
