/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_PINMAP_H
#define PININSPECT_PINMAP_H

/*
 * System-wide pin map (issue 10): the physical layout (nodes, zones,
 * memory blocks, CMA areas), a scan of PFN ranges through an exact pin
 * source, and a reverse map from the pinned PFNs found to the processes
 * mapping them, built from their pagemaps. No printing here.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#include "pininspect/pinsrc.h"
#include "pininspect/holders.h"

struct pi_pfn_range {
	uint64_t start, end;	/* [start, end) */
};

/* ---- physical layout ---- */

struct pi_zone_span {
	int node;
	char name[16];		/* lower case: dma, dma32, normal, movable, device */
	uint64_t start, end;	/* [start, start + spanned) from /proc/zoneinfo */
	uint64_t present, managed;
};

struct pi_mem_block {
	uint64_t id;		/* memoryN */
	int node;		/* -1 unknown */
	bool online;
	bool removable_known, removable;
	char state[16];		/* "online", "offline", "going-offline", ... */
	char zones[48];		/* valid_zones as printed (lower case) */
};

struct pi_cma_area {
	char name[64];
	uint64_t start, end;	/* [base_pfn, base_pfn + count); 0,0 when unknown */
	uint64_t total_pages;	/* sysfs total_pages, 0 unknown */
};

struct pi_layout {
	struct pi_zone_span *zones;
	size_t nzones;
	uint64_t block_pages;	/* pages per memory block, 0 unknown */
	struct pi_mem_block *blocks;	/* sorted by id */
	size_t nblocks;
	struct pi_cma_area *cma;
	size_t ncma;
	bool cma_sysfs;		/* sys/kernel/mm/cma exists (CONFIG_CMA) */
	bool cma_ranges_known;	/* every area has a PFN range (debugfs) */
	/* "System RAM" of /proc/iomem (addresses need root), in PFNs */
	struct pi_pfn_range *ram;
	size_t nram;
	bool ram_known;
};

/*
 * Read /proc/zoneinfo, /sys/devices/system/memory, /sys/devices/system/node
 * and /sys/kernel/mm/cma (+ debugfs cma/ for the PFN ranges) under the
 * root. Missing files leave the parts empty; -ENOENT only when neither
 * zoneinfo nor memory blocks exist.
 */
int pi_layout_read(struct pi_layout *ret);
void pi_layout_free(struct pi_layout *l);
/* parse /proc/zoneinfo text (exposed for tests) */
int pi_zoneinfo_parse(const char *buf, size_t len, struct pi_layout *l);

/* -1 when unknown */
int pi_layout_node(const struct pi_layout *l, uint64_t pfn);
/* zone name: the memory block's single valid zone when online, else the zoneinfo span; "?" */
const char *pi_layout_zone(const struct pi_layout *l, uint64_t pfn);
/* memory block id or -1 */
int64_t pi_layout_block_id(const struct pi_layout *l, uint64_t pfn);
const struct pi_mem_block *pi_layout_block(const struct pi_layout *l, uint64_t id);
const struct pi_cma_area *pi_layout_cma(const struct pi_layout *l, uint64_t pfn);
/*
 * PFNs of [start, end) that are System RAM (/proc/iomem), -1 unknown. The
 * kernel refuses to offline a memory block with holes (EINVAL, "memory holes").
 */
int64_t pi_layout_ram_pages(const struct pi_layout *l, uint64_t start, uint64_t end);
/* parse /proc/iomem text (exposed for tests) */
int pi_iomem_parse(const char *buf, size_t len, struct pi_layout *l);
/*
 * pfn lies in ZONE_MOVABLE or a CMA area: a long-term pin there is a
 * finding (FOLL_LONGTERM migrates pages out first), for the audit check
 * longterm-pin-in-movable.
 */
bool pi_layout_pfn_movable(const struct pi_layout *l, uint64_t pfn);

/* ---- PFN range sets ---- */

struct pi_pfn_ranges {
	struct pi_pfn_range *r;
	size_t n, cap;
};

