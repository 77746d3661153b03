// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers and pure logic of the pin map and accounting (issue 10). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include <sys/mman.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "tap.h"
#include "pininspect/pinmap.h"
#include "pininspect/pagemap.h"
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

/*
 * Ring teardown after an exit: of the PFNs 200, 202, 203 and 204, 200 is
 * released by the 2nd read, 202 by the 3rd; 203 stays pinned (a real
 * orphan); 204 is released by the 2nd read and pinned again from the 3rd
 * on (the freed page reused and pinned by another process).
 */
static unsigned int teardown_reads;

static int teardown_read(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	const uint64_t pinned = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;

	(void)src;
	teardown_reads++;
	for (size_t i = 0; i < n; i++) {
		bool released = (pfns[i] == 200 && teardown_reads >= 2) ||
				(pfns[i] == 202 && teardown_reads >= 3) ||
				(pfns[i] == 204 && teardown_reads == 2);

		out[i] = released ? (1 | KPP_F_ANON | KPP_F_PIN_EXACT) : pinned;
	}
	return 0;
}

/* orphan attribution on a synthetic reverse map (no process, no source) */
static void test_orphan_attribution(void)
{
	struct pi_rmap_holder ha = { .h = { .desc = "io_uring fd 5 buf 0" }, .pages = 64, .unmapped = 64 };
	struct pi_rmap_holder hb = { .h = { .desc = "io_uring fd 7 buf 0" }, .pages = 16, .unpinned = 16 };
	struct pi_rmap_proc procs[] = {
		/* A: munmapped its 64-page buffer: VmPin is those 64 pages, nothing more */
		{ .pid = 100, .comm = "a", .has_vmpin = true, .vmpin_kib = 64 * 4,
		  .holders = &ha, .nholders = 1 },
		/* B: maps 8 pinned pages, 16 of its buffer remapped, VmPin 40: 16 pages beyond both */
		{ .pid = 200, .comm = "b", .has_vmpin = true, .vmpin_kib = 40 * 4, .pinned_mapped = 8,
		  .holders = &hb, .nholders = 1 },
		/* C: VmLck only, no VmPin line: never a VmPin candidate */
		{ .pid = 300, .comm = "c", .has_vmlck = true, .vmlck_kib = 1024 },
	};
	struct pi_rmap r = { .procs = procs, .nprocs = 3 };
	struct pi_orphan_ctx c;
	struct pi_orphan_attr at;

	is_int(pi_orphan_ctx_init(&r, &c), 0, "orphan context");
	is_int(c.ncand, 3, "candidates: A's buffer, B's buffer, B's VmPin excess (none for A, C)");
	ok(c.ncand == 3 && c.cand[2].proc == 1 && c.cand[2].holder == -1 && c.left[2] == 16,
	   "B's VmPin excess: 40 - 8 mapped - 16 of its buffer = 16 pages");
	for (size_t i = 0; i < c.ncand; i++)
		ok(!(c.cand[i].proc == 0 && c.cand[i].holder < 0),
		   "A's unmapped buffer pages are not counted again as VmPin excess (candidate %zu)", i);

	pi_orphan_attribute(&r, &c, 64, &at);
	ok(at.proc == &procs[0] && at.holder == &ha, "64 orphaned pages: A's buffer");
	is_str(at.why, "buffer no longer mapped", "A: reason");
	pi_orphan_attribute(&r, &c, 16, &at);
	ok(at.proc == &procs[1] && at.holder == &hb, "16 pages: B's buffer before B's VmPin");
	is_str(at.why, "buffer now maps other pages", "B: reason");
	pi_orphan_attribute(&r, &c, 16, &at);
	ok(at.proc == &procs[1] && !at.holder, "16 more: B's VmPin excess");
	is_str(at.why, "VmPin exceeds the pinned pages it maps", "B: VmPin reason");
	/* the regression: another process's orphans were blamed on A's VmPin */
	pi_orphan_attribute(&r, &c, 16, &at);
	ok(!at.proc && !at.holder && !at.why, "another 16 orphaned pages: nobody to blame (not A's VmPin)");
	pi_orphan_ctx_free(&c);

	/* VmPin below what the buffers explain: no excess candidate at all */
	procs[1].vmpin_kib = 20 * 4;
	is_int(pi_orphan_ctx_init(&r, &c), 0, "orphan context, small VmPin");
	is_int(c.ncand, 2, "buffers only");
	pi_orphan_ctx_free(&c);
}

