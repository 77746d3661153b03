/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_PAGEMAP_H
#define PININSPECT_PAGEMAP_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

/* Documentation/admin-guide/mm/pagemap.rst */
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SWAP_TYPE(e)		((e) & 0x1f)
#define PM_SWAP_OFFSET(e)	(((e) >> 5) & ((1ULL << 50) - 1))
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_UFFD_WP		(1ULL << 57)
#define PM_GUARD_REGION		(1ULL << 58)
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

struct pi_pagemap;

/* A range of pages that PAGEMAP_SCAN found present or swapped. */
struct pi_vrange {
	uint64_t start, end;
	bool huge;		/* PAGE_IS_HUGE: THP or hugetlb */
};

int pi_pagemap_open(pid_t pid, struct pi_pagemap **ret);
/* a pagemap of no pages, for a process without an mm (every read fails: EBADF) */
int pi_pagemap_open_empty(struct pi_pagemap **ret);
void pi_pagemap_close(struct pi_pagemap *pm);
/* PFNs are zero: the opener lacked CAP_SYS_ADMIN (decided at open) */
bool pi_pagemap_pfns_hidden(const struct pi_pagemap *pm);
bool pi_pagemap_has_scan(const struct pi_pagemap *pm);
void pi_pagemap_disable_scan(struct pi_pagemap *pm);

/*
 * 1 while the mm pm was opened on exists (a read returns an entry), 0 once
 * it is gone: the process exited or exec'd since the open. -errno otherwise.
 */
int pi_pagemap_alive(struct pi_pagemap *pm);

/*
 * Read entries for n pages starting at vaddr. Returns the number of
 * entries read (short when the file ends early, e.g. a truncated fixture
 * or a VMA unmapped meanwhile) or -errno.
 */
ssize_t pi_pagemap_read(struct pi_pagemap *pm, uint64_t vaddr, size_t n, uint64_t *out);

/*
 * Ranges of [start, end) holding present or swapped pages, via PAGEMAP_SCAN.
 * -EOPNOTSUPP when the kernel (or fixture) has none: read everything then.
 */
int pi_pagemap_scan(struct pi_pagemap *pm, uint64_t start, uint64_t end,
		    struct pi_vrange **ret, size_t *ret_n);

#endif
