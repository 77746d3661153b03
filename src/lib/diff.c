// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshots of pinned pages and their diff into mapping transitions
 * (DESIGN section 6). A pinned page's identity is (vaddr, PFN, exclusive,
 * present); the diff tells what happened to each one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pininspect/diff.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define PI_PAGE 4096ULL

static const char *const transition_names[PI_T__MAX] = {
	[PI_T_PRESERVED] = "preserved",
	[PI_T_DESYNCED] = "desynced",
	[PI_T_MIGRATING] = "migrating",
	[PI_T_SWAPPED] = "swapped",
	[PI_T_UNMAPPED] = "unmapped",
	[PI_T_LOST_EXCLUSIVE] = "lost-exclusive",
	[PI_T_UNPINNED] = "unpinned",
	[PI_T_NEW_PIN] = "new-pin",
};

const char *pi_transition_name(enum pi_transition t)
{
	return (unsigned int)t < PI_T__MAX ? transition_names[t] : "unknown";
}

int pi_transition_from_name(const char *name, size_t len, enum pi_transition *ret)
{
	for (int i = 0; i < PI_T__MAX; i++)
		if (strlen(transition_names[i]) == len && !strncmp(transition_names[i], name, len)) {
			*ret = (enum pi_transition)i;
			return 0;
		}
	return -EINVAL;
}

int pi_transition_parse_list(const char *list, unsigned int *ret_mask,
			     const char **ret_bad, size_t *ret_badlen)
{
	unsigned int mask = 0;
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		enum pi_transition t;

		if (len && pi_transition_from_name(p, len, &t) < 0) {
			if (ret_bad)
				*ret_bad = p;
			if (ret_badlen)
				*ret_badlen = len;
			return -EINVAL;
		}
		if (len)
			mask |= 1U << t;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret_mask = mask;
	return 0;
}

int pi_snapshot_add(struct pi_snapshot *s, const struct pi_snap_page *sp)
{
	int r = pi_grow((void **)&s->p, &s->cap, s->n + 1, sizeof(*s->p));

	if (r < 0)
		return r;
	s->p[s->n++] = *sp;
	if (pi_snap_page_pinned(sp))
		s->npinned++;
	return 0;
}

void pi_snapshot_free(struct pi_snapshot *s)
{
	free(s->p);
	s->p = NULL;
	s->n = s->cap = s->npinned = 0;
}

