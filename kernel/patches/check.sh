#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: apply this series to Debian's linux-source-6.1 and compile the
# objects it touches with Debian's config (not the whole kernel).
#
#   kernel/patches/check.sh [--guest-kernel]
#
# --guest-kernel also builds a small guest kernel from the series
# (tinyconfig + guest.config, CONFIG_KPAGEPIN=y, about 10 minutes on two
# cores) at $KPP_PATCH_WORK/guest/vmlinux, which tests/vm/run-vm-tests.sh
# then boots as well.
#
# Environment:
#   KPP_SRC_TARBALL  default /usr/src/linux-source-6.1.tar.xz
#   KPP_CONFIG       default newest /boot/config-6.1.*
#   KPP_PATCH_WORK   default ${TMPDIR:-/var/tmp}/kpagepin-patches; the
#                    unpacked pristine tree is cached there
#   KPP_JOBS         make -j (default 2)
#
# Prints TAP; exits 0 when every step passed or (plan "1..0 # SKIP") when
# the tarball or config is missing, 1 otherwise.

set -u

guest=0
case ${1:-} in
--guest-kernel) guest=1 ;;
"") ;;
*) echo "usage: $0 [--guest-kernel]" >&2; exit 64 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tarball=${KPP_SRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
work=${KPP_PATCH_WORK:-${TMPDIR:-/var/tmp}/kpagepin-patches}
jobs=${KPP_JOBS:-2}
config=${KPP_CONFIG:-}
if [ -z "$config" ]; then
	for f in /boot/config-6.1.*; do
		[ -e "$f" ] && config=$f
	done
fi

# Objects the series touches (mm/kpagepin.o needs CONFIG_KPAGEPIN=y).
objs="mm/vmscan.o mm/migrate.o mm/compaction.o mm/mprotect.o
      mm/huge_memory.o mm/memory.o mm/rmap.o mm/vmstat.o mm/kpagepin.o"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ -r "$tarball" ] || skip "no $tarball (install linux-source-6.1)"
[ -r "$config" ] || skip "no Debian 6.1 config (install linux-image-amd64 or set KPP_CONFIG)"

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
finish() { echo "1..$n"; exit $fail; }

mkdir -p "$work" || skip "cannot create $work"
# one build at a time in the cached tree (parallel make check, several users)
if command -v flock >/dev/null; then
	exec 9>"$work/.lock"
	flock 9
fi

# Unpack once; every run patches a fresh hard-link copy (patch(1) replaces
# files instead of writing through the links, so the cache stays pristine).
pristine=$work/pristine
if [ ! -f "$pristine/.unpacked" ]; then
	rm -rf "$pristine"
	mkdir -p "$pristine"
	echo "# unpacking $tarball (once)"
	tar -xJf "$tarball" -C "$pristine" --strip-components=1 ||
		{ notok "unpack $tarball"; finish; }
	touch "$pristine/.unpacked"
fi
tree=$work/tree
rm -rf "$tree"
cp -al "$pristine" "$tree" || { notok "copy the pristine tree"; finish; }

for p in "$here"/0*.patch; do
	name=$(basename "$p")
	if patch -p1 -d "$tree" --dry-run -s -F0 <"$p" >"$work/$name.log" 2>&1 &&
	   patch -p1 -d "$tree" -s -F0 <"$p" >>"$work/$name.log" 2>&1; then
		ok "$name applies without fuzz"
	else
		sed 's/^/# /' "$work/$name.log"
		notok "$name applies without fuzz"
		finish
	fi
done

if cmp -s "$tree/mm/kpagepin_abi.h" "$top/kernel/kpagepin/kpagepin_abi.h"; then
	ok "mm/kpagepin_abi.h is the same file as kernel/kpagepin/kpagepin_abi.h"
else
	notok "mm/kpagepin_abi.h is the same file as kernel/kpagepin/kpagepin_abi.h"
fi

# Debian's config names its signing certificates in debian/certs, which the
# source package does not carry; the objects here do not need them.
cp "$config" "$tree/.config"
(
	cd "$tree" &&
	scripts/config --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" --enable KPAGEPIN &&
	make -s olddefconfig
) >"$work/config.log" 2>&1
if grep -qx 'CONFIG_KPAGEPIN=y' "$tree/.config"; then
	ok "olddefconfig from $(basename "$config") with CONFIG_KPAGEPIN=y"
else
	sed 's/^/# /' "$work/config.log"
	notok "olddefconfig from $(basename "$config") with CONFIG_KPAGEPIN=y"
	finish
fi

# shellcheck disable=SC2086
echo "# compiling" $objs "(make -j$jobs)"
# shellcheck disable=SC2086
if make -C "$tree" -j"$jobs" $objs >"$work/build.log" 2>&1; then
	ok "touched objects compile"
	if grep -E '^mm/[^ ]*: (warning|error):' "$work/build.log" >"$work/warn.log"; then
		sed 's/^/# /' "$work/warn.log"
		notok "touched objects compile without warnings"
	else
		ok "touched objects compile without warnings"
	fi
else
	tail -n 40 "$work/build.log" | sed 's/^/# /'
	notok "touched objects compile"
fi

[ $guest = 1 ] || finish

# Guest kernel.  The tree is kept between runs: when the series changes,
# the files either series touches are rebuilt in a staging dir from the
# pristine tree plus the new series, and only those whose content differs
# replace the tree's copy, so make recompiles only what changed.
gt=$work/guest
series=$gt/.kpp-series
if ! cat "$here"/0*.patch "$here/guest.config" | cmp -s - "$series"; then
	if [ -f "$series" ]; then
		stage=$work/stage
		rm -rf "$stage"
		files=$( (cat "$series"; cat "$here"/0*.patch) |
			sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' | sort -u)
		for f in $files; do
			if [ -e "$pristine/$f" ]; then
				mkdir -p "$stage/$(dirname "$f")"
				cp "$pristine/$f" "$stage/$f"
			fi
		done
		for p in "$here"/0*.patch; do
			patch -p1 -d "$stage" -s -F0 <"$p" ||
				{ notok "apply $p to the guest tree"; finish; }
		done
		for f in $files; do
			if [ ! -e "$stage/$f" ]; then
				rm -f "$gt/$f"
			elif ! cmp -s "$stage/$f" "$gt/$f"; then
				rm -f "$gt/$f"
				cp "$stage/$f" "$gt/$f"
			fi
		done
		rm -rf "$stage"
	else
		rm -rf "$gt"
		cp -al "$pristine" "$gt" || { notok "copy the pristine tree"; finish; }
		for p in "$here"/0*.patch; do
			patch -p1 -d "$gt" -s -F0 <"$p" ||
				{ notok "apply $p to the guest tree"; finish; }
		done
	fi
	(
		cd "$gt" &&
		make -s tinyconfig &&
		scripts/kconfig/merge_config.sh -m .config "$here/guest.config" &&
		make -s olddefconfig
	) >"$work/guest-config.log" 2>&1
	missing=$(grep '^CONFIG_' "$here/guest.config" | while read -r l; do
		grep -qx "$l" "$gt/.config" || echo "$l"
	done)
	if [ -n "$missing" ]; then
		echo "$missing" | sed 's/^/# missing: /'
		notok "guest config has every option of guest.config"
		finish
	fi
	ok "guest config has every option of guest.config"
	cat "$here"/0*.patch "$here/guest.config" >"$series"
fi
echo "# building the guest kernel (make -j$jobs vmlinux)"
if make -C "$gt" -j"$jobs" vmlinux >"$work/guest-build.log" 2>&1; then
	# make relinks nothing when nothing changed: mark it current for
	# run-vm-tests.sh, which boots it only when newer than the series
	touch "$gt/vmlinux"
	ok "guest kernel builds: $gt/vmlinux"
else
	tail -n 40 "$work/guest-build.log" | sed 's/^/# /'
	notok "guest kernel builds"
fi
finish
