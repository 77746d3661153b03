/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_SCAN_H
#define PININSPECT_SCAN_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#include "pininspect/maps.h"
#include "pininspect/pagemap.h"
#include "pininspect/kpage.h"
#include "pininspect/status.h"
#include "pininspect/holders.h"
#include "pininspect/rdma.h"
#include "pininspect/pinsrc.h"

enum pi_verdict {
	PI_V_PINNED,
	PI_V_MAYBE,
	PI_V_NOT,
	PI_V_UNKNOWN,
	PI_V__MAX
};
const char *pi_verdict_name(enum pi_verdict v);

/* Everything known about one virtual page of a process. */
struct pi_page {
	uint64_t addr;
	uint64_t pme;		/* pagemap entry */
	uint64_t pfn;		/* valid when pfn_known */
	uint64_t kpf;		/* kpageflags, valid when kpf_known */
	uint64_t pin;		/* kpagepin-format entry, valid when pin_known */
	bool pfn_known, kpf_known, pin_known;
	bool present, swapped, mapped_once, huge;
	int8_t exclusive;	/* PageAnonExclusive: 1, 0, or -1 unknown */
	enum pi_verdict verdict;
	enum pi_source source;
	int64_t pins;		/* -1 unknown */
	bool pin_exact;
	/*
	 * KPP_F_LONGTERM_PINNABLE of the pin entry: 1, 0, -1 no entry. Only
	 * meaningful where the source reports it (kpagepin; bpf when it
	 * located the zone bits: pi_sources_longterm_known()).
	 */
	int8_t longterm_pinnable;
	enum pi_kind kind;
	const struct pi_vma *vma;
	const struct pi_holder *holder;
};

struct pi_proc {
	pid_t pid;
	struct pi_status status;
	uint64_t starttime;
	bool has_starttime;
	struct pi_vma_list vmas;
	struct pi_holder_list holders;
	int holders_err;	/* fd/fdinfo unreadable: 0 or -errno */
	struct pi_rdma_mr_list rdma;	/* the process's RDMA MRs (placed by the first scan) */
	int rdma_err;		/* RDMA netlink unreadable: 0 or -errno */
	bool holders_placed;	/* RDMA/VFIO holders placed on pinned runs */
	bool has_vfio;		/* vfio computed (exact source, VmLck known) */
	struct pi_vfio_class vfio;
	uint64_t vfio_kib;	/* pinned pages attributed to the vfio class */
	struct pi_pagemap *pm;
};

/*
 * Read status, maps, io_uring holders and open pagemap. -ENOENT/-ESRCH
 * when the process is gone, -EACCES/-EPERM without privilege, -EINVAL
 * for a garbage maps file (line in *ret_bad_line).
 */
int pi_proc_open(pid_t pid, struct pi_proc *ret, size_t *ret_bad_line);
void pi_proc_close(struct pi_proc *p);

typedef int (*pi_page_fn)(const struct pi_page *pg, void *userdata);
/*
 * npages pages from first->addr, 4 KiB apart, that share every fact of
 * *first that verdicts and runs use (verdict, source, pins, pin_exact,
 * exclusive, longterm_pinnable, mapped_once, present, swapped, kind,
 * holder, huge, and
 * pfn_known, kpf_known, pin_known). The raw entries (pme, pfn, kpf, pin)
 * are the first page's: the others' PFNs are not given.
 */
typedef int (*pi_run_fn)(const struct pi_page *first, uint64_t npages, void *userdata);

struct pi_scan_ctx {
	enum pi_source source;		/* the source verdicts come from */
	struct pi_pinsrc *pinsrc;	/* exact source (bpf, kpagepin) or NULL */
	struct pi_kpage_file *kpageflags; /* NULL when unavailable */
	/*
	 * Read kpageflags only in shmem VMAs, for their kind: an MFD_HUGETLB
	 * memfd looks like shmem in maps, KPF_HUGE tells its pages apart
	 * (watch and --save with an exact source, which needs no kpageflags
	 * for exclusivity).
	 */
	bool kpageflags_shmem_only;
	bool anon_only;
	bool use_pagemap_scan;
	/*
	 * Read only what verdicts need (DESIGN section 2, cost model), in
	 * private anon and file VMAs: kpageflags only in holder ranges and
	 * only without an exact source (which gives exclusivity itself), so
	 * elsewhere pages have no kpf and, without an exact source, an
	 * unknown exclusivity; and for PMD-mapped huge pages (PAGEMAP_SCAN
	 * PAGE_IS_HUGE) one pagemap and one pin entry per 2 MiB block, which
	 * its pages inherit (mapped_once, exclusive, pins of the folio).
	 * false: every entry of every page (--pages, the FLAGS column).
	 */
	bool sparse;
	/* when set, the scan calls it for runs of pages instead of the page callback */
	pi_run_fn run_fn;
	/* filled by the scan */
	bool pfns_hidden;
	uint64_t pagemap_entries_read;
	uint64_t pfn_entries_read;
};

/*
 * Call fn for every present anon page (and every page of a holder range,
 * present or not) in address order. fn returning < 0 stops the scan.
 * -ENODATA: pagemap ended before a VMA did (truncated file).
 */
int pi_scan_proc(struct pi_proc *p, struct pi_scan_ctx *ctx, pi_page_fn fn, void *userdata);

/*
 * Kind of a page of v from its pagemap entry (a COW copy in a file
 * mapping is anon); hugetlb also when kpageflags says KPF_HUGE.
 */
enum pi_kind pi_page_kind(const struct pi_vma *v, uint64_t pme);

/* Decide verdict, pins and exclusivity of a page whose raw facts are filled. */
void pi_page_decide(struct pi_page *pg, enum pi_source source);

/* Runs: same VMA, contiguous, same verdict and facts. */
struct pi_run {
	uint64_t start, end;
	uint64_t pages;
	struct pi_page first;	/* facts shared by the run */
};

struct pi_summary {
	uint64_t counts[PI_V__MAX];
	uint64_t pages;
	uint64_t pinned_not_exclusive;
	uint64_t pinned_not_present;
	uint64_t holder_pages_not_pinned;	/* exact source says a holder page is not pinned */
};

struct pi_runs {
	struct pi_run *r;
	size_t n, cap;
	struct pi_summary sum;
};

int pi_runs_add(struct pi_runs *runs, const struct pi_page *pg);
/* npages pages from pg->addr with pg's facts (a pi_run_fn run) */
int pi_runs_add_n(struct pi_runs *runs, const struct pi_page *pg, uint64_t npages);
void pi_runs_free(struct pi_runs *runs);
void pi_summary_add(struct pi_summary *s, const struct pi_page *pg);
void pi_summary_add_n(struct pi_summary *s, const struct pi_page *pg, uint64_t npages);

#endif