int pi_pfn_ranges_add(struct pi_pfn_ranges *s, uint64_t start, uint64_t end);
/* sort and merge overlapping or adjacent ranges */
void pi_pfn_ranges_normalize(struct pi_pfn_ranges *s);
/* a := a ∩ b (both normalized) */
int pi_pfn_ranges_intersect(struct pi_pfn_ranges *a, const struct pi_pfn_ranges *b);
uint64_t pi_pfn_ranges_pages(const struct pi_pfn_ranges *s);
void pi_pfn_ranges_free(struct pi_pfn_ranges *s);
/* "START-END" (END exclusive) or "START+COUNT", decimal or 0x hex */
int pi_pfn_range_parse(const char *s, struct pi_pfn_range *ret);

/* The whole PFN space: union of zone spans, else of memory blocks. */
int pi_layout_all(const struct pi_layout *l, struct pi_pfn_ranges *ret);
int pi_layout_node_ranges(const struct pi_layout *l, int node, struct pi_pfn_ranges *ret);
/* zone spans named name (case-insensitive); -ENOENT for a zone name not in zoneinfo */
int pi_layout_zone_ranges(const struct pi_layout *l, const char *name, struct pi_pfn_ranges *ret);
/* -ENOENT when no memory block id exists, -EOPNOTSUPP without memory blocks */
int pi_layout_block_ranges(const struct pi_layout *l, uint64_t id, struct pi_pfn_ranges *ret);
/* -EOPNOTSUPP without CONFIG_CMA, -ENODATA when the areas' PFN ranges are unknown */
int pi_layout_cma_ranges(const struct pi_layout *l, struct pi_pfn_ranges *ret);

/* ---- PFN scan ---- */

struct pi_pinned_pfn {
	uint64_t pfn;
	uint64_t ent;		/* kpagepin-ABI entry */
};

struct pi_pinned_set {
	struct pi_pinned_pfn *p;	/* sorted by pfn */
	size_t n, cap;
	uint64_t scanned;	/* PFNs read from the source */
	uint64_t nopage;	/* holes, offline or no struct page */
	uint64_t maybe_explained; /* refcount >= bias but explained by mappings: not counted */
};

/* pinned for the map: a pin count > 0 (exact, or the bias estimate) */
static inline bool pi_pin_entry_pinned(uint64_t e)
{
	return !(e & KPP_F_NOPAGE) && KPP_PINCOUNT(e) > 0;
}

/*
 * Read every PFN of ranges (normalized) through src in batches of
 * batch PFNs (0: default) and collect the pinned ones.
 */
int pi_pinmap_scan(struct pi_pinsrc *src, const struct pi_pfn_ranges *ranges, size_t batch,
		   struct pi_pinned_set *ret);
void pi_pinned_set_free(struct pi_pinned_set *s);
/* index of pfn in s or -1 */
ssize_t pi_pinned_set_find(const struct pi_pinned_set *s, uint64_t pfn);

/* ---- reverse map ---- */

struct pi_pfn_owner {
	uint32_t idx;		/* index into the pinned set */
	uint32_t proc;		/* index into pi_rmap.procs */
	uint64_t addr;		/* virtual address of the PFN in that process */
};

/* Why a holder range no longer matches the pinned pages */
struct pi_rmap_holder {
	struct pi_holder h;
	uint64_t pages;		/* pages the buffer covers */
	uint64_t unmapped;	/* no VMA, or the page is not present */
	uint64_t unpinned;	/* mapped, but to a PFN that is not pinned (desync) */
};

struct pi_rmap_proc {
	pid_t pid;
	char comm[64];
	uid_t uid;
	bool has_vmpin, has_vmlck;
	uint64_t vmpin_kib, vmlck_kib;
	uint64_t pinned_mapped;		/* pinned-set pages this process maps (PFN, once) */
	uint64_t pinned_mappings;	/* (vaddr) mappings of pinned-set pages */
	struct pi_rmap_holder *holders;
	size_t nholders;
	unsigned int rings_unreadable;
	unsigned int rdma_mrs;		/* RDMA memory regions of the process (netlink) */
};

struct pi_rmap {
	struct pi_pfn_owner *owners;	/* sorted by idx, then proc, then addr */
	size_t nowners, cap;
	struct pi_rmap_proc *procs;
	size_t nprocs, procs_cap;
	uint64_t procs_gone;		/* vanished or unreadable during the walk */
	uint64_t pagemap_entries;	/* pagemap entries read */
	bool pfns_hidden;		/* some pagemap gave PFN 0 (no CAP_SYS_ADMIN) */
	size_t bytes;			/* memory of the rmap arrays (peak) */
};

