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
		if (r < 0)
			return r;
		r = pi_maps_read(pid, &p.vmas, ret_bad_line);
		if (r < 0) {
			pi_pagemap_close(p.pm);
			return r;
		}
		r = pi_root_is_host() ? pi_pagemap_alive(p.pm) : 1;
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

struct chunk {
	uint64_t pme[PI_CHUNK];
	uint64_t pfns[PI_CHUNK];
	uint64_t kpf[PI_CHUNK];
	uint64_t pin[PI_CHUNK];
	size_t slot[PI_CHUNK];	/* page index -> index in pfns[], or SIZE_MAX */
};

static bool vma_overlaps_holder(const struct pi_proc *p, const struct pi_vma *v)
{
	for (size_t i = 0; i < p->holders.n; i++)
		if (p->holders.h[i].start < v->end && v->start < p->holders.h[i].end)
			return true;
	return false;
}

static bool vma_wanted(const struct pi_vma *v, bool anon_only)
{
	if (v->kind == PI_KIND_OTHER)
		return false;
	if (anon_only)
		return v->kind == PI_KIND_ANON || v->kind == PI_KIND_FILE;
	return true;
}

static enum pi_kind page_kind(const struct pi_vma *v, uint64_t pme)
{
	/* bit 61: file page or shared anon; a COW copy in a file mapping is anon */
	if (!(pme & PM_FILE))
		return v->kind == PI_KIND_SHMEM ? PI_KIND_SHMEM : PI_KIND_ANON;
	return v->kind == PI_KIND_ANON ? PI_KIND_SHMEM : v->kind;
}

static int scan_span(struct pi_proc *p, struct pi_scan_ctx *ctx, const struct pi_vma *v,
		     uint64_t start, uint64_t end, bool huge, struct chunk *c,
		     pi_page_fn fn, void *ud)
{
	uint64_t addr = start;
	int r;

	while (addr < end) {
		size_t n = (size_t)((end - addr) / PI_PAGE), npfn = 0;
		ssize_t got;
		uint64_t head_kpf = 0;
		bool head_valid = false;
		uint64_t prev_pfn = 0;

		if (n > PI_CHUNK)
			n = PI_CHUNK;
		got = pi_pagemap_read(p->pm, addr, n, c->pme);
		if (got < 0)
			return (int)got;
		if ((size_t)got < n)
			return -ENODATA;
		ctx->pagemap_entries_read += n;

		for (size_t i = 0; i < n; i++) {
			uint64_t e = c->pme[i];
			bool want;

			c->slot[i] = SIZE_MAX;
			want = (e & PM_PRESENT) &&
			       (!ctx->anon_only || !(e & PM_FILE));
			if (want && (e & PM_PFN_MASK)) {
				c->slot[i] = npfn;
				c->pfns[npfn++] = e & PM_PFN_MASK;
			}
		}
		if (npfn && ctx->kpageflags) {
			r = pi_kpage_read(ctx->kpageflags, c->pfns, npfn, c->kpf, NULL);
			if (r < 0)
				return r;
			ctx->pfn_entries_read += npfn;
		}
		if (npfn && ctx->pinsrc) {
			r = pi_pinsrc_read(ctx->pinsrc, c->pfns, npfn, c->pin);
			if (r < 0)
				return r;
			ctx->pfn_entries_read += npfn;
		}

		for (size_t i = 0; i < n; i++) {
			uint64_t e = c->pme[i], a = addr + i * PI_PAGE;
			struct pi_page pg = { .addr = a, .pme = e, .vma = v };

			pg.present = !!(e & PM_PRESENT);
			pg.swapped = !pg.present && (e & PM_SWAP);
			pg.holder = pi_holder_find(&p->holders, a);
			if (pg.present && ctx->anon_only && (e & PM_FILE))
				continue;
			/* non-present pages matter only where a holder pinned something */
			if (!pg.present && !pg.holder)
				continue;
			pg.mapped_once = pg.present && (e & PM_MMAP_EXCLUSIVE);
			pg.kind = page_kind(v, e);
			pg.huge = huge;
			if (pg.present && !(e & PM_PFN_MASK))
				ctx->pfns_hidden = true;
			if (c->slot[i] != SIZE_MAX) {
				size_t s = c->slot[i];

				pg.pfn = c->pfns[s];
				pg.pfn_known = true;
				if (ctx->kpageflags) {
					uint64_t k = c->kpf[s];

					/* pages of a THP share the head's facts */
					if ((k & KPF_BIT(KPF_COMPOUND_TAIL)) && head_valid &&
					    pg.pfn == prev_pfn + 1) {
						uint64_t shared = KPF_BIT(KPF_ANON) |
							KPF_BIT(KPF_ANON_EXCLUSIVE);
						k = (k & ~shared) | (head_kpf & shared);
					} else if (k & KPF_BIT(KPF_COMPOUND_HEAD)) {
						head_kpf = k;
						head_valid = true;
					} else if (!(k & KPF_BIT(KPF_COMPOUND_TAIL))) {
						head_valid = false;
					}
					pg.kpf = k;
					pg.kpf_known = true;
					if (k & KPF_BIT(KPF_THP))
						pg.huge = true;
					/* MFD_HUGETLB memfds look like shmem by name */
					if (k & KPF_BIT(KPF_HUGE)) {
						pg.huge = true;
						pg.kind = PI_KIND_HUGETLB;
					}
				}
				if (ctx->pinsrc) {
					pg.pin = c->pin[s];
					pg.pin_known = true;
					if (pg.pin & KPP_F_LARGE)
						pg.huge = true;
				}
				prev_pfn = pg.pfn;
			}
			pi_page_decide(&pg, ctx->source);
			r = fn(&pg, ud);
			if (r < 0)
				return r;
		}
		addr += n * PI_PAGE;
	}
	return 0;
}

static int scan_all(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn, void *ud);

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
	r = scan_all(p, ctx, prescan_page, &ps);
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
	return scan_all(p, ctx, fn, ud);
}

static int scan_all(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn, void *ud)
{
	struct chunk *c = malloc(sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	if (!ctx->use_pagemap_scan)
		pi_pagemap_disable_scan(p->pm);
	for (size_t i = 0; i < p->vmas.n && r >= 0; i++) {
		const struct pi_vma *v = &p->vmas.vmas[i];
		struct pi_vrange *ranges = NULL;
		size_t nranges = 0;

		if (!vma_wanted(v, ctx->anon_only))
			continue;
		/* holder ranges need their non-present pages too: read them whole */
		if (!vma_overlaps_holder(p, v) && pi_pagemap_has_scan(p->pm)) {
			r = pi_pagemap_scan(p->pm, v->start, v->end, &ranges, &nranges);
			if (r == -EOPNOTSUPP) {
				r = 0;
			} else if (r < 0) {
				break;
			} else {
				for (size_t k = 0; k < nranges && r >= 0; k++)
					r = scan_span(p, ctx, v, ranges[k].start, ranges[k].end,
						      ranges[k].huge, c, fn, ud);
				free(ranges);
				continue;
			}
		}
		r = scan_span(p, ctx, v, v->start, v->end, false, c, fn, ud);
	}
	free(c);
	return r < 0 ? r : 0;
}
