// SPDX-License-Identifier: GPL-2.0-or-later
#include "tap.h"
#include "pininspect/scan.h"

static struct pi_page page(bool present, uint64_t pin, bool pin_known, uint64_t kpf, bool kpf_known)
{
	struct pi_page pg = { .present = present, .pin = pin, .pin_known = pin_known,
			      .kpf = kpf, .kpf_known = kpf_known };
	return pg;
}

int main(void)
{
	struct pi_holder h = { .start = 0x1000, .end = 0x3000, .desc = "io_uring fd 3 buf 0" };
	struct pi_runs runs = { 0 };
	struct pi_vma vma = { .start = 0, .end = 0x100000, .name = "" };
	struct pi_page pg;

	/* small folio, refcount 1025, one pin estimated from the bias */
	pg = page(true, 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON |
		  KPP_F_ANON_EXCLUSIVE, true, 0, false);
	pi_page_decide(&pg, PI_SRC_BPF);
	is_int(pg.verdict, PI_V_PINNED, "bias-estimated pin is pinned");
	is_int(pg.pins, 1, "one pin");
	ok(!pg.pin_exact, "estimate is not exact");
	is_int(pg.exclusive, 1, "exclusive from the source");
	is_int(pg.source, PI_SRC_BPF, "source named");

	pg = page(true, 2 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_PIN_EXACT |
		  KPP_F_LARGE | KPP_F_ANON, true, 0, false);
	pi_page_decide(&pg, PI_SRC_KPAGEPIN);
	ok(pg.verdict == PI_V_PINNED && pg.pin_exact && pg.exclusive == 0,
	   "large folio _pincount 1: exact pin, not exclusive");

	pg = page(true, 1030 | KPP_F_MAYBE_PINNED | KPP_F_ANON, true, 0, false);
	pi_page_decide(&pg, PI_SRC_BPF);
	is_int(pg.verdict, PI_V_MAYBE, "bias passed but no pin estimated: maybe");

	pg = page(true, 1 | KPP_F_ANON | KPP_F_ANON_EXCLUSIVE, true, 0, false);
	pg.holder = &h;
	pi_page_decide(&pg, PI_SRC_BPF);
	ok(pg.verdict == PI_V_NOT && pg.pins == 0 && pg.pin_exact,
	   "exact source decides even inside a holder range (a desync)");

	pg = page(true, 0, false, KPF_BIT(KPF_ANON) | KPF_BIT(KPF_ANON_EXCLUSIVE), true);
	pg.holder = &h;
	pi_page_decide(&pg, PI_SRC_IOURING);
	ok(pg.verdict == PI_V_MAYBE && pg.source == PI_SRC_IOURING && pg.pins == -1,
	   "holder range without exact source: maybe-pinned, pins unknown");
	is_int(pg.exclusive, 1, "exclusivity from kpageflags bit 34 on an anon page");

	pg = page(true, 0, false, KPF_BIT(KPF_MAPPEDTODISK), true);
	pi_page_decide(&pg, PI_SRC_IOURING);
	ok(pg.verdict == PI_V_UNKNOWN && pg.source == PI_SRC_NONE,
	   "outside every holder with holders only: unknown, not not-pinned");
	is_int(pg.exclusive, -1, "bit 34 on a non-anon page is not exclusivity");

	pg = page(false, 0, false, 0, false);
	pg.holder = &h;
	pi_page_decide(&pg, PI_SRC_BPF);
	ok(pg.verdict == PI_V_MAYBE && pg.source == PI_SRC_IOURING,
	   "holder page not present: maybe-pinned from the holder");

	pg = page(true, KPP_F_NOPAGE, true, 0, false);
	pi_page_decide(&pg, PI_SRC_KPAGEPIN);
	is_int(pg.verdict, PI_V_UNKNOWN, "NOPAGE entry gives no verdict");

	/* runs merge contiguous pages with equal facts only */
	for (int i = 0; i < 4; i++) {
		pg = page(true, 1 | KPP_F_ANON, true, 0, false);
		pg.addr = 0x10000 + (uint64_t)i * 4096;
		pg.vma = &vma;
		pi_page_decide(&pg, PI_SRC_BPF);
		if (i == 2) {
			pg.pin = 1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED;
			pi_page_decide(&pg, PI_SRC_BPF);
		}
		pi_runs_add(&runs, &pg);
	}
	is_int(runs.n, 3, "a pinned page splits a run");
	ok(runs.r[0].pages == 2 && runs.r[1].pages == 1 && runs.r[2].pages == 1, "run sizes");
	is_int(runs.sum.counts[PI_V_PINNED], 1, "summary counts pinned");
	is_int(runs.sum.counts[PI_V_NOT], 3, "summary counts not-pinned");
	pi_runs_free(&runs);
	return tap_done();
}
