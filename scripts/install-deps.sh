#!/bin/sh
# Install what pininspect needs to build and test on Debian 12 (as root).
# prometheus: Debian ships promtool only in it (19 MB download, 96 MB
# installed; it also installs the server, not started here); the audit
# tests validate the textfile output with `promtool check metrics` and skip
# that when it is absent.
set -e
PKGS="build-essential autoconf automake libtool pkg-config
 libsmartcols-dev libkmod-dev libtracefs-dev libtraceevent-dev libproc2-dev
 liburing-dev libbpf-dev bpftool clang llvm
 jq python3 util-linux procps kmod
 linux-headers-amd64 linux-image-amd64 linux-source-6.1
 qemu-system-x86 busybox-static cpio xz-utils
 flex bison bc libelf-dev libssl-dev
 libibverbs-dev ibverbs-providers iproute2
 valgrind libclang-rt-14-dev
 prometheus"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# no daemon of these packages (the prometheus server) is started by this
# install: a policy-rc.d that refuses, for this run only (invoke-rc.d and
# deb-systemd-invoke honour it), unless the host has one of its own
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
