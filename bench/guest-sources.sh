#!/bin/bash
# Benchmark (not a test) of the pin sources side by side where kpagepin
# exists: Debian's 6.1 kernel in the qemu guest of tests/vm (TCG, 2 vCPUs,
# 2 GiB), the kpagepin module loaded. On one pinload target of GB_MIB MiB
# (4k pages, 256 KiB registered) it runs the default report with each
# source (kpagepin, bpf, io_uring holders only) and --pages --json with
# kpagepin, GB_RUNS times each, and prints medians of wall, user+sys CPU
# and peak RSS (busybox time -v), and each source's ratio to io_uring.
# TCG emulates the CPU, so absolute times are many times the host's; the
# ratios between sources are what this measures.
#
#   bench/guest-sources.sh            # after a build (pininspect, pinload)
#   GB_MIB=1024 GB_RUNS=5 bench/guest-sources.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
mib=${GB_MIB:-512}
runs=${GB_RUNS:-5}
for b in "$top/pininspect" "$top/tests/helpers/pinload"; do
	[ -x "$b" ] || { echo "build first: $b missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap '[ -n "${GB_KEEP:-}" ] || rm -rf "$tmp"' EXIT

# the guest side: one script, its lines come back on the serial console
cat >"$tmp/guest-bench.sh" <<GUEST
. /tests/lib-guest.sh
start_pinload /tmp/b.json /tmp/b.err --size=${mib}M --no-thp --buffer=0:256K || { cat /tmp/b.err; exit 1; }
pid=\$(sed -n 's/^{"pid": \([0-9]*\).*/\1/p' /tmp/b.json)
[ -n "\$pid" ] || { echo "not ok - no pinload pid"; exit 1; }
grep -E '^(VmRSS|VmPin)' /proc/\$pid/status | sed 's/^/# target: /'
pininspect --probe | sed 's/^/# probe: /'
one() {	# one NAME ARGS...: GB_RUNS runs, a "# bench:" line each
	name=\$1
	shift
	for i in \$(seq $runs); do
		time -v pininspect "\$@" "\$pid" >/tmp/t.out 2>/tmp/t.err
		rc=\$?
		[ \$rc = 0 ] || { echo "not ok - pininspect \$* exit \$rc: \$(head -c 300 /tmp/t.err)"; exit 1; }
		# busybox prints "0m 0.06s": seconds
		w=\$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \([0-9]*\)m \([0-9.]*\)s.*/\1 \2/p' /tmp/t.err |
			awk '{ print \$1 * 60 + \$2 }')
		u=\$(sed -n 's/.*User time (seconds): //p' /tmp/t.err)
		s=\$(sed -n 's/.*System time (seconds): //p' /tmp/t.err)
		r=\$(sed -n 's/.*Maximum resident set size (kbytes): //p' /tmp/t.err)
		echo "# bench: \$name wall=\$w user=\$u sys=\$s rss_kib=\$r"
	done
}
one kpagepin --source=kpagepin
one bpf --source=bpf
one io_uring --source=io_uring
one pages-json-kpagepin --source=kpagepin --pages --json
echo "ok - bench ran"
GUEST

echo "guest bench: ${mib} MiB target, ${runs} runs per row (Debian 6.1 under TCG)" >&2
KPP_VM_SCRIPTS="$tmp/guest-bench.sh" KPP_VM_LOCKDOWN=0 KPP_VM_WORK="$tmp/work" \
	sh "$top/tests/vm/run-vm-tests.sh" "$top/pininspect" "$top/tests/helpers/pinload" >"$tmp/out" 2>&1
grep -q '^ok .*bench ran' "$tmp/out" && ! grep -q '^not ok' "$tmp/out" || { tail -40 "$tmp/out"; echo "guest bench failed" >&2; exit 1; }
grep '# probe:\|# target:' "$tmp/out" | sed 's/^.*# [a-z]*: /  /' | grep -E "kpagepin|bpf|kernel|Vm" >&2

# "# bench: NAME wall=M:SS.ss user=U sys=S rss_kib=R" -> medians per NAME
grep -o '# bench: .*' "$tmp/out" | awk '
function med(arr, n,  i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{
	name = $3; sub("wall=", "", $4); sub("user=", "", $5); sub("sys=", "", $6); sub("rss_kib=", "", $7)
	if (!(name in n)) order[++k] = name
	n[name]++; W[name, n[name]] = $4; C[name, n[name]] = $5 + $6; R[name, n[name]] = $7
}
END {
	printf "| run | wall (median) | CPU (median) | peak RSS | wall vs io_uring | CPU vs io_uring |\n|---|---|---|---|---|---|\n"
	for (i = 1; i <= k; i++) {
		name = order[i]
		for (j = 1; j <= n[name]; j++) { w[j] = W[name, j]; c[j] = C[name, j]; r[j] = R[name, j] }
		mw[name] = med(w, n[name]); mc[name] = med(c, n[name]); mr[name] = med(r, n[name])
	}
	for (i = 1; i <= k; i++) {
		name = order[i]
		printf "| %s | %.2f s | %.2f s | %.1f MiB | %.2fx | %.2fx |\n", name, mw[name], mc[name], mr[name] / 1024,
			mw[name] / (mw["io_uring"] > 0 ? mw["io_uring"] : 0.01),
			mc[name] / (mc["io_uring"] > 0 ? mc["io_uring"] : 0.01)
	}
}'
