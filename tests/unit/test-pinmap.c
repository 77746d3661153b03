// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers and pure logic of the pin map and accounting (issue 10). */
#include <errno.h>
#include <stdlib.h>
#include "tap.h"
#include "pininspect/pinmap.h"
#include "pininspect/accounting.h"

/* a fake exact source: PFNs in [pin_lo, pin_hi) pinned, multiples of 7 explained, >= hole NOPAGE */
static uint64_t pin_lo = 100, pin_hi = 110, hole = 1000;

static int fake_read(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	(void)src;
	for (size_t i = 0; i < n; i++) {
		uint64_t p = pfns[i];

		if (p >= hole)
			out[i] = KPP_F_NOPAGE;
		else if (p >= pin_lo && p < pin_hi)
			out[i] = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;
		else if (p % 7 == 0)
			out[i] = 1100 | KPP_F_MAYBE_PINNED;	/* 1100 mappings, no pin */
		else
			out[i] = 1 | KPP_F_ANON | KPP_F_PIN_EXACT;
	}
	return 0;
}

int main(void)
{
	struct pi_layout l = { 0 };
	const char *zi =
		"Node 0, zone      DMA\n  pages free     3\n        spanned  4095\n"
		"        present  3998\n        managed  3840\n  start_pfn:           1\n"
		"Node 0, zone   Normal\n        spanned  1000\n        present  1000\n"
		"  start_pfn:           4096\n"
		"Node 0, zone  Movable\n        spanned  0\n        present  0\n"
		"Node 1, zone  Movable\n        spanned  512\n  start_pfn:           4600\n";
	struct pi_pfn_ranges a = { 0 }, b = { 0 };
	struct pi_pfn_range pr;
	struct pi_pinned_set set;
	struct pi_pinsrc src = { .kind = PI_SRC_BPF, .read = fake_read };

	is_int(pi_zoneinfo_parse(zi, strlen(zi), &l), 0, "zoneinfo parses");
	is_int(l.nzones, 3, "empty zones dropped");
	is_str(l.zones[0].name, "dma", "zone names in lower case");
	ok(l.zones[0].start == 1 && l.zones[0].end == 4096, "DMA [1, 4096)");
	ok(l.zones[1].start == 4096 && l.zones[1].end == 5096 && l.zones[1].present == 1000,
	   "Normal [4096, 5096), present");
	is_int(l.zones[2].node, 1, "node of the third zone");
	is_str(pi_layout_zone(&l, 4650), "movable", "overlapping spans: the later (higher) zone wins");
	is_str(pi_layout_zone(&l, 4095), "dma", "PFN 4095 in DMA");
	is_str(pi_layout_zone(&l, 9999), "?", "PFN outside every zone");
	is_int(pi_layout_node(&l, 4500), 0, "node from the zone span");
	is_int(pi_layout_block_id(&l, 5000), -1, "no memory blocks: block -1");

	is_int(pi_layout_all(&l, &a), 0, "whole PFN space");
	is_int(a.n, 1, "adjacent and overlapping spans merged");
	ok(a.r[0].start == 1 && a.r[0].end == 5112, "space [1, 5112)");
	is_int(pi_layout_zone_ranges(&l, "MOVABLE", &b), 0, "zone ranges, case-insensitive");
	is_int(pi_pfn_ranges_intersect(&a, &b), 0, "intersect");
	ok(a.n == 1 && a.r[0].start == 4600 && a.r[0].end == 5112, "movable [4600, 5112)");
	pi_pfn_ranges_free(&b);
	is_int(pi_layout_zone_ranges(&l, "highmem", &b), -ENOENT, "a zone not in zoneinfo");
	pi_pfn_ranges_free(&b);
	is_int(pi_layout_block_ranges(&l, 3, &b), -EOPNOTSUPP, "no memory blocks");
	is_int(pi_layout_cma_ranges(&l, &b), -EOPNOTSUPP, "no CMA");
	pi_pfn_ranges_free(&a);

	is_int(pi_pfn_range_parse("0x100-0x200", &pr), 0, "START-END");
	ok(pr.start == 0x100 && pr.end == 0x200, "hex bounds");
	is_int(pi_pfn_range_parse("10+5", &pr), 0, "START+COUNT");
	ok(pr.start == 10 && pr.end == 15, "count added");
	is_int(pi_pfn_range_parse("5-5", &pr), -EINVAL, "empty range rejected");
	is_int(pi_pfn_range_parse("junk", &pr), -EINVAL, "garbage rejected");
	is_int(pi_pfn_range_parse("1-2-3", &pr), -EINVAL, "two separators rejected");
	is_int(pi_pfn_range_parse("1+18446744073709551615", &pr), -ERANGE, "overflow rejected");

	pi_pfn_ranges_add(&a, 0, 2000);
	is_int(pi_pinmap_scan(&src, &a, 64, &set), 0, "scan in batches of 64");
	is_int(set.scanned, 2000, "every PFN read");
	is_int(set.n, 10, "10 pinned PFNs");
	ok(set.p[0].pfn == 100 && set.p[9].pfn == 109, "sorted, right PFNs");
	is_int(set.nopage, 1000, "holes counted");
	ok(set.maybe_explained > 0, "refcount >= bias explained by mappings: not pinned");
	is_int(pi_pinned_set_find(&set, 105), 5, "find");
	is_int(pi_pinned_set_find(&set, 110), -1, "find misses");
	pi_pinned_set_free(&set);
	pi_pfn_ranges_free(&a);
	const char *io = "00001000-0009fbff : System RAM\n00100000-1ffeffff : System RAM\n"
			 "  01000000-01ffffff : Kernel code\n20000000-2fffffff : Reserved\n";
	is_int(pi_iomem_parse(io, strlen(io), &l), 0, "iomem parses");
	ok(l.ram_known && l.nram == 2, "two System RAM ranges, nested and other resources skipped");
	is_int(pi_layout_ram_pages(&l, 0, 0x100), 0x9e, "first MiB: 158 whole RAM pages");
	is_int(pi_layout_ram_pages(&l, 0x18000, 0x20000), 0x8000 - 0x10, "a hole of 16 pages at the end");
	is_int(pi_layout_ram_pages(&l, 0x20000, 0x28000), 0, "Reserved is not RAM");
	pi_layout_free(&l);
	io = "00000000-00000000 : System RAM\n";
	is_int(pi_iomem_parse(io, strlen(io), &l), 0, "iomem without root parses");
	ok(!l.ram_known && pi_layout_ram_pages(&l, 0, 1) == -1, "zero addresses: unknown");
	pi_layout_free(&l);

	/* accounting */
	struct pi_memlock ml;
	const char *lim = "Limit                     Soft Limit           Hard Limit           Units     \n"
			  "Max locked memory         8388608              unlimited            bytes     \n";
	is_int(pi_limits_parse(lim, strlen(lim), &ml), 0, "limits parse");
	ok(ml.known && ml.soft == 8388608 && !ml.soft_unlimited && ml.hard_unlimited, "soft 8 MiB, hard unlimited");
	is_int(pi_limits_parse("Max open files 1 2 files\n", 25, &ml), -ENOENT, "no memlock line");
	is_int(pi_limits_parse("Max locked memory lots\n", 23, &ml), -EINVAL, "garbage limit");

	char cg[64];
	const char *cgs = "12:memory:/old\n0::/system.slice/x.service\n";
	is_int(pi_cgroup_parse(cgs, strlen(cgs), cg, sizeof(cg)), 0, "cgroup parses");
	is_str(cg, "/system.slice/x.service", "v2 path preferred");
	cgs = "4:cpu:/a\n";
	is_int(pi_cgroup_parse(cgs, strlen(cgs), cg, sizeof(cg)), 0, "v1 only");
	is_str(cg, "/a", "first hierarchy");

	struct pi_accounting ac = { .pinned_found = 16, .has_vmpin = true, .vmpin_kib = 320,
				    .has_vmlck = true, .vmlck_kib = 400 };
	ac.memlock = (struct pi_memlock){ .known = true, .soft = 1024 * 1024, .hard = 1024 * 1024 };
	pi_accounting_compute(&ac);
	ok(ac.headroom_known && ac.headroom_kib == 1024 - 400, "headroom = limit - max(VmPin, VmLck)");
	is_int(ac.vmpin_delta_kib, 64 - 320, "found - VmPin");
	ok(pi_accounting_low_headroom(&ac, 1000) && !pi_accounting_low_headroom(&ac, 100), "low headroom threshold");
	ac.cap_ipc_lock = true;
	ok(!pi_accounting_low_headroom(&ac, 1000), "CAP_IPC_LOCK: the limit does not bind");
	ac.cap_ipc_lock = false;
	uint64_t cap;
	const char *stx = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
	is_int(pi_status_capeff_parse(stx, strlen(stx), &cap), 0, "CapEff parses");
	ok(cap == 0x1ffffffffffULL && (cap & (1ULL << 14)), "CapEff value, CAP_IPC_LOCK set");
	is_int(pi_status_capeff_parse("Name:\tx\n", 8, &cap), -ENOENT, "no CapEff");
	ac.memlock.soft_unlimited = true;
	pi_accounting_compute(&ac);
	ok(!ac.headroom_known, "unlimited: no headroom");

	struct pi_accounting accs[3] = {
		{ .pinned_found = 1, .vmpin_kib = 4, .cgroup = "/a" },
		{ .pinned_found = 2, .vmlck_kib = 8, .cgroup = "/b" },
		{ .pinned_found = 3, .vmpin_kib = 12, .cgroup = "/a" },
	};
	struct pi_cgroup_sum *sums;
	size_t nsums;
	is_int(pi_cgroup_sums(accs, 3, &sums, &nsums), 0, "cgroup sums");
	ok(nsums == 2 && sums[0].procs == 2 && sums[0].pinned_found == 4 && sums[0].vmpin_kib == 16 &&
	   sums[1].vmlck_kib == 8, "summed per cgroup");
	free(sums);

	/* smaps and fork safety */
	const char *sm =
		"7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \nSize:  8 kB\nVmFlags: rd wr mr mw me ac dc \n"
		"7f0000002000-7f0000010000 rw-p 00000000 00:00 0 \nSize: 56 kB\nVmFlags: rd wr mr mw me ac \n"
		"7f0000010000-7f0000011000 rw-s 00000000 00:05 7 /dev/x\nVmFlags: rd wr sh mr mw me io pf dd \n";
	struct pi_smaps s;
	struct pi_fork_safety fs;
	is_int(pi_smaps_parse(sm, strlen(sm), &s), 0, "smaps parses");
	is_int(s.n, 3, "3 VMAs");
	ok(s.v[0].dontfork && !s.v[1].dontfork && s.v[2].io && !s.v[2].dontfork, "dc and io flags; dd is not dc");
	pi_fork_safety(&s, 0x7f0000000000, 0x7f0000005000, 65530, &fs);
	ok(fs.pages == 5 && fs.dontfork_pages == 2 && fs.partial && !fs.covered, "partial DONTFORK coverage");
	pi_fork_safety(&s, 0x7f0000000100, 0x7f0000001f00, 65530, &fs);
	ok(fs.covered && fs.head_shared && fs.tail_shared && fs.pages == 2, "covered, unaligned ends share pages");
	is_int(fs.vma_count, 3, "VMA count");
	pi_smaps_free(&s);
	return tap_done();
}
