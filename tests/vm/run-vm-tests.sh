#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-vm-tests.sh [extra binaries...]
#
# Boots Debian's 6.1 kernel under qemu with a busybox initramfs that carries
# the kpagepin module and static test programs, and prints the guest's
# results as TAP on stdout (automake's TAP driver runs it).
#
# Extra binaries (e.g. pininspect) are copied to the guest's /bin with the
# shared libraries ldd lists; extra guest test scripts tests/vm/guest-*.sh
# run in the guest and print TAP lines ("ok - ...", "not ok - ...", "# ...").
#
# Environment:
#   KPP_VM_KVER      kernel release (default: newest /boot/vmlinuz-6.1.*)
#   KPP_VM_KDIR      kernel build dir (default /lib/modules/$KPP_VM_KVER/build)
#   KPP_VM_WORK      cache dir (default tests/vm/work)
#   KPP_VM_MODULES   extra kernel modules to load first, by name ("rdma_rxe")
#   KPP_VM_LOCKDOWN  0 skips the second boot with lockdown=integrity
#   KPP_VM_ACCEL     tcg or kvm (default: kvm only with real vmx/svm)
#   KPP_VM_TIMEOUT   seconds per boot (default 420)
#   KPP_VM_PATCH_KERNEL  uncompressed vmlinux with kernel/patches applied
#                    (default: the one "kernel/patches/check.sh --guest-kernel"
#                    leaves in /var/tmp/kpagepin-patches/guest, if present);
#                    it is booted too, with and without lockdown, expecting
#                    the built-in provider "patch"
#   KPP_VM_SCRIPTS   guest scripts to run instead of tests/vm/guest-*.sh, and
#                    only the default boot (bench/guest-sources.sh uses it)
#   QEMU             qemu binary (default qemu-system-x86_64)

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${KPP_VM_WORK:-$here/work}
qemu=${QEMU:-qemu-system-x86_64}
# a hang guard, not a speed limit: the default boot runs ~40 s of scenarios
# under TCG and takes several times that on a loaded two-CPU host
tmo=${KPP_VM_TIMEOUT:-420}

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

kver=${KPP_VM_KVER:-}
if [ -z "$kver" ]; then
	for f in /boot/vmlinuz-6.1.*; do
		[ -e "$f" ] && kver=${f#/boot/vmlinuz-}
	done
fi
[ -n "$kver" ] || skip "no /boot/vmlinuz-6.1.* (install linux-image-amd64 from Debian 12)"
vmlinuz=/boot/vmlinuz-$kver
kdir=${KPP_VM_KDIR:-/lib/modules/$kver/build}
moddir=/lib/modules/$kver

command -v "$qemu" >/dev/null || skip "$qemu not found (install qemu-system-x86)"
[ -r "$vmlinuz" ] || skip "$vmlinuz not readable"
[ -f "$kdir/Makefile" ] || skip "no kernel headers in $kdir (install linux-headers-amd64)"
bb=$(command -v busybox) || skip "busybox not found (install busybox-static)"
ldd "$bb" >/dev/null 2>&1 && skip "$bb is dynamic (install busybox-static)"
for t in cc make cpio xz timeout; do
	command -v $t >/dev/null || skip "$t not found"
done
[ -r /usr/include/linux/io_uring.h ] || skip "no linux/io_uring.h (install linux-libc-dev)"

mkdir -p "$work" || skip "cannot create $work"

n=0
fail=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
notok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $*"
}
finish() {
	echo "1..$n"
	exit $fail
}
bail() {
	notok "$*"
	finish
}

# Newer than: rebuild a cached file when any of its sources changed.
stale() {
	out=$1
	shift
	[ -e "$out" ] || return 0
	for s in "$@"; do
		[ "$s" -nt "$out" ] && return 0
	done
	return 1
}

