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

#endif