/* the settle step shared by --map and the audit */
static void test_orphan_settle(void)
{
	const uint64_t e = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;
	struct pi_pinned_pfn pp[] = { { 200, e }, { 201, e }, { 202, e }, { 203, e }, { 204, e } };
	struct pi_pinned_set set = { .p = pp, .n = 5 };
	struct pi_pfn_owner own[] = { { .idx = 1, .proc = 0, .addr = 0x7f0000000000 } };
	/* a live process that accounts for one orphaned page: its buffer is unmapped */
	struct pi_rmap_holder h = { .h = { .desc = "io_uring fd 5 buf 0" }, .pages = 1, .unmapped = 1 };
	struct pi_rmap_proc proc = { .pid = 1, .holders = &h, .nholders = 1 };
	struct pi_rmap r = { .owners = own, .nowners = 1, .procs = &proc, .nprocs = 1 };
	struct pi_pinsrc src = { .kind = PI_SRC_BPF, .read = teardown_read };
	struct pi_orphan_pfns o;
	struct timespec t0, t1;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "orphan PFNs read");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	is_int(o.n, 4, "4 PFNs nobody maps (201 has an owner)");
	ok(o.n == 4 && o.idx[0] == 0 && o.idx[1] == 2 && o.idx[2] == 3 && o.idx[3] == 4 &&
	   o.pfn[0] == 200 && o.pfn[1] == 202 && o.pfn[2] == 203 && o.pfn[3] == 204,
	   "set indexes and PFNs, ascending");
	is_int(o.rereads, 2 + PI_ORPHAN_SETTLE_STABLE,
	       "read again while the count falls (4, 2, 1), then until it holds for %d reads",
	       PI_ORPHAN_SETTLE_STABLE);
	is_int(teardown_reads, 3 + PI_ORPHAN_SETTLE_STABLE, "all reads");
	ok(o.n == 4 && !pi_pin_entry_pinned(o.ent[0]) && !pi_pin_entry_pinned(o.ent[1]) &&
	   pi_pin_entry_pinned(o.ent[2]), "released by the teardown: 200, 202; still pinned: 203");
	ok(o.n == 4 && !pi_pin_entry_pinned(o.ent[3]),
	   "204, released and pinned again (a reused page): released, not an orphan");
	is_int(o.mapped_again, 0, "no process walk without pids_now");
	ok(ms >= (2 + PI_ORPHAN_SETTLE_STABLE) * (PI_ORPHAN_SETTLE_MS - 1),
	   "waited %d ms between reads (%.0f ms)", PI_ORPHAN_SETTLE_MS, ms);
	pi_orphan_pfns_free(&o);

	/* nobody alive accounts for 203: wait for it for the whole budget */
	proc.nholders = 0;
	teardown_reads = 0;
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "orphan PFNs read, nothing explained");
	ok(o.rereads == PI_ORPHAN_SETTLE_ROUNDS && teardown_reads == PI_ORPHAN_SETTLE_ROUNDS + 1,
	   "unexplained pins: %d re-reads (%u)", PI_ORPHAN_SETTLE_ROUNDS, o.rereads);
	ok(o.n == 4 && pi_pin_entry_pinned(o.ent[2]) && !pi_pin_entry_pinned(o.ent[0]) &&
	   !pi_pin_entry_pinned(o.ent[1]) && !pi_pin_entry_pinned(o.ent[3]), "only 203 still pinned");
	pi_orphan_pfns_free(&o);
	proc.nholders = 1;

	/* nothing pinned at the first read: no wait */
	teardown_reads = 10;
	set.n = 3;	/* 200, 201, 202: both candidates released already */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "orphan PFNs read, all released");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok(o.n == 2 && o.rereads == 0 && teardown_reads == 11, "one read, no re-read");
	ok(ms < PI_ORPHAN_SETTLE_MS, "no wait when nothing is pinned (%.0f ms)", ms);
	pi_orphan_pfns_free(&o);

	/* a real orphan that a live process accounts for: confirmed once it holds, then stop */
	pp[0].pfn = 203;
	set.n = 1;
	r.nowners = 0;
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "orphan PFNs read, a lasting orphan");
	ok(o.n == 1 && o.rereads == PI_ORPHAN_SETTLE_STABLE && pi_pin_entry_pinned(o.ent[0]),
	   "%d re-reads, still pinned (%u)", PI_ORPHAN_SETTLE_STABLE, o.rereads);
	pi_orphan_pfns_free(&o);

	/* nobody unmapped at all: nothing read */
	set.n = 0;
	teardown_reads = 0;
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "empty set");
	ok(o.n == 0 && teardown_reads == 0, "no read for an empty set");
	pi_orphan_pfns_free(&o);
}