# 1. Uncompressed ELF vmlinux: qemu boots it through the PVH entry, about
#    twice as fast as the bzImage under TCG.
vmlinux=$work/vmlinux-$kver
# unpack_at MAGIC CMD...: decompress from the first MAGIC in vmlinuz; the
# decompressor's status is ignored (zstd complains about the trailing
# bytes), the ELF magic of the result decides.
unpack_at() {
	magic=$1
	shift
	off=$(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +$((off + 1)) "$vmlinuz" | "$@" >"$vmlinux.tmp" 2>/dev/null
	[ "$(head -c 4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]
}
if stale "$vmlinux" "$vmlinuz"; then
	# Debian 6.1 compresses with xz, 6.12 with zstd.
	if unpack_at '\xfd7zXZ\x00' xz -dc --single-stream ||
	   { command -v zstd >/dev/null &&
	     unpack_at '\x28\xb5\x2f\xfd' zstd -dcq; }; then
		mv "$vmlinux.tmp" "$vmlinux"
	else
		rm -f "$vmlinux.tmp"
		skip "cannot extract an xz or zstd vmlinux from $vmlinuz"
	fi
fi

# 2. The module, built from a copy (the source tree stays clean).
mb=$work/kpagepin-$kver
mkdir -p "$mb"
# Kbuild is all an M= build needs (the Makefile is for building by hand)
cp -p "$top"/kernel/kpagepin/Kbuild \
	"$top"/kernel/kpagepin/*.c "$top"/kernel/kpagepin/*.h "$mb"/
# under make check the parent jobserver is not ours: build standalone
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$kdir" M="$mb" modules >"$work/module-build.log" 2>&1; then
	if grep -qi 'warning:' "$work/module-build.log"; then
		notok "kpagepin builds against $kver without warnings"
		sed 's/^/# /' "$work/module-build.log"
	else
		ok "kpagepin builds against $kver without warnings"
	fi
else
	sed 's/^/# /' "$work/module-build.log"
	bail "kpagepin builds against $kver"
fi

# 3. Static guest programs.
gp=$work/guest-pin
if stale "$gp" "$here/guest-pin.c" "$top/kernel/kpagepin/kpagepin_abi.h"; then
	if ! cc -static -O2 -Wall -Wextra -I"$top/kernel/kpagepin" \
		-o "$gp" "$here/guest-pin.c" >"$work/guest-build.log" 2>&1; then
		sed 's/^/# /' "$work/guest-build.log"
		bail "guest-pin builds statically"
	fi
fi

# 3b. Soft-RoCE (tests/vm/guest-rdma.sh): rdma-client linked statically
#     with the rxe provider, iproute2's rdma tool and the rxe modules.
#     Without them the guest script skips and says why (/etc/kpp-rdma).
#     KPP_VM_RDMA=0 leaves RDMA out.
rdma_why=""
rdma_mods="crc32_generic ib_core ib_uverbs ip6_udp_tunnel udp_tunnel rdma_rxe dummy"
rc_bin=$work/rdma-client
if [ "${KPP_VM_RDMA:-1}" = 0 ]; then
	rdma_why="KPP_VM_RDMA=0"
elif ! command -v rdma >/dev/null; then
	rdma_why="no rdma tool (install iproute2)"
elif ! pkg-config --exists libibverbs 2>/dev/null || [ ! -r /usr/include/infiniband/verbs.h ]; then
	rdma_why="no libibverbs headers (install libibverbs-dev ibverbs-providers)"
else
	for m in $rdma_mods; do
		grep -q "/$m\.ko[^:]*:" "$moddir/modules.dep" ||
			rdma_why="module $m not in $moddir/modules.dep"
	done
fi
if [ -z "$rdma_why" ] && stale "$rc_bin" "$here/rdma-client.c" "$here/guest-client.h"; then
	# shellcheck disable=SC2046
	if ! cc -static -O2 -Wall -Wextra -DRDMA_STATIC_PROVIDERS=rxe -o "$rc_bin" \
		"$here/rdma-client.c" $(pkg-config --static --libs libibverbs) \
		>"$work/rdma-build.log" 2>&1; then
		rm -f "$rc_bin"
		rdma_why="rdma-client does not link statically with the rxe provider (see $work/rdma-build.log)"
	fi
fi
if [ -z "$rdma_why" ]; then
	echo "# rdma: soft-RoCE guest test with $(rdma -V 2>&1 | head -n 1)"
else
	echo "# rdma: guest test skipped: $rdma_why"
fi

# 3c. VFIO (tests/vm/guest-vfio.sh): a boot of its own on q35 with qemu's
#     emulated intel-iommu and its "edu" PCI device bound to vfio-pci;
#     vfio-client maps memory with VFIO_IOMMU_MAP_DMA (type1 charges
#     VmLck, not VmPin). KPP_VM_VFIO=0 leaves it out.
vfio_why=""
vc_bin=$work/vfio-client
if [ "${KPP_VM_VFIO:-1}" = 0 ]; then
	vfio_why="KPP_VM_VFIO=0"
elif [ ! -r /usr/include/linux/vfio.h ]; then
	vfio_why="no linux/vfio.h (install linux-libc-dev)"
elif ! "$qemu" -device help 2>/dev/null | grep -q '"edu"' ||
     ! "$qemu" -device help 2>/dev/null | grep -q '"intel-iommu"'; then
	vfio_why="$qemu has no edu or intel-iommu device"
else
	for m in vfio vfio_iommu_type1 vfio-pci; do
		grep -q "/$m\.ko[^:]*:" "$moddir/modules.dep" ||
			vfio_why="module $m not in $moddir/modules.dep"
	done
fi
if [ -z "$vfio_why" ] && stale "$vc_bin" "$here/vfio-client.c" "$here/guest-client.h"; then
	if ! cc -static -O2 -Wall -Wextra -o "$vc_bin" "$here/vfio-client.c" \
		>"$work/vfio-build.log" 2>&1; then
		rm -f "$vc_bin"
		vfio_why="vfio-client does not build (see $work/vfio-build.log)"
	fi
fi

# 4. Initramfs.
root=$work/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib" "$root/etc" "$root/tests" || bail "initramfs dir"
cp "$bb" "$root/bin/busybox"
cp "$here/vm-init" "$root/init"
chmod 755 "$root/init"
cp "$mb/kpagepin.ko" "$root/lib/"
cp "$gp" "$root/bin/"
for s in ${KPP_VM_SCRIPTS:-"$here"/guest-*.sh}; do
	[ -f "$s" ] && cp "$s" "$root/tests/"
done
# the guest scripts' JSON reader (busybox has no jq)
cp "$here/guest-json.awk" "$here/lib-guest.sh" "$root/tests/"

# Copy a file to the same path in the guest.
cp_same() {
	mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"
}

if [ -z "$rdma_why" ]; then
	cp "$rc_bin" "$root/bin/"
	set -- "$@" "$(command -v rdma)"
	# In load order (each needs only those before it); guest-rdma.sh loads
	# them when the booted kernel is $kver (not the patched one).
	for m in $rdma_mods; do
		rel=$(sed -n "s|^\([^:]*/$m\.ko[^:]*\):.*|\1|p" "$moddir/modules.dep" | head -n 1)
		cp_same "$moddir/$rel" || bail "copy module $m"
		echo "/lib/modules/$kver/$rel" >>"$root/etc/kpp-rdma-modules"
	done
else
	echo "$rdma_why" >"$root/etc/kpp-rdma"
fi

for b in "$@"; do
	[ -x "$b" ] || bail "extra binary $b is not executable"
	cp -L "$b" "$root/bin/" || bail "copy $b"
	# Shared objects and the dynamic loader: "lib => /path (addr)", "/path (addr)".
	for l in $(ldd "$b" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		[ -e "$root$l" ] || cp_same "$l" || bail "copy $l for $b"
	done
done

# Extra modules with their dependencies, in load order.
if [ -n "${KPP_VM_MODULES:-}" ]; then
	[ -r "$moddir/modules.dep" ] || bail "no $moddir/modules.dep"
	# Depth-first: dependencies first, each module once.
	add_mod() {	# add_mod RELPATH
		grep -qx "/lib/modules/$kver/$1" "$root/etc/kpp-modules" 2>/dev/null && return 0
		for d in $(sed -n "s|^$1: *||p" "$moddir/modules.dep"); do
			add_mod "$d" || return 1
		done
		cp_same "$moddir/$1" || return 1
		echo "/lib/modules/$kver/$1" >>"$root/etc/kpp-modules"
	}
	for m in $KPP_VM_MODULES; do
		rel=$(sed -n "s|^\(\([^:]*/\)\{0,1\}$m\.ko[^:]*\):.*|\1|p" "$moddir/modules.dep" | head -n 1)
		[ -n "$rel" ] || bail "module $m not in $moddir/modules.dep"
		add_mod "$rel" || bail "copy module $m"
	done
fi

rm -f "$root/tests/guest-vfio.sh"	# runs in the vfio boot only

initrd=$work/initramfs.cpio
(cd "$root" && find . | cpio -o -H newc --quiet) >"$initrd" || bail "cpio"

# The vfio boot's initramfs: the same, with guest-vfio.sh as its only
# guest script, vfio-client and the VFIO modules (dependencies first).
if [ -z "$vfio_why" ]; then
	vroot=$work/root-vfio
	rm -rf "$vroot"
	cp -a "$root" "$vroot" || bail "copy initramfs tree for vfio"
	rm -f "$vroot"/tests/guest-*.sh "$vroot/etc/kpp-rdma-modules"
	cp "$here/guest-vfio.sh" "$vroot/tests/" && cp "$vc_bin" "$vroot/bin/" ||
		bail "copy vfio guest files"
	for m in vfio_iommu_type1 vfio-pci; do
		rel=$(sed -n "s|^\([^:]*/$m\.ko[^:]*\):.*|\1|p" "$moddir/modules.dep" | head -n 1)
		deps=$(sed -n "s|^$rel: *||p" "$moddir/modules.dep")
		# modules.dep lists what a module needs, last loaded first
		for d in $(echo $deps | tr ' ' '\n' | sed -n '1!G;h;$p') $rel; do
			grep -qx "/lib/modules/$kver/$d" "$vroot/etc/kpp-vfio-modules" 2>/dev/null &&
				continue
			mkdir -p "$vroot/lib/modules/$kver/$(dirname "$d")" &&
				cp "$moddir/$d" "$vroot/lib/modules/$kver/$d" || bail "copy module $d"
			echo "/lib/modules/$kver/$d" >>"$vroot/etc/kpp-vfio-modules"
		done
	done
	(cd "$vroot" && find . | cpio -o -H newc --quiet) >"$work/initramfs-vfio.cpio" ||
		bail "cpio (vfio)"
fi

# 5. Boot.  /dev/kvm may be a PVM backend here on which guests stall: use
#    KVM only when the CPU itself offers vmx/svm and kvm_pvm is absent.
accel=${KPP_VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -w /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo &&
	   [ ! -e /sys/module/kvm_pvm ]; then
		accel=kvm
	fi
fi
case $accel in
kvm)	acc="-enable-kvm -cpu host,-arch-capabilities" ;;
*)	acc="-accel tcg,thread=multi -cpu max" ;;
esac

boot() {	# boot NAME EXTRA-CMDLINE [VMLINUX] [INITRD] [QEMU-ARGS]
	log=$work/console-$1.log
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout "$tmo" "$qemu" $acc -m 2G \
		-smp 2,sockets=2,cores=1,threads=1 \
		-object memory-backend-ram,id=m0,size=1G \
		-numa node,nodeid=0,cpus=0,memdev=m0 \
		-object memory-backend-ram,id=m1,size=1G \
		-numa node,nodeid=1,cpus=1,memdev=m1 \
		-kernel "${3:-$vmlinux}" -initrd "${4:-$initrd}" \
		-append "console=ttyS0 quiet panic=-1 $2" \
		-display none -nodefaults -serial stdio -no-reboot ${5:-} \
		</dev/null >"$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	echo "# boot $1 ($accel): $(echo "$t1 - $t0" | awk '{ split($0, a, " - "); printf "%.1f", a[1] - a[2] }') s, qemu status $rc"

	# Relay the guest's TAP lines, numbered here.
	tr -d '\r' <"$log" | sed -n 's/^.*KPPTAP: //p' >"$work/tap-$1.txt"
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "[$1] ${l#ok - }" ;;
		"not ok - "*) notok "[$1] ${l#not ok - }" ;;
		"ok "[0-9]*) ok "[$1] $(echo "$l" | sed 's/^ok [0-9]* *-* *//')" ;;
		"not ok "[0-9]*) notok "[$1] $(echo "$l" | sed 's/^not ok [0-9]* *-* *//')" ;;
		"Bail out!"*) notok "[$1] guest: $l" ;;
		"#"*) echo "$l" ;;
		END|1..*) ;;
		*) echo "# $l" ;;
		esac
	done <"$work/tap-$1.txt"
	if grep -qx END "$work/tap-$1.txt"; then
		ok "[$1] guest ran to completion"
	else
		notok "[$1] guest ran to completion (qemu status $rc, see $log)"
		tail -n 30 "$log" | sed 's/^/# console: /'
	fi
}