/*
 * Build the reverse map of set from the pagemaps of pids. scanned (normalized,
 * NULL: all) is what the PFN scan covered: a buffer page mapped outside it
 * counts as neither unmapped nor unpinned. Every process is
 * kept in procs when it maps a pinned page, has VmPin/VmLck or io_uring
 * buffers (candidates for orphan attribution and accounting).
 */
int pi_rmap_build(const struct pi_pinned_set *set, const struct pi_pfn_ranges *scanned,
		  const pid_t *pids, size_t npids, struct pi_rmap *ret);
void pi_rmap_free(struct pi_rmap *r);
/* owners of set index idx: [*first, *first + *n) in r->owners */
void pi_rmap_owners_of(const struct pi_rmap *r, size_t idx, size_t *first, size_t *n);

/*
 * Orphan candidates: the PFNs of set that no process of r maps, read again
 * through src. The PFN scan comes before the process walk, so a pin
 * released in between (unregister; the ring teardown that runs a few
 * milliseconds after its process exited) would look orphaned. While some
 * are still pinned, they are read again every PI_ORPHAN_SETTLE_MS until
 * their number has not fallen for PI_ORPHAN_SETTLE_STABLE reads and is
 * no more than the live processes of r account for (their buffers'
 * unmapped and unpinned pages, their VmPin excess); when it is more, for
 * PI_ORPHAN_SETTLE_ROUNDS reads, or up to PI_ORPHAN_SETTLE_ROUNDS_MAX
 * while it still falls. No wait at all when none is pinned. A PFN seen
 * unpinned once stays released: a later pin there is a new page's (the
 * freed pages of an exited process are reused at once). With pids_now
 * (the processes now, as pi_procsel_all gives them), the PFNs still pinned
 * are looked up in the processes' pagemaps again, and those some process
 * maps now (one that started after the walk) are not orphans either.
 * --map and the audit share this.
 */
#define PI_ORPHAN_SETTLE_MS		10
#define PI_ORPHAN_SETTLE_STABLE		5	/* 50 ms without a release */
#define PI_ORPHAN_SETTLE_ROUNDS		25	/* 250 ms */
#define PI_ORPHAN_SETTLE_ROUNDS_MAX	50	/* 500 ms, while releases go on */

typedef int (*pi_pids_fn)(pid_t **pids, size_t *n, size_t *cap);

struct pi_orphan_pfns {
	size_t n;
	size_t *idx;		/* index into the pinned set, ascending */
	uint64_t *pfn;		/* set->p[idx[i]].pfn */
	uint64_t *ent;		/* orphaned iff pi_pin_entry_pinned(ent[i]); 0 when mapped again */
	unsigned int rereads;	/* settle re-reads after the first read */
	uint64_t mapped_again;	/* still pinned, but mapped by a process the walk missed */
};

int pi_orphan_pfns_read(struct pi_pinsrc *src, const struct pi_pinned_set *set,
			const struct pi_rmap *r, pi_pids_fn pids_now, struct pi_orphan_pfns *ret);
void pi_orphan_pfns_free(struct pi_orphan_pfns *o);

/*
 * Orphaned pins: pinned pages mapped by no process. Attribution, best first:
 * an io_uring buffer whose pages are unmapped or mapped to other PFNs
 * (after munmap, MADV_DONTNEED, mremap); else a process whose VmPin exceeds
 * the pinned pages it maps plus the pages of its buffers that are
 * candidates already (each page budgeted once).
 */
struct pi_orphan_attr {
	const struct pi_rmap_proc *proc;	/* NULL: nobody to blame */
	const struct pi_rmap_holder *holder;	/* NULL: by VmPin only */
	const char *why;			/* "buffer unmapped", "buffer remapped", "VmPin exceeds ..." */
};

struct pi_orphan_ctx {
	uint64_t *left;		/* per candidate: pages not yet attributed */
	size_t ncand;
	struct { uint32_t proc; int32_t holder; } *cand;
};

int pi_orphan_ctx_init(const struct pi_rmap *r, struct pi_orphan_ctx *ret);
/* attribute an orphaned run of pages */
void pi_orphan_attribute(const struct pi_rmap *r, struct pi_orphan_ctx *c, uint64_t pages,
			 struct pi_orphan_attr *ret);
void pi_orphan_ctx_free(struct pi_orphan_ctx *c);

#endif
