/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kpagepin debugfs ABI, version 1: /sys/kernel/debug/kpagepin/{version,pages,stats}.
 * Shared by the kernel module, the kernel patch and pininspect, so it uses
 * nothing but the preprocessor.
 *
 * pages: one little-endian u64 per PFN at offset PFN * 8.
 */
#ifndef KPAGEPIN_ABI_H
#define KPAGEPIN_ABI_H

#define KPAGEPIN_ABI_VERSION		1
#define KPAGEPIN_DIR			"kpagepin"

#define KPP_REFCOUNT_SHIFT		0
#define KPP_REFCOUNT_MASK		0xffffffULL	/* saturating */
/*
 * Pin count: the exact folio _pincount when PIN_EXACT (large folios); for
 * small folios (refcount - mapcount) / KPP_PIN_BIAS when refcount >=
 * KPP_PIN_BIAS, else 0: an estimate, 1024 plain references look like a pin.
 */
#define KPP_PINCOUNT_SHIFT		24
#define KPP_PINCOUNT_MASK		0xffffffULL	/* saturating */
#define KPP_COUNT_MAX			0xffffffULL

#define KPP_F_MAYBE_PINNED		(1ULL << 48)	/* folio_maybe_dma_pinned() */
#define KPP_F_PIN_EXACT			(1ULL << 49)	/* pin count is _pincount */
#define KPP_F_ANON			(1ULL << 50)
/*
 * ANON_EXCLUSIVE is PageAnonExclusive of this page, not of the folio; the
 * tails of hugetlb pages and of PMD-mapped THPs report their head's bit,
 * which is the one the kernel keeps for such a mapping.
 */
#define KPP_F_ANON_EXCLUSIVE		(1ULL << 51)	/* this page, not the folio */
#define KPP_F_LARGE			(1ULL << 52)
#define KPP_F_HEAD			(1ULL << 53)
#define KPP_F_LONGTERM_PINNABLE		(1ULL << 54)
#define KPP_F_NOPAGE			(1ULL << 55)	/* no struct page / offline */
/*
 * A read of "pages" needs offset and count in multiples of 8 (else EINVAL);
 * one starting at or past the end PFN of the highest online node fails with
 * EINVAL, one crossing it is shortened.
 */
#define KPP_F_RESERVED_MASK		(0xffULL << 56)	/* must read as zero */

#define KPP_REFCOUNT(e)	(((e) >> KPP_REFCOUNT_SHIFT) & KPP_REFCOUNT_MASK)
#define KPP_PINCOUNT(e)	(((e) >> KPP_PINCOUNT_SHIFT) & KPP_PINCOUNT_MASK)

/* GUP_PIN_COUNTING_BIAS in include/linux/mm.h */
#define KPP_PIN_BIAS			1024

#endif