# The guest scenarios of issues 6, 8 and 11 skip with a reason where the
# booted kernel lacks what they need. Where its config has it, a skip (or a
# scenario that never ran) hides a regression: the host asserts they ran.
ran() {	# ran BOOT CONFIG-FILE OPTION DESCRIPTION PATTERN [NEED-IN-TAP]
	if [ ! -x "$root/bin/pininspect" ] || [ ! -x "$root/bin/pinload" ]; then
		ok "[$1] $4 ran # SKIP pininspect and pinload not given to $0"
	elif [ ! -r "$2" ]; then
		ok "[$1] $4 ran # SKIP no kernel config $2"
	elif ! grep -qx "$3=y" "$2"; then
		ok "[$1] $4 ran # SKIP $3 is not set in $2"
	elif [ -n "${6:-}" ] && ! grep -q "$6" "$work/tap-$1.txt"; then
		ok "[$1] $4 ran # SKIP the guest log has no '$6'"
	elif grep -q "^\(not \)\{0,1\}ok - $5" "$work/tap-$1.txt" &&
	     ! grep "^ok - $5" "$work/tap-$1.txt" | grep -q '# SKIP'; then
		ok "[$1] $4 ran ($3=y)"
	else
		notok "[$1] $4 ran ($3=y), not skipped"
	fi
}
scenarios_ran() {	# scenarios_ran BOOT CONFIG-FILE
	ran "$1" "$2" CONFIG_TRANSPARENT_HUGEPAGE "THP io_uring buffer with an exact kpagepin count" \
		"THP: ranges of "
	# pininspect may be built without the bpf source (no clang/bpftool)
	ran "$1" "$2" CONFIG_DEBUG_INFO_BTF "bpf source compared with kpagepin page by page" \
		"bpf and kpagepin agree on every page" "# probe bpf: built"
	ran "$1" "$2" CONFIG_HUGETLBFS "hugetlb io_uring buffer with kpagepin" \
		"hugetlb buffer ("
	ran "$1" "$2" CONFIG_SHMEM "memfd (shmem) io_uring buffer with kpagepin" \
		"memfd buffer ("
}

