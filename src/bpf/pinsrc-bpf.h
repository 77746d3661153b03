/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between src/bpf/pinsrc.bpf.c and src/lib/pinsrc-bpf.c: sizes of
 * the global arrays the loader and the BPF program exchange PFNs and
 * entries through.
 */
#ifndef PININSPECT_PINSRC_BPF_H
#define PININSPECT_PINSRC_BPF_H

/* PFNs per BPF_PROG_TEST_RUN (in and out: 2 x 512 KiB of .bss) */
#define PI_BPF_BATCH		65536
/* Upper bound of sizeof(struct page) we accept (64 on x86_64, 80 with some debug options) */
#define PI_BPF_MAX_PAGE_SIZE	128
/* struct page pointers recorded by the mm_page_alloc program */
#define PI_BPF_MAX_ALLOCS	1024
/* Highest PFN looked at: 2^40 pages = 4 EiB, so base + pfn * size cannot wrap */
#define PI_BPF_MAX_PFN		(1ULL << 40)
/* Largest folio walked back to: a 16 GiB gigantic page */
#define PI_BPF_MAX_FOLIO_PAGES	(1ULL << 22)

#ifndef __bpf__
#include <stddef.h>

struct pi_pinsrc;

/*
 * Which BPF reader pi_pinsrc_bpf_open() uses: direct loads through
 * bpf_rdonly_cast(p, 0) (6.17+, about 2x faster) when the kernel has it, else
 * bpf_probe_read_kernel. Tests force one to compare both.
 */
enum pi_bpf_reader {
	PI_BPF_READER_AUTO,
	PI_BPF_READER_PROBE,
	PI_BPF_READER_FAST,
};
int pi_pinsrc_bpf_open_reader(struct pi_pinsrc **ret, enum pi_bpf_reader reader,
			      char *why, size_t whylen);
/* the reader a bpf source uses (PI_BPF_READER_PROBE or _FAST) */
enum pi_bpf_reader pi_pinsrc_bpf_reader(const struct pi_pinsrc *src);
/*
 * Whether the entries carry KPP_F_LONGTERM_PINNABLE: only when the zone
 * bits of page->flags were located and checked against /proc/zoneinfo and
 * the kernel has no CMA memory; otherwise the flag is always clear and
 * means "unknown", not "not pinnable".
 */
int pi_pinsrc_bpf_reports_pinnable(const struct pi_pinsrc *src);
#endif

#endif
