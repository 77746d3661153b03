// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One data path: maps -> pagemap -> PFN-indexed sources -> verdicts.
 * Pages stream through a callback chunk by chunk, so memory does not
 * grow with the mapped size.
 */
#include <errno.h>
#include <string.h>
#include "pininspect/root.h"
#include "pininspect/scan.h"
#include "pininspect/util.h"

#define PI_CHUNK	16384	/* pages per pagemap pread: 128 KiB of entries */
#define PI_PAGE		4096ULL

int pi_proc_open(pid_t pid, struct pi_proc *ret, size_t *ret_bad_line)
{
	struct pi_proc p = { .pid = pid };
	int r;

	r = pi_status_read(pid, &p.status);
	if (r < 0)
		return r;
	/*
	 * pagemap first: an open /proc file keeps the mm of the moment it was
	 * opened. If pagemap still reads after maps was read, both describe
	 * the same mm; an exec (or exit) in between leaves the old mm
	 * unreadable, and maps and pagemap could describe different images.
	 */
	for (int tries = 0;; tries++) {
		r = pi_pagemap_open(pid, &p.pm);
		if (r == -ESRCH && pi_root_is_host()) {
			/*
			 * A process without an mm (a kernel thread, a zombie):
			 * if maps lists nothing, it is an empty process, not
			 * a missing one (zero counts, exit 0).
			 */
			r = pi_maps_read(pid, &p.vmas, ret_bad_line);
			if (r < 0 || p.vmas.n) {
				pi_vma_list_free(&p.vmas);
				return r < 0 ? r : -ESRCH;
			}
			r = pi_pagemap_open_empty(&p.pm);
			if (r < 0)
				return r;
			break;
		}
		if (r < 0)
			return r;
		r = pi_maps_read(pid, &p.vmas, ret_bad_line);
		if (r < 0) {
			pi_pagemap_close(p.pm);
			return r;
		}
		/* no VMAs (a kernel thread, a zombie): nothing to keep consistent */
		r = pi_root_is_host() && p.vmas.n ? pi_pagemap_alive(p.pm) : 1;
		if (r > 0)
			break;
		pi_vma_list_free(&p.vmas);
		pi_pagemap_close(p.pm);
		p.pm = NULL;
		if (r < 0)
			return r;
		/* exited (a zombie keeps its status), or exec'd: read the new image */
		if (tries == 2 || pi_status_read(pid, &p.status) < 0)
			return -ESRCH;
	}
	p.has_starttime = pi_stat_starttime(pid, &p.starttime) == 0;
	p.holders_err = pi_holders_read(pid, &p.holders);
	/* RDMA MRs: those with an iova are holders now, the others once placed */
	p.rdma_err = pi_rdma_mrs_read(pid, &p.rdma);
	if (p.rdma.n) {
		struct pi_pin_run none = { 0 };

		pi_rdma_place(&p.rdma, &none, 0, NULL, 0);
		r = pi_rdma_add_holders(&p.rdma, &p.holders);
		if (r < 0) {
			pi_proc_close(&p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

void pi_proc_close(struct pi_proc *p)
{
	pi_vma_list_free(&p->vmas);
	pi_holder_list_free(&p->holders);
	pi_rdma_mr_list_free(&p->rdma);
	pi_pagemap_close(p->pm);
	p->pm = NULL;
}

#define PI_PMD_PAGES	512ULL	/* pages a PMD maps: one folio per PAGE_IS_HUGE block */
#define NO_SLOT		UINT32_MAX

/*
 * The bits of each raw entry that decide a page's facts (pi_page_decide,
 * the huge and kind tests below, and same_facts in verdict.c): pages whose
 * masked entries, slots and holder are equal share every fact, so the
 * run callback can take them in one call.
 */
#define SIG_PME	(PM_PRESENT | PM_SWAP | PM_FILE | PM_MMAP_EXCLUSIVE)
#define SIG_KPF	(KPF_BIT(KPF_ANON) | KPF_BIT(KPF_ANON_EXCLUSIVE) | KPF_BIT(KPF_THP) | \
		 KPF_BIT(KPF_HUGE))
#define SIG_PIN	((KPP_PINCOUNT_MASK << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | \
		 KPP_F_PIN_EXACT | KPP_F_ANON | KPP_F_ANON_EXCLUSIVE | KPP_F_LARGE | \
		 KPP_F_LONGTERM_PINNABLE | KPP_F_NOPAGE)

struct chunk {
	uint64_t pme[PI_CHUNK];
	uint64_t pfns[PI_CHUNK];	/* PFNs whose pin entries are read */
	uint64_t pin[PI_CHUNK];
	uint64_t kpfns[PI_CHUNK];	/* PFNs whose kpageflags are read */
	uint64_t kpf[PI_CHUNK];
	uint32_t slot[PI_CHUNK];	/* page -> pfns[], or NO_SLOT: PFN unknown */
	uint32_t kslot[PI_CHUNK];	/* page -> kpfns[], or NO_SLOT: not read */
};

/* A part of a VMA scanned one way. */
struct seg {
	uint64_t start, end;
	bool huge;	/* PAGE_IS_HUGE: PMD-mapped, one folio per 2 MiB block */
	bool dense;	/* a holder range: every page, present or not */
};

struct scan {
	struct pi_proc *p;
	struct pi_scan_ctx *ctx;
	const struct pi_vma *v;
	pi_page_fn fn;
	pi_run_fn run_fn;	/* when set, fn is not called */
	void *ud;
	struct chunk *c;
	/* holder lookups: pi_holder_find() is constant below holder_until */
	const struct pi_holder *holder;
	uint64_t holder_from, holder_until;
	/* the pending run (run_fn only) */
	struct pi_page run;
	uint64_t run_n, run_end, run_sig[3];
};

static bool vma_wanted(const struct pi_vma *v, bool anon_only)
{
	if (v->kind == PI_KIND_OTHER)
		return false;
	if (anon_only)
		return v->kind == PI_KIND_ANON || v->kind == PI_KIND_FILE;
	return true;
}

/* where ctx->sparse may skip entries: private memory, never hugetlb or shmem */
static bool vma_sparse(const struct pi_scan_ctx *ctx, const struct pi_vma *v)
{
	return ctx->sparse && (v->kind == PI_KIND_ANON || v->kind == PI_KIND_FILE);
}

enum pi_kind pi_page_kind(const struct pi_vma *v, uint64_t pme)
{
	/* bit 61: file page or shared anon; a COW copy in a file mapping is anon */
	if (!(pme & PM_FILE))
		return v->kind == PI_KIND_SHMEM ? PI_KIND_SHMEM : PI_KIND_ANON;
	return v->kind == PI_KIND_ANON ? PI_KIND_SHMEM : v->kind;
}

static uint64_t page_down(uint64_t a)
{
	return a & ~(PI_PAGE - 1);
}

static uint64_t page_up(uint64_t a)
{
	return a > UINT64_MAX - (PI_PAGE - 1) ? page_down(UINT64_MAX) : page_down(a + PI_PAGE - 1);
}

static const struct pi_holder *holder_at(struct scan *s, uint64_t addr)
{
	const struct pi_holder_list *l = &s->p->holders;

	if (addr >= s->holder_from && addr < s->holder_until)
		return s->holder;
	/* the set of holders overlapping a page changes only at their page bounds */
	s->holder = pi_holder_find(l, addr);
	s->holder_from = addr;
	s->holder_until = pi_holder_next_bound(l, addr);
	return s->holder;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int seg_add(struct seg **segs, size_t *n, size_t *cap, struct seg sg)
{
	if (sg.start >= sg.end)
		return 0;
	if (pi_grow((void **)segs, cap, *n + 1, sizeof(**segs)) < 0)
		return -ENOMEM;
	(*segs)[(*n)++] = sg;
	return 0;
}

/*
 * The parts of [start, end) of a VMA to scan: holder ranges whole (their
 * non-present pages matter), elsewhere only the present or swapped ranges
 * PAGEMAP_SCAN found.
 * Sorted by address, not overlapping.
 */
static int vma_segments(const struct pi_proc *p, uint64_t start, uint64_t end,
			const struct pi_vrange *r, size_t nr, struct seg **ret, size_t *ret_n)
{
	struct seg *hold = NULL, *segs = NULL;
	size_t nh = 0, caph = 0, n = 0, cap = 0;
	int e = 0;

	for (size_t i = 0; i < p->holders.n && !e; i++) {
		uint64_t a = page_down(p->holders.h[i].start), b = page_up(p->holders.h[i].end);

		if (a < start)
			a = start;
		if (b > end)
			b = end;
		e = seg_add(&hold, &nh, &caph, (struct seg){ a, b, false, true });
	}
	if (!e && nh > 1) {
		size_t k = 0;

		qsort(hold, nh, sizeof(*hold), cmp_seg);
		for (size_t i = 1; i < nh; i++) {
			if (hold[i].start <= hold[k].end) {
				if (hold[i].end > hold[k].end)
					hold[k].end = hold[i].end;
			} else {
				hold[++k] = hold[i];
			}
		}
		nh = k + 1;
	}
	for (size_t i = 0; i < nh && !e; i++)
		e = seg_add(&segs, &n, &cap, hold[i]);
	for (size_t i = 0; i < nr && !e; i++) {
		uint64_t pos = r[i].start;

		for (size_t j = 0; j < nh && !e && pos < r[i].end; j++) {
			if (hold[j].end <= pos || hold[j].start >= r[i].end)
				continue;
			e = seg_add(&segs, &n, &cap, (struct seg){ pos, hold[j].start, r[i].huge, false });
			pos = hold[j].end;
		}
		if (!e && pos < r[i].end)
			e = seg_add(&segs, &n, &cap, (struct seg){ pos, r[i].end, r[i].huge, false });
	}
	free(hold);
	if (e) {
		free(segs);
		return e;
	}
	if (n > 1)
		qsort(segs, n, sizeof(*segs), cmp_seg);
	*ret = segs;
	*ret_n = n;
	return 0;
}

/* Facts of page i of the chunk: raw entries in, verdict decided. */
static void fill_page(struct scan *s, size_t i, uint64_t addr, bool huge,
		      const struct pi_holder *holder, struct pi_page *pg)
{
	const struct chunk *c = s->c;
	uint64_t e = c->pme[i];

	*pg = (struct pi_page){ .addr = addr, .pme = e, .vma = s->v, .holder = holder };
	pg->present = !!(e & PM_PRESENT);
	pg->swapped = !pg->present && (e & PM_SWAP);
	pg->mapped_once = pg->present && (e & PM_MMAP_EXCLUSIVE);
	pg->kind = pi_page_kind(s->v, e);
	pg->huge = huge;
	if (c->slot[i] != NO_SLOT) {
		pg->pfn = e & PM_PFN_MASK;
		pg->pfn_known = true;
		if (c->kslot[i] != NO_SLOT) {
			uint64_t k = c->kpf[c->kslot[i]];

			pg->kpf = k;
			pg->kpf_known = true;
			if (k & KPF_BIT(KPF_THP))
				pg->huge = true;
			/* MFD_HUGETLB memfds look like shmem by name */
			if (k & KPF_BIT(KPF_HUGE)) {
				pg->huge = true;
				pg->kind = PI_KIND_HUGETLB;
			}
		}
		if (s->ctx->pinsrc) {
			pg->pin = c->pin[c->slot[i]];
			pg->pin_known = true;
			if (pg->pin & KPP_F_LARGE)
				pg->huge = true;
		}
	}
	pi_page_decide(pg, s->ctx->source);
}

static int run_flush(struct scan *s)
{
	int r = 0;

	if (s->run_n)
		r = s->run_fn(&s->run, s->run_n, s->ud);
	s->run_n = 0;
	return r;
}

/*
 * Pages [i, i + npages) of the chunk (npages > 1 only for a huge block,
 * whose subpages inherit entry i) with the given holder: to the run
 * callback in runs of equal facts, or to the page callback one by one.
 */
static int run_start(struct scan *s, size_t i, uint64_t addr, uint64_t npages, bool huge,
		     const struct pi_holder *holder, const uint64_t sig[3])
{
	int r = run_flush(s);

	if (r < 0)
		return r;
	fill_page(s, i, addr, huge, holder, &s->run);
	memcpy(s->run_sig, sig, sizeof(s->run_sig));
	s->run_n = npages;
	s->run_end = addr + npages * PI_PAGE;
	return 0;
}

static int emit_pages(struct scan *s, size_t i, uint64_t addr, uint64_t npages, bool huge,
		      const struct pi_holder *holder);

static inline __attribute__((always_inline))
int emit(struct scan *s, size_t i, uint64_t addr, uint64_t npages, bool huge,
	 const struct pi_holder *holder)
{
	const struct chunk *c = s->c;
	uint64_t e = c->pme[i], sig[3];
	uint32_t slot = c->slot[i], kslot = c->kslot[i];

	if ((e & PM_PRESENT) && !(e & PM_PFN_MASK))
		s->ctx->pfns_hidden = true;
	if (!s->run_fn)
		return emit_pages(s, i, addr, npages, huge, holder);
	sig[0] = (e & SIG_PME) | (slot != NO_SLOT) | (uint64_t)(kslot != NO_SLOT) << 1 |
		 (uint64_t)huge << 2;
	sig[1] = kslot != NO_SLOT ? c->kpf[kslot] & SIG_KPF : 0;
	sig[2] = slot != NO_SLOT && s->ctx->pinsrc ? c->pin[slot] & SIG_PIN : 0;
	if (s->run_n && s->run_end == addr && s->run.holder == holder && sig[0] == s->run_sig[0] &&
	    sig[1] == s->run_sig[1] && sig[2] == s->run_sig[2]) {
		s->run_n += npages;
		s->run_end += npages * PI_PAGE;
		return 0;
	}
	return run_start(s, i, addr, npages, huge, holder, sig);
}

static int emit_pages(struct scan *s, size_t i, uint64_t addr, uint64_t npages, bool huge,
		      const struct pi_holder *holder)
{
	struct pi_page pg;
	int r;

	fill_page(s, i, addr, huge, holder, &pg);
	for (uint64_t k = 0; k < npages; k++) {
		if (k) {
			/* a subpage of the block: the head's facts, its own address and PFN */
			pg.addr += PI_PAGE;
			if (pg.pfn_known) {
				pg.pfn++;
				pg.pme = (pg.pme & ~PM_PFN_MASK) | (pg.pfn & PM_PFN_MASK);
			}
			pg.pin &= ~KPP_F_HEAD;
			if (pg.kpf_known && (pg.kpf & KPF_BIT(KPF_COMPOUND_HEAD)))
				pg.kpf = (pg.kpf & ~KPF_BIT(KPF_COMPOUND_HEAD)) |
					 KPF_BIT(KPF_COMPOUND_TAIL);
		}
		r = s->fn(&pg, s->ud);
		if (r < 0)
			return r;
	}
	return 0;
}

/* read the PFN-indexed entries the chunk's slots ask for */
static int read_entries(struct scan *s, size_t npfn, size_t nkpf)
{
	struct chunk *c = s->c;
	int r;

	if (nkpf) {
		r = pi_kpage_read(s->ctx->kpageflags, c->kpfns, nkpf, c->kpf, NULL);
		if (r < 0)
			return r;
		s->ctx->pfn_entries_read += nkpf;
	}
	if (npfn && s->ctx->pinsrc) {
		r = pi_pinsrc_read(s->ctx->pinsrc, c->pfns, npfn, c->pin);
		if (r < 0)
			return r;
		s->ctx->pfn_entries_read += npfn;
	}
	return 0;
}

/* a page of the chunk that the scan reports: present (and anon if asked), or in a holder */
static bool page_wanted(const struct scan *s, uint64_t e, bool in_holder)
{
	if (e & PM_PRESENT)
		return !s->ctx->anon_only || !(e & PM_FILE);
	return in_holder;
}

/*
 * PAGE_IS_HUGE, sparse: one pagemap entry, one pin entry per PMD block;
 * the block's other pages inherit them (DESIGN section 2, cost model).
 */
static int scan_huge(struct scan *s, uint64_t start, uint64_t end)
{
	struct chunk *c = s->c;
	const uint64_t pmd = PI_PMD_PAGES * PI_PAGE;
	uint64_t addr = start;
	int r;

	while (addr < end) {
		uint64_t blk[PI_CHUNK > 4096 ? 4096 : PI_CHUNK];
		size_t nb = 0, npfn = 0;

		for (uint64_t a = addr; a < end && nb < ARRAY_SIZE(blk); nb++) {
			uint64_t next = (a & ~(pmd - 1)) + pmd;
			ssize_t got = pi_pagemap_read(s->p->pm, a, 1, &c->pme[nb]);

			if (got < 0)
				return (int)got;
			if (got < 1)
				return -ENODATA;
			s->ctx->pagemap_entries_read++;
			blk[nb] = a;
			c->slot[nb] = c->kslot[nb] = NO_SLOT;
			if (page_wanted(s, c->pme[nb], false) && (c->pme[nb] & PM_PRESENT) &&
			    (c->pme[nb] & PM_PFN_MASK)) {
				c->slot[nb] = (uint32_t)npfn;
				c->pfns[npfn++] = c->pme[nb] & PM_PFN_MASK;
			}
			a = next < end ? next : end;
		}
		r = read_entries(s, npfn, 0);
		if (r < 0)
			return r;
		for (size_t b = 0; b < nb; b++) {
			uint64_t a = blk[b], next = (a & ~(pmd - 1)) + pmd;

			if (next > end)
				next = end;
			if (!page_wanted(s, c->pme[b], false))
				continue;
			r = emit(s, b, a, (next - a) / PI_PAGE, true, NULL);
			if (r < 0)
				return r;
		}
		addr = blk[nb - 1] + pmd;
		addr &= ~(pmd - 1);
	}
	return 0;
}

/*
 * The common case of the default report without an exact source: no PFN-
 * indexed entry is read outside holder ranges, so runs follow from the
 * pagemap entries alone (what emit() would decide, in one pass).
 */
static int emit_pagemap_only(struct scan *s, uint64_t addr, size_t n, bool huge)
{
	struct chunk *c = s->c;
	bool anon_only = s->ctx->anon_only;

	for (size_t i = 0; i < n; i++) {
		uint64_t e = c->pme[i], a = addr + i * PI_PAGE, sig[3] = { 0, 0, 0 };
		int r;

		/* outside holders only present pages are reported */
		if (!(e & PM_PRESENT) || (anon_only && (e & PM_FILE)))
			continue;
		sig[0] = (e & SIG_PME) | !!(e & PM_PFN_MASK) | (uint64_t)huge << 2;
		if (s->run_n && s->run_end == a && !s->run.holder && sig[0] == s->run_sig[0] &&
		    !s->run_sig[1] && !s->run_sig[2]) {
			s->run_n++;
			s->run_end += PI_PAGE;
			continue;
		}
		if (!(e & PM_PFN_MASK))
			s->ctx->pfns_hidden = true;
		c->slot[i] = (e & PM_PFN_MASK) ? 0 : NO_SLOT;	/* PFN known; nothing read */
		c->kslot[i] = NO_SLOT;
		r = run_start(s, i, a, 1, huge, NULL, sig);
		if (r < 0)
			return r;
	}
	return 0;
}

/* pagemap entries of [addr, addr + n pages) into the chunk */
static int read_pme(struct scan *s, uint64_t addr, size_t n)
{
	ssize_t got = pi_pagemap_read(s->p->pm, addr, n, s->c->pme);

	if (got < 0)
		return (int)got;
	if ((size_t)got < n)
		return -ENODATA;
	s->ctx->pagemap_entries_read += n;
	return 0;
}

/* the n pages of the chunk from addr, pagemap entries read */
static int process_chunk(struct scan *s, uint64_t addr, size_t n, bool huge, bool dense)
{
	struct chunk *c = s->c;
	bool sparse = vma_sparse(s->ctx, s->v);
	size_t npfn = 0, nkpf = 0;
	uint64_t head_kpf = 0, prev_pfn = 0;
	bool head_valid = false;
	int r;

	if (!dense && sparse && s->run_fn && !s->ctx->pinsrc)
		/* holder sources, outside holders: pagemap alone, one pass */
		return emit_pagemap_only(s, addr, n, huge);
	{
		for (size_t i = 0; i < n; i++) {
			uint64_t e = c->pme[i];
			bool in_holder = dense && holder_at(s, addr + i * PI_PAGE);

			c->slot[i] = c->kslot[i] = NO_SLOT;
			if (!(e & PM_PRESENT) || !(e & PM_PFN_MASK) || !page_wanted(s, e, in_holder))
				continue;
			c->slot[i] = (uint32_t)npfn;
			c->pfns[npfn++] = e & PM_PFN_MASK;
			/*
			 * kpageflags: for exclusivity where no exact source gives it,
			 * and only where a verdict uses it when sparse
			 */
			if (s->ctx->kpageflags &&
			    (s->ctx->kpageflags_shmem_only ? s->v->kind == PI_KIND_SHMEM :
			     !sparse || (in_holder && !s->ctx->pinsrc))) {
				c->kslot[i] = (uint32_t)nkpf;
				c->kpfns[nkpf++] = e & PM_PFN_MASK;
			}
		}
		r = read_entries(s, npfn, nkpf);
		if (r < 0)
			return r;

		/* pages of a THP share the head's facts */
		for (size_t i = 0; i < n && nkpf; i++) {
			uint64_t pfn, k;

			if (c->kslot[i] == NO_SLOT)
				continue;
			pfn = c->pme[i] & PM_PFN_MASK;
			k = c->kpf[c->kslot[i]];
			if ((k & KPF_BIT(KPF_COMPOUND_TAIL)) && head_valid && pfn == prev_pfn + 1) {
				uint64_t shared = KPF_BIT(KPF_ANON) | KPF_BIT(KPF_ANON_EXCLUSIVE);

				c->kpf[c->kslot[i]] = (k & ~shared) | (head_kpf & shared);
			} else if (k & KPF_BIT(KPF_COMPOUND_HEAD)) {
				head_kpf = k;
				head_valid = true;
			} else if (!(k & KPF_BIT(KPF_COMPOUND_TAIL))) {
				head_valid = false;
			}
			prev_pfn = pfn;
		}

		for (size_t i = 0; i < n; i++) {
			uint64_t a = addr + i * PI_PAGE;
			const struct pi_holder *h = dense ? holder_at(s, a) : NULL;

			if (!page_wanted(s, c->pme[i], h != NULL))
				continue;
			r = emit(s, i, a, 1, huge, h);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int scan_span(struct scan *s, uint64_t start, uint64_t end, bool huge, bool dense)
{
	uint64_t addr = start;
	int r;

	if (huge && vma_sparse(s->ctx, s->v) && !dense)
		return scan_huge(s, start, end);
	while (addr < end) {
		size_t n = (size_t)((end - addr) / PI_PAGE);

		if (n > PI_CHUNK)
			n = PI_CHUNK;
		r = read_pme(s, addr, n);
		if (r >= 0)
			r = process_chunk(s, addr, n, huge, dense);
		if (r < 0)
			return r;
		addr += n * PI_PAGE;
	}
	return 0;
}

/* [start, end) of the VMA: PAGEMAP_SCAN ranges and holder ranges */
static int scan_ranges(struct scan *s, uint64_t start, uint64_t end)
{
	struct pi_vrange *ranges = NULL;
	struct seg *segs = NULL;
	size_t nranges = 0, nsegs = 0;
	int r;

	r = pi_pagemap_scan(s->p->pm, start, end, &ranges, &nranges);
	if (r == -EOPNOTSUPP)
		return scan_span(s, start, end, false, true);
	if (r < 0)
		return r;
	r = vma_segments(s->p, start, end, ranges, nranges, &segs, &nsegs);
	free(ranges);
	for (size_t k = 0; k < nsegs && r >= 0; k++)
		r = scan_span(s, segs[k].start, segs[k].end, segs[k].huge, segs[k].dense);
	free(segs);
	return r;
}

/*
 * Whether pagemap entries read directly do as well as PAGEMAP_SCAN for a
 * chunk: most pages present (no holes worth skipping), PFNs visible, and
 * no 2 MiB block that may be a PMD-mapped THP (present, PFN 512-aligned
 * and contiguous to its last page), which the scan would read once per
 * folio. PAGEMAP_SCAN walks every PTE too: on dense 4k memory it costs
 * half as much again as the pagemap read itself.
 */
static bool chunk_direct(const struct chunk *c, uint64_t addr, size_t n)
{
	const uint64_t pmd = PI_PMD_PAGES * PI_PAGE;
	size_t present = 0, i;

	for (i = 0; i < n; i++) {
		uint64_t e = c->pme[i];

		if (!(e & PM_PRESENT))
			continue;
		if (!(e & PM_PFN_MASK))
			return false;
		present++;
	}
	if (present * 8 < n * 7)
		return false;
	i = (size_t)((((addr + pmd - 1) & ~(pmd - 1)) - addr) / PI_PAGE);
	for (; i + PI_PMD_PAGES <= n; i += PI_PMD_PAGES) {
		uint64_t e0 = c->pme[i], e1 = c->pme[i + PI_PMD_PAGES - 1];
		uint64_t pfn0 = e0 & PM_PFN_MASK;

		if ((e0 & PM_PRESENT) && (e1 & PM_PRESENT) && !(pfn0 % PI_PMD_PAGES) &&
		    (e1 & PM_PFN_MASK) == pfn0 + PI_PMD_PAGES - 1)
			return false;
	}
	return true;
}

static bool holder_in(const struct pi_proc *p, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < p->holders.n; i++)
		if (page_down(p->holders.h[i].start) < end && start < page_up(p->holders.h[i].end))
			return true;
	return false;
}

/*
 * A private VMA of the sparse report: chunks of pagemap read directly while
 * they are dense 4k memory, PAGEMAP_SCAN from the first chunk that is not
 * (holes, THP, hidden PFNs) to the VMA's end.
 */
static int scan_vma_sparse(struct scan *s, const struct pi_vma *v)
{
	uint64_t addr = v->start;
	int r;

	while (addr < v->end) {
		size_t n = (size_t)((v->end - addr) / PI_PAGE);
		uint64_t end;

		if (n > PI_CHUNK)
			n = PI_CHUNK;
		end = addr + n * PI_PAGE;
		r = read_pme(s, addr, n);
		if (r < 0)
			return r;
		if (!chunk_direct(s->c, addr, n))
			return scan_ranges(s, addr, v->end);
		r = process_chunk(s, addr, n, false, holder_in(s->p, addr, end));
		if (r < 0)
			return r;
		addr = end;
	}
	return 0;
}

static int scan_all(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn,
		    pi_run_fn run_fn, void *ud);

/*
 * Holders the kernel does not place: RDMA MRs without an address and the
 * VFIO class. A first pass collects the runs of pinned pages no holder
 * explains; MRs go on runs of their length, and what is left is "vfio"
 * when VmLck, not VmPin, accounts for it.
 */
struct prescan {
	struct pi_pin_run *runs, *sub;
	size_t nruns, capruns, nsub, capsub;
	uint64_t holder_pages, free_pages;
	int64_t last_pins;
};

static int prescan_add(struct pi_pin_run **arr, size_t *n, size_t *cap, uint64_t addr,
		       int64_t pins, bool split_on_pins)
{
	struct pi_pin_run *last = *n ? &(*arr)[*n - 1] : NULL;
	int r;

	if (last && last->end == addr && (!split_on_pins || last->pins == pins)) {
		last->end += PI_PAGE;
		if (pins < last->pins)
			last->pins = pins;
		return 0;
	}
	r = pi_grow((void **)arr, cap, *n + 1, sizeof(**arr));
	if (r < 0)
		return r;
	(*arr)[(*n)++] = (struct pi_pin_run){ .start = addr, .end = addr + PI_PAGE, .pins = pins };
	return 0;
}

static int prescan_page(const struct pi_page *pg, void *ud)
{
	struct prescan *ps = ud;
	int r;

	if (pg->verdict != PI_V_PINNED)
		return 0;
	if (pg->holder) {
		ps->holder_pages++;
		return 0;
	}
	ps->free_pages++;
	r = prescan_add(&ps->runs, &ps->nruns, &ps->capruns, pg->addr, pg->pins, false);
	if (r >= 0)
		r = prescan_add(&ps->sub, &ps->nsub, &ps->capsub, pg->addr, pg->pins, true);
	return r;
}

static bool rdma_unplaced(const struct pi_proc *p)
{
	for (size_t i = 0; i < p->rdma.n; i++)
		if (p->rdma.m[i].place == PI_RDMA_UNPLACED)
			return true;
	return false;
}

static int place_holders(struct pi_proc *p, struct pi_scan_ctx *ctx)
{
	struct prescan ps = { 0 };
	uint64_t mlocked = 0, rdma_pages = 0;
	size_t before = p->holders.n;
	int r;

	p->holders_placed = true;
	if (!ctx->pinsrc)
		return 0;	/* lengths mean nothing without page-level pins */
	if (!rdma_unplaced(p) && !(p->status.has_vmlck && p->status.vmlck_kib))
		return 0;
	r = scan_all(p, ctx, prescan_page, NULL, &ps);
	if (r < 0)
		goto out;
	if (rdma_unplaced(p) && ps.nruns) {
		size_t nbefore = p->rdma.n;

		r = pi_rdma_place(&p->rdma, ps.runs, ps.nruns, ps.sub, ps.nsub);
		if (r < 0)
			goto out;
		/* only the MRs placed now: those with an iova are holders already */
		for (size_t i = 0; i < nbefore; i++) {
			struct pi_rdma_mr *m = &p->rdma.m[i];
			struct pi_rdma_mr_list one = { .m = m, .n = 1 };

			if (m->place != PI_RDMA_BY_LENGTH)
				continue;
			r = pi_rdma_add_holders(&one, &p->holders);
			if (r < 0)
				goto out;
			rdma_pages += (m->end - m->start) / PI_PAGE;
		}
	}
	if (p->status.has_vmlck) {
		uint64_t holder_kib = (ps.holder_pages + rdma_pages) * 4;
		uint64_t free_kib = (ps.free_pages > rdma_pages ? ps.free_pages - rdma_pages : 0) * 4;

		if (pi_smaps_locked_kib(p->pid, &mlocked) < 0)
			mlocked = 0;
		if (pi_vfio_classify(&p->status, holder_kib, free_kib, mlocked, &p->vfio) == 0)
			p->has_vfio = true;
		if (p->has_vfio && p->vfio.whole) {
			/* every pinned run no MR took */
			for (size_t i = 0; i < ps.nruns; i++) {
				if (ps.runs[i].used)
					continue;
				r = pi_vfio_add_holder(&p->holders, ps.runs[i].start, ps.runs[i].end);
				if (r < 0)
					goto out;
				p->vfio_kib += (ps.runs[i].end - ps.runs[i].start) / 1024;
			}
		}
	}
	r = 0;
out:
	if (r < 0)
		p->holders.n = before;
	free(ps.runs);
	free(ps.sub);
	return r;
}

int pi_scan_proc(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn, void *ud)
{
	int r;

	if (!p->holders_placed) {
		r = place_holders(p, ctx);
		if (r < 0)
			return r;
	}
	return scan_all(p, ctx, fn, ctx->run_fn, ud);
}

static int scan_all(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn,
		    pi_run_fn run_fn, void *ud)
{
	struct scan s = { .p = p, .ctx = ctx, .fn = fn, .run_fn = run_fn, .ud = ud };
	int r = 0;

	s.c = malloc(sizeof(*s.c));
	if (!s.c)
		return -ENOMEM;
	/* O(log n) holder lookups (thousands of registered buffers); linear without memory */
	if (p->holders.idx_n != p->holders.n || !p->holders.idx_bound)
		pi_holder_list_index(&p->holders);
	if (!ctx->use_pagemap_scan)
		pi_pagemap_disable_scan(p->pm);
	for (size_t i = 0; i < p->vmas.n && r >= 0; i++) {
		const struct pi_vma *v = &p->vmas.vmas[i];

		if (!vma_wanted(v, ctx->anon_only))
			continue;
		s.v = v;
		s.holder_from = s.holder_until = 0;
		if (!pi_pagemap_has_scan(p->pm))
			r = scan_span(&s, v->start, v->end, false, true);
		else if (vma_sparse(ctx, v))
			r = scan_vma_sparse(&s, v);
		else
			r = scan_ranges(&s, v->start, v->end);
		if (r >= 0 && run_fn)
			r = run_flush(&s);
	}
	free(s.c);
	return r < 0 ? r : 0;
}