const struct pi_snap_page *pi_snapshot_find(const struct pi_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->p[mid].addr == addr)
			return &s->p[mid];
		if (s->p[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_sp(const void *a, const void *b)
{
	const struct pi_snap_page *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* stable for duplicates: keep file order so the later one wins */
	return x < y ? -1 : x > y;
}

void pi_snapshot_sort(struct pi_snapshot *s)
{
	size_t out = 0;

	if (!s->n)
		return;
	qsort(s->p, s->n, sizeof(*s->p), cmp_sp);
	for (size_t i = 0; i < s->n; i++) {
		if (out && s->p[out - 1].addr == s->p[i].addr)
			out--;
		s->p[out++] = s->p[i];
	}
	s->n = out;
	s->npinned = 0;
	for (size_t i = 0; i < s->n; i++)
		if (pi_snap_page_pinned(&s->p[i]))
			s->npinned++;
}

static void sp_from_page(struct pi_snap_page *sp, const struct pi_page *pg)
{
	memset(sp, 0, sizeof(*sp));
	sp->addr = pg->addr;
	sp->pme = pg->pme;
	sp->pins = pg->pins < 0 ? -1 : pg->pins > INT32_MAX ? INT32_MAX : (int32_t)pg->pins;
	sp->verdict = (uint8_t)pg->verdict;
	sp->source = (uint8_t)pg->source;
	sp->exclusive = pg->exclusive;
	sp->kind = (uint8_t)pg->kind;
	if (pg->pfn_known) {
		sp->pfn = pg->pfn;
		sp->flags |= PI_SP_PFN_KNOWN;
	}
	if (pg->present)
		sp->flags |= PI_SP_PRESENT;
	if (pg->swapped)
		sp->flags |= PI_SP_SWAPPED;
	if (pg->holder)
		sp->flags |= PI_SP_HOLDER;
}

struct take_state {
	const struct pi_snapshot *prev;
	size_t cursor;
	struct pi_snapshot *ret;
};

/* The scan walks addresses in order, so prev is followed with one cursor. */
static int take_page(const struct pi_page *pg, void *userdata)
{
	struct take_state *st = userdata;
	bool pinned = pg->verdict == PI_V_PINNED || pg->verdict == PI_V_MAYBE;
	bool in_prev = false;
	struct pi_snap_page sp;

	if (st->prev) {
		const struct pi_snapshot *prev = st->prev;

		while (st->cursor < prev->n && prev->p[st->cursor].addr < pg->addr)
			st->cursor++;
		in_prev = st->cursor < prev->n && prev->p[st->cursor].addr == pg->addr &&
			  pi_snap_page_pinned(&prev->p[st->cursor]);
	}
	if (!pinned && !in_prev)
		return 0;
	sp_from_page(&sp, pg);
	if (!pinned)
		sp.flags |= PI_SP_TRACKED;
	return pi_snapshot_add(st->ret, &sp);
}

#define MISSING_BATCH 512

/* Record, from pagemap, the previously pinned addresses the scan did not visit. */
static int add_missing(struct pi_proc *p, const struct pi_snapshot *prev, struct pi_snapshot *s)
{
	struct pi_snapshot extra = { 0 };
	uint64_t pme[MISSING_BATCH];
	uint64_t batch_start = 0;
	size_t batch_n = 0, j = 0;
	int r = 0;

	for (size_t i = 0; i < prev->n && r >= 0; i++) {
		const struct pi_snap_page *o = &prev->p[i];
		struct pi_snap_page sp = { .addr = o->addr, .pins = -1, .exclusive = -1,
					   .verdict = PI_V_UNKNOWN, .flags = PI_SP_TRACKED,
					   .kind = o->kind };
		const struct pi_vma *v;

		if (!pi_snap_page_pinned(o))
			continue;
		while (j < s->n && s->p[j].addr < o->addr)
			j++;
		if (j < s->n && s->p[j].addr == o->addr)
			continue;
		v = pi_vma_find(&p->vmas, o->addr);
		if (!v) {
			sp.flags |= PI_SP_NO_VMA;
		} else {
			uint64_t e;


			/* one pread for a run of addresses (a swapped or unmapped range) */
			if (!batch_n || o->addr < batch_start ||
			    o->addr >= batch_start + batch_n * PI_PAGE) {
				size_t n = (size_t)((v->end - o->addr) / PI_PAGE);
				ssize_t got;

				if (n > MISSING_BATCH)
					n = MISSING_BATCH;
				got = pi_pagemap_read(p->pm, o->addr, n, pme);
				if (got < 0) {
					r = (int)got;
					break;
				}
				batch_start = o->addr;
				batch_n = (size_t)got;
				if (!batch_n) {
					/* pagemap ended: the process is going away */
					pme[0] = 0;
					batch_n = 1;
				}
			}
			e = pme[(o->addr - batch_start) / PI_PAGE];
			sp.pme = e;
			if (o->kind == PI_SP_KIND_UNKNOWN)
				sp.kind = (uint8_t)pi_page_kind(v, e);
			if (e & PM_PRESENT) {
				sp.flags |= PI_SP_PRESENT;
				if (e & PM_PFN_MASK) {
					sp.pfn = e & PM_PFN_MASK;
					sp.flags |= PI_SP_PFN_KNOWN;
				}
			} else if (e & PM_SWAP) {
				sp.flags |= PI_SP_SWAPPED;
			}
		}
		if (pi_holder_find(&p->holders, o->addr))
			sp.flags |= PI_SP_HOLDER;
		r = pi_snapshot_add(&extra, &sp);
	}
	if (r >= 0 && extra.n) {
		size_t n = s->n;

		for (size_t i = 0; i < extra.n && r >= 0; i++)
			r = pi_snapshot_add(s, &extra.p[i]);
		/* both halves are sorted; a merge would do, qsort is simpler */
		if (r >= 0 && n)
			pi_snapshot_sort(s);
	}
	pi_snapshot_free(&extra);
	return r;
}

/* For pages whose PFN changed or went away: is the old PFN still pinned? */
static int check_old_pfns(struct pi_pinsrc *src, const struct pi_snapshot *prev,
			  struct pi_snapshot *s)
{
	uint64_t *pfns = NULL, *out = NULL;
	size_t *idx = NULL, n = 0, cap = 0, j = 0;
	int r = 0;

	for (size_t i = 0; i < prev->n; i++) {
		const struct pi_snap_page *o = &prev->p[i];
		struct pi_snap_page *now;

		if (!pi_snap_page_pinned(o) || !(o->flags & PI_SP_PFN_KNOWN))
			continue;
		while (j < s->n && s->p[j].addr < o->addr)
			j++;
		if (j >= s->n || s->p[j].addr != o->addr)
			continue;
		now = &s->p[j];
		if ((now->flags & PI_SP_PFN_KNOWN) && now->pfn == o->pfn)
			continue;
		if (n == cap) {
			size_t c2 = cap;

			r = pi_grow((void **)&pfns, &c2, n + 1, sizeof(*pfns));
			if (r == 0)
				r = pi_grow((void **)&idx, &cap, n + 1, sizeof(*idx));
			if (r < 0)
				goto out;
		}
		pfns[n] = o->pfn;
		idx[n++] = j;
	}
	if (!n)
		goto out;
	out = calloc(n, sizeof(*out));
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	r = pi_pinsrc_read(src, pfns, n, out);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pi_snap_page *now = &s->p[idx[i]];

		now->flags |= PI_SP_OLDPFN_CHECKED;
		if (!(out[i] & KPP_F_NOPAGE) &&
		    (KPP_PINCOUNT(out[i]) > 0 || (out[i] & KPP_F_MAYBE_PINNED)))
			now->flags |= PI_SP_OLDPFN_PINNED;
	}
out:
	free(pfns);
	free(idx);
	free(out);
	return r;
}

int pi_snapshot_take(struct pi_proc *p, struct pi_scan_ctx *ctx,
		     const struct pi_snapshot *prev, struct pi_snapshot *ret)
{
	struct pi_snapshot s = {
		.pid = p->pid, .starttime = p->starttime, .has_starttime = p->has_starttime,
		.source = ctx->source,
	};
	struct take_state st = { .prev = prev, .ret = &s };
	int r;

	snprintf(s.comm, sizeof(s.comm), "%s", p->status.name);
	if (prev && prev->n && pi_grow((void **)&s.p, &s.cap, prev->n, sizeof(*s.p)) < 0)
		return -ENOMEM;
	r = pi_scan_proc(p, ctx, take_page, &st);
	if (r == 0 && prev)
		r = add_missing(p, prev, &s);
	if (r == 0 && prev && ctx->pinsrc)
		r = check_old_pfns(ctx->pinsrc, prev, &s);
	if (r < 0) {
		pi_snapshot_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

#define TRACK_CHUNK 4096

/*
 * Look again at the addresses pinned in prev only: pagemap for each run of
 * them, then the pin (and kpageflags) of the PFNs mapped there now.
 */
int pi_snapshot_take_tracked(struct pi_proc *p, struct pi_scan_ctx *ctx,
			     const struct pi_snapshot *prev, struct pi_snapshot *ret)
{
	struct pi_snapshot s = {
		.pid = p->pid, .starttime = p->starttime, .has_starttime = p->has_starttime,
		.source = ctx->source,
	};
	uint64_t *addr = NULL, *pme = NULL, *pfns = NULL, *pin = NULL, *kpf = NULL;
	size_t *slot = NULL;
	size_t i = 0;
	int r = 0;

	snprintf(s.comm, sizeof(s.comm), "%s", p->status.name);
	/* one record per tracked address: no reallocations on the way */
	if (prev->n && pi_grow((void **)&s.p, &s.cap, prev->n, sizeof(*s.p)) < 0)
		return -ENOMEM;
	addr = malloc(TRACK_CHUNK * sizeof(*addr));
	pme = malloc(TRACK_CHUNK * sizeof(*pme));
	pfns = malloc(TRACK_CHUNK * sizeof(*pfns));
	pin = malloc(TRACK_CHUNK * sizeof(*pin));
	kpf = malloc(TRACK_CHUNK * sizeof(*kpf));
	slot = malloc(TRACK_CHUNK * sizeof(*slot));
	if (!addr || !pme || !pfns || !pin || !kpf || !slot) {
		r = -ENOMEM;
		goto out;
	}
	while (i < prev->n && r >= 0) {
		size_t n = 0, npfn = 0;

		/* a chunk of pinned addresses; pagemap is read per contiguous run */
		for (; i < prev->n && n < TRACK_CHUNK; i++)
			if (pi_snap_page_pinned(&prev->p[i]))
				addr[n++] = prev->p[i].addr;
		for (size_t k = 0; k < n && r >= 0;) {
			const struct pi_vma *v = pi_vma_find(&p->vmas, addr[k]);
			size_t run = 1;
			ssize_t got;

			if (!v) {
				pme[k++] = 0;
				continue;
			}
			while (k + run < n && addr[k + run] == addr[k] + run * PI_PAGE &&
			       addr[k + run] < v->end)
				run++;
			got = pi_pagemap_read(p->pm, addr[k], run, pme + k);
			if (got < 0) {
				r = (int)got;
				break;
			}
			/* a short read: the process is exiting; the rest reads as unmapped */
			for (size_t m = (size_t)got; m < run; m++)
				pme[k + m] = 0;
			k += run;
		}
		if (r < 0)
			break;
		ctx->pagemap_entries_read += n;
		for (size_t k = 0; k < n; k++) {
			slot[k] = SIZE_MAX;
			if ((pme[k] & PM_PRESENT) && (pme[k] & PM_PFN_MASK)) {
				slot[k] = npfn;
				pfns[npfn++] = pme[k] & PM_PFN_MASK;
			}
		}
		if (npfn && ctx->pinsrc) {
			r = pi_pinsrc_read(ctx->pinsrc, pfns, npfn, pin);
			if (r < 0)
				break;
		}
		if (npfn && ctx->kpageflags && !ctx->kpageflags_shmem_only) {
			r = pi_kpage_read(ctx->kpageflags, pfns, npfn, kpf, NULL);
			if (r < 0)
				break;
		}
		ctx->pfn_entries_read += npfn;
		for (size_t k = 0; k < n && r >= 0; k++) {
			const struct pi_vma *v = pi_vma_find(&p->vmas, addr[k]);
			struct pi_page pg = { .addr = addr[k], .pme = pme[k], .vma = v,
					      .kind = v ? pi_page_kind(v, pme[k]) : PI_KIND_ANON };
			struct pi_snap_page sp;

			pg.present = !!(pme[k] & PM_PRESENT);
			pg.swapped = !pg.present && (pme[k] & PM_SWAP);
			pg.mapped_once = pg.present && (pme[k] & PM_MMAP_EXCLUSIVE);
			pg.holder = v ? pi_holder_find(&p->holders, addr[k]) : NULL;
			if (pg.present && !(pme[k] & PM_PFN_MASK))
				ctx->pfns_hidden = true;
			if (slot[k] != SIZE_MAX) {
				pg.pfn = pfns[slot[k]];
				pg.pfn_known = true;
				if (ctx->pinsrc) {
					pg.pin = pin[slot[k]];
					pg.pin_known = true;
				}
				if (ctx->kpageflags) {
					pg.kpf = kpf[slot[k]];
					pg.kpf_known = true;
					if (pg.kpf & KPF_BIT(KPF_HUGE))
						pg.kind = PI_KIND_HUGETLB;
				}
			}
			pi_page_decide(&pg, ctx->source);
			sp_from_page(&sp, &pg);
			if (!v || (ctx->kpageflags_shmem_only && pg.kind == PI_KIND_SHMEM)) {
				/*
				 * unmapped: the kind it had when it was pinned; a shmem
				 * VMA without kpageflags read: hugetlb if it was
				 */
				const struct pi_snap_page *o = pi_snapshot_find(prev, addr[k]);

				if (!v) {
					sp.flags |= PI_SP_NO_VMA;
					sp.kind = o ? o->kind : PI_SP_KIND_UNKNOWN;
				} else if (o && o->kind == PI_KIND_HUGETLB) {
					sp.kind = PI_KIND_HUGETLB;
				}
			}
			/* the scan reports non-present pages only inside holder ranges */
			if (!pg.present && !pg.holder) {
				sp.verdict = PI_V_UNKNOWN;
				sp.source = PI_SRC_NONE;
			}
			if (sp.verdict != PI_V_PINNED && sp.verdict != PI_V_MAYBE)
				sp.flags |= PI_SP_TRACKED;
			r = pi_snapshot_add(&s, &sp);
		}
	}
	if (r == 0 && ctx->pinsrc)
		r = check_old_pfns(ctx->pinsrc, prev, &s);
out:
	free(addr);
	free(pme);
	free(pfns);
	free(pin);
	free(kpf);
	free(slot);
	if (r < 0) {
		pi_snapshot_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

bool pi_pme_is_migration(uint64_t pme, unsigned int nr_swap_devices)
{
	unsigned int type = (unsigned int)PM_SWAP_TYPE(pme);
	/* below this no kernel config puts a non-swap entry type */
	unsigned int floor = 20;

	if ((pme & PM_PRESENT) || !(pme & PM_SWAP) || (pme & PM_GUARD_REGION))
		return false;
	return type >= (nr_swap_devices > floor ? nr_swap_devices : floor);
}

enum pi_transition pi_classify(const struct pi_snap_page *old, const struct pi_snap_page *now,
			       const struct pi_diff_opts *o)
{
	bool still_pinned;

	if (!now || (now->flags & PI_SP_NO_VMA))
		return PI_T_UNMAPPED;
	still_pinned = (now->verdict == PI_V_PINNED || now->verdict == PI_V_MAYBE);

	if (!(old->flags & PI_SP_PRESENT)) {
		/* a holder page that was not mapped at baseline: only its pin can change */
		return still_pinned || (now->flags & PI_SP_HOLDER) ? PI_T_PRESERVED : PI_T_UNPINNED;
	}
	if (!(now->flags & PI_SP_PRESENT)) {
		if (!(now->flags & PI_SP_SWAPPED) || (now->pme & PM_GUARD_REGION))
			return PI_T_UNMAPPED;
		return pi_pme_is_migration(now->pme, o ? o->nr_swap_devices : 0) ?
			PI_T_MIGRATING : PI_T_SWAPPED;
	}
	if ((old->flags & PI_SP_PFN_KNOWN) && (now->flags & PI_SP_PFN_KNOWN) &&
	    old->pfn != now->pfn) {
		/* the exact source read the old PFN's pin */
		if (now->flags & PI_SP_OLDPFN_CHECKED)
			return now->flags & PI_SP_OLDPFN_PINNED ? PI_T_DESYNCED : PI_T_UNPINNED;
		/* holder ranges only: a registered buffer keeps its old pages */
		return now->flags & PI_SP_HOLDER ? PI_T_DESYNCED : PI_T_UNPINNED;
	}
	if (!still_pinned)
		return PI_T_UNPINNED;
	if (old->exclusive == 1 && now->exclusive == 0)
		return PI_T_LOST_EXCLUSIVE;
	return PI_T_PRESERVED;
}

static int diff_add(struct pi_diff *d, uint64_t addr, enum pi_transition t,
		    const struct pi_snap_page *old, const struct pi_snap_page *now)
{
	struct pi_trun *last = d->n ? &d->r[d->n - 1] : NULL;
	uint8_t kind = old && old->kind != PI_SP_KIND_UNKNOWN ? old->kind :
		       now ? now->kind : PI_SP_KIND_UNKNOWN;
	int r;

	d->counts[t]++;
	if (last && last->t == t && last->end == addr && last->kind == kind &&
	    last->old_pfn_pinned == (old && now && (now->flags & PI_SP_OLDPFN_CHECKED) ?
				     !!(now->flags & PI_SP_OLDPFN_PINNED) : -1)) {
		last->end += PI_PAGE;
		last->pages++;
		return 0;
	}
	r = pi_grow((void **)&d->r, &d->cap, d->n + 1, sizeof(*d->r));
	if (r < 0)
		return r;
	last = &d->r[d->n++];
	memset(last, 0, sizeof(*last));
	last->start = addr;
	last->end = addr + PI_PAGE;
	last->pages = 1;
	last->t = t;
	last->kind = kind;
	if (old && (old->flags & PI_SP_PFN_KNOWN)) {
		last->old_pfn = old->pfn;
		last->old_pfn_known = true;
	}
	if (now && (now->flags & PI_SP_PFN_KNOWN) && (now->flags & PI_SP_PRESENT)) {
		last->new_pfn = now->pfn;
		last->new_pfn_known = true;
	}
	last->old_pfn_pinned = -1;
	if (old && now && (now->flags & PI_SP_OLDPFN_CHECKED))
		last->old_pfn_pinned = !!(now->flags & PI_SP_OLDPFN_PINNED);
	return 0;
}

static bool is_new_pin(const struct pi_snap_page *now, const struct pi_snap_page *old)
{
	if (!pi_snap_page_pinned(now))
		return false;
	if (!old || !pi_snap_page_pinned(old))
		return true;
	/* holder ranges only: the new page is "maybe" because the range is, not a new pin */
	if (now->source == PI_SRC_IOURING)
		return false;
	return (old->flags & PI_SP_PFN_KNOWN) && (now->flags & PI_SP_PFN_KNOWN) &&
	       (now->flags & PI_SP_PRESENT) && old->pfn != now->pfn;
}

static bool passing_state(enum pi_transition t)
{
	return t == PI_T_MIGRATING || t == PI_T_SWAPPED;
}

int pi_diff_snapshots(const struct pi_snapshot *old, const struct pi_snapshot *now,
		      const struct pi_diff_opts *o, struct pi_diff *d,
		      struct pi_snapshot *next)
{
	struct pi_diff pins = { 0 };	/* new-pin runs, kept apart so runs stay whole */
	size_t i = 0, j = 0;
	int r = 0;

	memset(d, 0, sizeof(*d));
	if (next) {
		memset(next, 0, sizeof(*next));
		next->pid = now->pid;
		next->starttime = now->starttime;
		next->has_starttime = now->has_starttime;
		next->source = now->source;
		memcpy(next->comm, now->comm, sizeof(next->comm));
	}
	/* merge both address-sorted lists so runs come out in address order */
	while ((i < old->n || j < now->n) && r >= 0) {
		const struct pi_snap_page *a = i < old->n ? &old->p[i] : NULL;
		const struct pi_snap_page *b = j < now->n ? &now->p[j] : NULL;
		const struct pi_snap_page *po = NULL, *pn = NULL;
		uint64_t addr;

		if (a && (!b || a->addr <= b->addr)) {
			addr = a->addr;
			po = a;
			i++;
			if (b && b->addr == addr) {
				pn = b;
				j++;
			}
		} else {
			addr = b->addr;
			pn = b;
			j++;
		}

		if (po && pi_snap_page_pinned(po)) {
			enum pi_transition t = pi_classify(po, pn, o);
			bool carry = passing_state(t);

			/* a page still in the same passing state was reported already */
			if (!(carry && po->reported == t) &&
			    (t != PI_T_PRESERVED || (o && o->keep_preserved)))
				r = diff_add(d, addr, t, po, pn);
			else if (t == PI_T_PRESERVED)
				d->counts[t]++;
			if (r < 0)
				break;
			if (carry && next) {
				struct pi_snap_page keep = *po;

				keep.reported = (uint8_t)t;
				r = pi_snapshot_add(next, &keep);
				continue;
			}
		}
		if (pn && is_new_pin(pn, po))
			r = diff_add(&pins, addr, PI_T_NEW_PIN, po, pn);
		if (r >= 0 && next && pn && pi_snap_page_pinned(pn)) {
			struct pi_snap_page keep = *pn;

			keep.flags &= (uint8_t)~(PI_SP_OLDPFN_CHECKED | PI_SP_OLDPFN_PINNED);
			keep.reported = PI_T_PRESERVED;
			r = pi_snapshot_add(next, &keep);
		}
	}
	if (r >= 0 && pins.n) {
		struct pi_trun *m = malloc((d->n + pins.n) * sizeof(*m));
		size_t a = 0, b = 0, k = 0;

		if (!m) {
			r = -ENOMEM;
		} else {
			while (a < d->n || b < pins.n)
				m[k++] = b >= pins.n || (a < d->n && d->r[a].start <= pins.r[b].start) ?
					d->r[a++] : pins.r[b++];
			free(d->r);
			d->r = m;
			d->n = d->cap = k;
			d->counts[PI_T_NEW_PIN] = pins.counts[PI_T_NEW_PIN];
		}
	}
	pi_diff_free(&pins);
	if (r < 0) {
		pi_diff_free(d);
		if (next)
			pi_snapshot_free(next);
	}
	return r;
}

void pi_diff_free(struct pi_diff *d)
{
	free(d->r);
	memset(d, 0, sizeof(*d));
}

unsigned int pi_swap_devices_count(void)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	unsigned int lines = 0;

	if (pi_root_read_file("proc/swaps", &buf, &len) < 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			lines++;
	/* the first line is the header */
	return lines ? lines - 1 : 0;
}