boot default ""
[ -n "${KPP_VM_SCRIPTS:-}" ] && finish
scenarios_ran default "/boot/config-$kver"
[ "${KPP_VM_LOCKDOWN:-1}" = 0 ] || boot lockdown "lockdown=integrity"
if [ -z "$vfio_why" ]; then
	# With interrupt remapping (type1 wants it) a slow TCG timer check
	# panics the guest ("timer doesn't work through Interrupt-remapped
	# IO-APIC") on a busy host: no_timer_check skips that check.
	boot vfio "intel_iommu=on no_timer_check" "" "$work/initramfs-vfio.cpio" \
		"-machine q35 -device intel-iommu -device edu"
else
	ok "VFIO type1 in the guest # SKIP $vfio_why"
fi

# The patched kernel, when one was built from the current series.
pk=${KPP_VM_PATCH_KERNEL:-${TMPDIR:-/var/tmp}/kpagepin-patches/guest/vmlinux}
if [ -f "$pk" ]; then
	if [ -z "${KPP_VM_PATCH_KERNEL:-}" ] &&
	   stale "$pk" "$top"/kernel/patches/0*.patch; then
		ok "patched guest kernel # SKIP $pk is older than kernel/patches (rebuild: kernel/patches/check.sh --guest-kernel)"
	else
		echo "# patched kernel: $pk"
		boot patch "kpp_expect=patch" "$pk"
		scenarios_ran patch "$(dirname "$pk")/.config"
		[ "${KPP_VM_LOCKDOWN:-1}" = 0 ] ||
			boot patch-lockdown "lockdown=integrity kpp_expect=patch" "$pk"
	fi
else
	echo "# no patched guest kernel (build one: kernel/patches/check.sh --guest-kernel)"
fi
finish
