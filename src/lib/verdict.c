// SPDX-License-Identifier: GPL-2.0-or-later
/* Page verdicts (DESIGN section 5) and runs of pages with equal facts. */
#include <errno.h>
#include <string.h>
#include "pininspect/scan.h"
#include "pininspect/util.h"

static const char *const verdict_names[PI_V__MAX] = {
	[PI_V_PINNED] = "pinned",
	[PI_V_MAYBE] = "maybe-pinned",
	[PI_V_NOT] = "not-pinned",
	[PI_V_UNKNOWN] = "unknown",
};

const char *pi_verdict_name(enum pi_verdict v)
{
	return (unsigned int)v < PI_V__MAX ? verdict_names[v] : "unknown";
}

void pi_page_decide(struct pi_page *pg, enum pi_source source)
{
	pg->pins = -1;
	pg->pin_exact = false;
	pg->exclusive = -1;
	pg->longterm_pinnable = -1;

	if (pg->pin_known && !(pg->pin & KPP_F_NOPAGE))
		pg->longterm_pinnable = !!(pg->pin & KPP_F_LONGTERM_PINNABLE);
	/* exclusivity: the exact source knows it per page; else kpageflags bit 34 */
	if (pg->pin_known && !(pg->pin & KPP_F_NOPAGE) && (pg->pin & KPP_F_ANON))
		pg->exclusive = !!(pg->pin & KPP_F_ANON_EXCLUSIVE);
	else if (pg->kpf_known && (pg->kpf & KPF_BIT(KPF_ANON)))
		pg->exclusive = !!(pg->kpf & KPF_BIT(KPF_ANON_EXCLUSIVE));

	if (pg->present && pg->pin_known && !(pg->pin & KPP_F_NOPAGE)) {
		uint64_t pins = KPP_PINCOUNT(pg->pin);

		pg->source = source;
		if (pins > 0) {
			pg->verdict = PI_V_PINNED;
			pg->pins = (int64_t)pins;
			pg->pin_exact = !!(pg->pin & KPP_F_PIN_EXACT);
		} else if (pg->pin & KPP_F_MAYBE_PINNED) {
			/* bias test passed but mapcount explains it: only a maybe */
			pg->verdict = PI_V_MAYBE;
		} else {
			pg->verdict = PI_V_NOT;
			pg->pins = 0;
			pg->pin_exact = true;
		}
		return;
	}
	if (pg->holder) {
		/*
		 * A holder registered this range; without page-level
		 * confirmation (or for a page not mapped now) it is a maybe.
		 */
		pg->source = PI_SRC_IOURING;
		pg->verdict = PI_V_MAYBE;
		return;
	}
	pg->source = PI_SRC_NONE;
	pg->verdict = PI_V_UNKNOWN;
}

void pi_summary_add_n(struct pi_summary *s, const struct pi_page *pg, uint64_t npages)
{
	s->counts[pg->verdict] += npages;
	s->pages += npages;
	if (pg->verdict == PI_V_PINNED || pg->verdict == PI_V_MAYBE) {
		if (pg->exclusive == 0)
			s->pinned_not_exclusive += npages;
		if (!pg->present)
			s->pinned_not_present += npages;
	}
	if (pg->holder && pg->present && pg->verdict == PI_V_NOT)
		s->holder_pages_not_pinned += npages;
}

void pi_summary_add(struct pi_summary *s, const struct pi_page *pg)
{
	pi_summary_add_n(s, pg, 1);
}

static bool same_facts(const struct pi_page *a, const struct pi_page *b)
{
	return a->vma == b->vma && a->verdict == b->verdict && a->source == b->source &&
	       a->pins == b->pins && a->pin_exact == b->pin_exact &&
	       a->exclusive == b->exclusive && a->mapped_once == b->mapped_once &&
	       a->longterm_pinnable == b->longterm_pinnable &&
	       a->present == b->present && a->swapped == b->swapped &&
	       a->kind == b->kind && a->holder == b->holder && a->huge == b->huge;
}

int pi_runs_add_n(struct pi_runs *runs, const struct pi_page *pg, uint64_t npages)
{
	struct pi_run *last = runs->n ? &runs->r[runs->n - 1] : NULL;
	int r;

	pi_summary_add_n(&runs->sum, pg, npages);
	if (last && last->end == pg->addr && same_facts(&last->first, pg)) {
		last->end += npages * 4096;
		last->pages += npages;
		return 0;
	}
	r = pi_grow((void **)&runs->r, &runs->cap, runs->n + 1, sizeof(*runs->r));
	if (r < 0)
		return r;
	runs->r[runs->n++] = (struct pi_run){
		.start = pg->addr, .end = pg->addr + npages * 4096, .pages = npages, .first = *pg,
	};
	return 0;
}

int pi_runs_add(struct pi_runs *runs, const struct pi_page *pg)
{
	return pi_runs_add_n(runs, pg, 1);
}

void pi_runs_free(struct pi_runs *runs)
{
	free(runs->r);
	memset(runs, 0, sizeof(*runs));
}
