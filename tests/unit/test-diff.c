// SPDX-License-Identifier: GPL-2.0-or-later
/* Mapping transitions from synthetic snapshots (DESIGN section 6). */
#include "tap.h"
#include "pininspect/diff.h"

#define A 0x7f0000000000ULL
#define PG 4096ULL

static struct pi_snap_page pinned(uint64_t addr, uint64_t pfn)
{
	struct pi_snap_page sp = {
		.addr = addr, .pfn = pfn, .pme = PM_PRESENT | PM_MMAP_EXCLUSIVE | pfn,
		.pins = 1, .verdict = PI_V_PINNED, .source = PI_SRC_BPF, .exclusive = 1,
		.flags = PI_SP_PFN_KNOWN | PI_SP_PRESENT | PI_SP_HOLDER,
	};
	return sp;
}

/* a page recorded now only because it was pinned before */
static struct pi_snap_page tracked(struct pi_snap_page sp, enum pi_verdict v)
{
	sp.verdict = (uint8_t)v;
	sp.pins = v == PI_V_NOT ? 0 : -1;
	sp.flags |= PI_SP_TRACKED;
	return sp;
}

static void snap(struct pi_snapshot *s, const struct pi_snap_page *p, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->pid = 42;
	for (size_t i = 0; i < n; i++)
		pi_snapshot_add(s, &p[i]);
}

/* the two preserved pages, page 4 as given, and the new pin */
static void rest(struct pi_snapshot *s, const struct pi_snap_page *a, const struct pi_snap_page *p4,
		 const struct pi_snap_page *np)
{
	snap(s, a, 2);
	pi_snapshot_add(s, p4);
	pi_snapshot_add(s, np);
}

static enum pi_transition one(struct pi_snap_page old, struct pi_snap_page now)
{
	struct pi_diff_opts o = { 0 };

	return pi_classify(&old, &now, &o);
}