/* churn: each read finds one more of 64 PFNs released (a chain of exits handing pages on) */
static unsigned int churn_reads;

static int churn_read(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	const uint64_t pinned = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;

	(void)src;
	churn_reads++;
	for (size_t i = 0; i < n; i++)
		out[i] = pfns[i] - 1000 < churn_reads ? (1 | KPP_F_ANON) : pinned;
	return 0;
}

static void test_orphan_settle_churn(void)
{
	const uint64_t e = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;
	struct pi_pinned_pfn pp[64];
	struct pi_pinned_set set = { .p = pp, .n = 64 };
	struct pi_rmap_proc proc = { .pid = 1 };
	struct pi_rmap r = { .procs = &proc, .nprocs = 1 };
	struct pi_pinsrc src = { .kind = PI_SRC_BPF, .read = churn_read };
	struct pi_orphan_pfns o;
	size_t left = 0;

	for (size_t i = 0; i < 64; i++)
		pp[i] = (struct pi_pinned_pfn){ 1000 + i, e };
	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "orphan PFNs read under churn");
	for (size_t i = 0; i < o.n; i++)
		left += pi_pin_entry_pinned(o.ent[i]);
	is_int(o.rereads, PI_ORPHAN_SETTLE_ROUNDS_MAX,
	       "releases go on: read past %d rounds, up to %d", PI_ORPHAN_SETTLE_ROUNDS,
	       PI_ORPHAN_SETTLE_ROUNDS_MAX);
	is_int(left, 64 - 1 - PI_ORPHAN_SETTLE_ROUNDS_MAX, "PFNs still pinned after the last read");
	pi_orphan_pfns_free(&o);
}

/* the rewalk: a PFN still pinned that a process maps now (this one) is not an orphan */
static int self_pids(pid_t **pids, size_t *n, size_t *cap)
{
	*pids = malloc(sizeof(**pids));
	if (!*pids)
		return -ENOMEM;
	(*pids)[0] = getpid();
	*n = *cap = 1;
	return 0;
}

static int always_pinned(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	(void)src;
	(void)pfns;
	for (size_t i = 0; i < n; i++)
		out[i] = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON;
	return 0;
}

static void test_orphan_rewalk(void)
{
	volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pme = 0;
	int fd;

	if (page == MAP_FAILED) {
		ok(0, "mmap");
		return;
	}
	page[0] = 1;
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &pme, 8, (off_t)((uintptr_t)page / 4096 * 8)) != 8 ||
	    !(pme & PM_PFN_MASK)) {
		printf("ok %d # SKIP no PFNs in pagemap (needs CAP_SYS_ADMIN)\n", ++tap_n);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);

	struct pi_pinned_pfn pp[] = { { pme & PM_PFN_MASK, 1025 | (1ULL << KPP_PINCOUNT_SHIFT) } };
	struct pi_pinned_set set = { .p = pp, .n = 1 };
	struct pi_rmap_holder h = { .pages = 1, .unmapped = 1 };	/* explains it: no long wait */
	struct pi_rmap_proc proc = { .pid = 1, .holders = &h, .nholders = 1 };
	struct pi_rmap r = { .procs = &proc, .nprocs = 1 };	/* the walk saw no owner */
	struct pi_pinsrc src = { .kind = PI_SRC_BPF, .read = always_pinned };
	struct pi_orphan_pfns o;

	is_int(pi_orphan_pfns_read(&src, &set, &r, NULL, &o), 0, "without the rewalk");
	ok(o.n == 1 && pi_pin_entry_pinned(o.ent[0]) && !o.mapped_again, "pinned, nobody mapped it: orphan");
	pi_orphan_pfns_free(&o);
	is_int(pi_orphan_pfns_read(&src, &set, &r, self_pids, &o), 0, "with the rewalk");
	ok(o.n == 1 && !pi_pin_entry_pinned(o.ent[0]) && o.mapped_again == 1,
	   "a process maps it now: not an orphan (mapped_again %" PRIu64 ")", o.mapped_again);
	pi_orphan_pfns_free(&o);
	munmap((void *)page, 4096);
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

	test_orphan_attribution();
	test_orphan_settle();
	test_orphan_settle_churn();
	test_orphan_rewalk();
	return tap_done();
}