int main(void)
{
	struct pi_diff_opts opts = { 0 };
	struct pi_snap_page o = pinned(A, 100), n;
	struct pi_snapshot s0, s1, next;
	struct pi_diff d;
	unsigned int mask = 0;
	const char *bad = NULL;
	size_t badlen = 0;
	enum pi_transition t;

	/* names */
	for (int k = 0; k < PI_T__MAX; k++) {
		const char *name = pi_transition_name((enum pi_transition)k);

		ok(pi_transition_from_name(name, strlen(name), &t) == 0 && (int)t == k,
		   "name %s round-trips", name);
	}
	ok(pi_transition_parse_list("desynced,unmapped", &mask, NULL, NULL) == 0 &&
	   mask == ((1U << PI_T_DESYNCED) | (1U << PI_T_UNMAPPED)), "--fail-on list parsed");
	ok(pi_transition_parse_list("desynced,bogus", &mask, &bad, &badlen) < 0 &&
	   badlen == 5 && !strncmp(bad, "bogus", 5), "unknown name reported");

	/* one page at a time */
	is_int(one(o, o), PI_T_PRESERVED, "same PFN, still pinned: preserved");

	n = tracked(pinned(A, 200), PI_V_NOT);
	n.flags |= PI_SP_OLDPFN_CHECKED | PI_SP_OLDPFN_PINNED;
	is_int(one(o, n), PI_T_DESYNCED, "new PFN, old PFN still pinned: desynced");

	n.flags &= (uint8_t)~PI_SP_OLDPFN_PINNED;
	is_int(one(o, n), PI_T_UNPINNED, "new PFN, old PFN released: unpinned");

	n = tracked(pinned(A, 200), PI_V_MAYBE);
	n.source = PI_SRC_IOURING;
	is_int(one(o, n), PI_T_DESYNCED, "holder only: new PFN under a registered buffer: desynced");
	n.flags &= (uint8_t)~PI_SP_HOLDER;
	n.verdict = PI_V_UNKNOWN;
	is_int(one(o, n), PI_T_UNPINNED, "holder only: new PFN, buffer gone: unpinned");

	/* holder ranges only: the new page under the buffer is "maybe", not a new pin */
	{
		struct pi_snap_page ho = o, hn = pinned(A, 300);

		ho.verdict = hn.verdict = PI_V_MAYBE;
		ho.source = hn.source = PI_SRC_IOURING;
		ho.pins = hn.pins = -1;
		snap(&s0, &ho, 1);
		snap(&s1, &hn, 1);
		ok(pi_diff_snapshots(&s0, &s1, &opts, &d, NULL) == 0 && d.n == 1 &&
		   d.r[0].t == PI_T_DESYNCED, "holder only: desynced, and no new-pin for the same range");
		pi_diff_free(&d);
		pi_snapshot_free(&s0);
		pi_snapshot_free(&s1);
	}

	n = tracked(o, PI_V_NOT);
	is_int(one(o, n), PI_T_UNPINNED, "same PFN, source says not pinned: unpinned");

	n = o;
	n.exclusive = 0;
	is_int(one(o, n), PI_T_LOST_EXCLUSIVE, "same PFN, lost AnonExclusive: lost-exclusive");

	n = tracked(o, PI_V_UNKNOWN);
	n.flags = PI_SP_TRACKED | PI_SP_NO_VMA;
	n.pme = 0;
	is_int(one(o, n), PI_T_UNMAPPED, "VMA gone: unmapped");
	n.flags = PI_SP_TRACKED;
	is_int(one(o, n), PI_T_UNMAPPED, "no PTE: unmapped");
	is_int(pi_classify(&o, NULL, &opts), PI_T_UNMAPPED, "no record at all: unmapped");

	n.flags = PI_SP_TRACKED | PI_SP_SWAPPED;
	n.pme = PM_SWAP | (100ULL << 5) | 1;	/* swap type 1, offset 100 */
	is_int(one(o, n), PI_T_SWAPPED, "swap type 1: swapped");
	n.pme = PM_SWAP | (100ULL << 5) | 26;	/* above MAX_SWAPFILES: a migration entry */
	is_int(one(o, n), PI_T_MIGRATING, "swap type 26 without such a swap area: migrating");
	opts.nr_swap_devices = 28;
	is_int(pi_classify(&o, &n, &opts), PI_T_SWAPPED, "swap type 26 with 28 swap areas: swapped");
	opts.nr_swap_devices = 0;
	n.pme = PM_SWAP | PM_GUARD_REGION;
	is_int(one(o, n), PI_T_UNMAPPED, "guard region marker: unmapped");

	/* whole snapshots: runs, new pins, carried passing states */
	{
		struct pi_snap_page a[6], b[6];

		for (int i = 0; i < 6; i++)
			a[i] = pinned(A + (uint64_t)i * PG, 100 + (uint64_t)i);
		/* pages 0-1 preserved, 2-3 desynced, 4 migrating, 5 unpinned */
		b[0] = a[0];
		b[1] = a[1];
		for (int i = 2; i < 4; i++) {
			b[i] = tracked(pinned(A + (uint64_t)i * PG, 500 + (uint64_t)i), PI_V_NOT);
			b[i].flags |= PI_SP_OLDPFN_CHECKED | PI_SP_OLDPFN_PINNED;
		}
		b[4] = tracked(a[4], PI_V_MAYBE);
		b[4].flags = PI_SP_TRACKED | PI_SP_SWAPPED | PI_SP_HOLDER;
		b[4].pme = PM_SWAP | (104ULL << 5) | 27;
		b[5] = tracked(a[5], PI_V_NOT);
		snap(&s0, a, 6);
		/* plus a page pinned now that was not pinned before */
		snap(&s1, b, 6);
		n = pinned(A + 10 * PG, 900);
		pi_snapshot_add(&s1, &n);

		ok(pi_diff_snapshots(&s0, &s1, &opts, &d, &next) == 0, "diff runs");
		is_int(d.n, 4, "four runs: desynced, migrating, unpinned, new-pin");
		if (d.n == 4) {
			is_int(d.r[0].t, PI_T_DESYNCED, "run 0 desynced");
			ok(d.r[0].start == A + 2 * PG && d.r[0].end == A + 4 * PG && d.r[0].pages == 2,
			   "desynced run covers exactly pages 2-3");
			ok(d.r[0].old_pfn_known && d.r[0].old_pfn == 102 && d.r[0].new_pfn_known &&
			   d.r[0].new_pfn == 502, "old and new PFN of the first page");
			is_int(d.r[0].old_pfn_pinned, 1, "desynced: the old PFN was read as still pinned");
			is_int(d.r[2].old_pfn_pinned, -1, "unpinned at the same PFN: no old PFN read");
			is_int(d.r[1].t, PI_T_MIGRATING, "run 1 migrating");
			ok(!d.r[1].new_pfn_known, "migrating: no new PFN");
			is_int(d.r[2].t, PI_T_UNPINNED, "run 2 unpinned");
			is_int(d.r[3].t, PI_T_NEW_PIN, "run 3 new-pin");
			ok(!d.r[3].old_pfn_known && d.r[3].new_pfn == 900, "new-pin has only a new PFN");
		}
		is_int(d.counts[PI_T_PRESERVED], 2, "two preserved pages counted");
		ok(next.n == 4 && next.p[2].addr == A + 4 * PG && next.p[2].pfn == 104 &&
		   next.p[2].reported == PI_T_MIGRATING,
		   "next baseline: pinned pages now plus the migrating page's old record");
		pi_diff_free(&d);
		pi_snapshot_free(&s0);
		pi_snapshot_free(&s1);

		/* still migrating: not reported again; then back at the same PFN: preserved */
		rest(&s1, a, &b[4], &n);
		ok(pi_diff_snapshots(&next, &s1, &opts, &d, NULL) == 0 && d.n == 0,
		   "a page still migrating is reported once");
		pi_diff_free(&d);
		pi_snapshot_free(&s1);
		b[4] = a[4];
		rest(&s1, a, &b[4], &n);
		ok(pi_diff_snapshots(&next, &s1, &opts, &d, NULL) == 0 && d.n == 0 &&
		   d.counts[PI_T_PRESERVED] == 4, "migration undone at the same PFN: preserved");
		pi_diff_free(&d);
		pi_snapshot_free(&s1);

		/* migration finished at a new PFN while the old one is still pinned */
		b[4] = tracked(pinned(A + 4 * PG, 777), PI_V_NOT);
		b[4].flags |= PI_SP_OLDPFN_CHECKED | PI_SP_OLDPFN_PINNED;
		rest(&s1, a, &b[4], &n);
		ok(pi_diff_snapshots(&next, &s1, &opts, &d, NULL) == 0 && d.n == 1 &&
		   d.r[0].t == PI_T_DESYNCED && d.r[0].old_pfn == 104 && d.r[0].new_pfn == 777,
		   "migration to a new PFN with the old one pinned: desynced against the original PFN");
		pi_diff_free(&d);
		pi_snapshot_free(&s1);
		pi_snapshot_free(&next);
	}

	/* keep_preserved lists preserved runs; sort keeps the last duplicate */
	{
		struct pi_snap_page a[3] = { pinned(A + 2 * PG, 3), pinned(A, 1), pinned(A + PG, 2) };
		struct pi_snap_page dup = pinned(A, 11);

		snap(&s0, a, 3);
		pi_snapshot_add(&s0, &dup);
		pi_snapshot_sort(&s0);
		ok(s0.n == 3 && s0.p[0].addr == A && s0.p[0].pfn == 11 && s0.p[2].addr == A + 2 * PG,
		   "sort orders by address, later duplicate wins");
		opts.keep_preserved = true;
		ok(pi_diff_snapshots(&s0, &s0, &opts, &d, NULL) == 0 && d.n == 1 &&
		   d.r[0].t == PI_T_PRESERVED && d.r[0].pages == 3, "--verbose: one preserved run");
		ok(pi_snapshot_find(&s0, A + PG) && !pi_snapshot_find(&s0, A + 5 * PG), "find");
		pi_diff_free(&d);
		pi_snapshot_free(&s0);
	}
	return tap_done();
}
