/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_DIFF_H
#define PININSPECT_DIFF_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#include "pininspect/scan.h"

/* Mapping transitions of a pinned page between two snapshots (DESIGN section 6). */
enum pi_transition {
	PI_T_PRESERVED,
	PI_T_DESYNCED,
	PI_T_MIGRATING,
	PI_T_SWAPPED,
	PI_T_UNMAPPED,
	PI_T_LOST_EXCLUSIVE,
	PI_T_UNPINNED,
	PI_T_NEW_PIN,
	PI_T__MAX
};
const char *pi_transition_name(enum pi_transition t);
/* name of len bytes (not NUL-terminated): 0 or -EINVAL */
int pi_transition_from_name(const char *name, size_t len, enum pi_transition *ret);
/* "desynced,unmapped" -> bit mask of (1 << PI_T_*); -EINVAL names the bad item */
int pi_transition_parse_list(const char *list, unsigned int *ret_mask,
			     const char **ret_bad, size_t *ret_badlen);

/* pi_snap_page.flags */
#define PI_SP_PFN_KNOWN		0x01
#define PI_SP_PRESENT		0x02
#define PI_SP_SWAPPED		0x04
#define PI_SP_HOLDER		0x08	/* inside a registered holder range now */
#define PI_SP_NO_VMA		0x10	/* no VMA covers the address */
#define PI_SP_TRACKED		0x20	/* kept only because the previous snapshot pinned it */
#define PI_SP_OLDPFN_CHECKED	0x40	/* the previous PFN's pin was read from an exact source */
#define PI_SP_OLDPFN_PINNED	0x80	/* ... and it is still pinned */

#define PI_SP_KIND_UNKNOWN	0xff

/* One page of a snapshot: 40 bytes, so a pinned GiB costs 10 MiB. */
struct pi_snap_page {
	uint64_t addr;
	uint64_t pfn;		/* valid with PI_SP_PFN_KNOWN */
	uint64_t pme;		/* pagemap entry: swap type, mapped-once */
	int32_t pins;		/* -1 unknown */
	uint8_t verdict;	/* enum pi_verdict */
	uint8_t source;		/* enum pi_source */
	int8_t exclusive;	/* 1, 0, -1 unknown */
	uint8_t flags;		/* PI_SP_* */
	uint8_t kind;		/* enum pi_kind of the VMA; PI_SP_KIND_UNKNOWN (older save files) */
	/*
	 * A record carried over in a passing state (migrating, swapped)
	 * remembers what was reported so it is reported once (PI_T_PRESERVED,
	 * zero, when nothing was).
	 */
	uint8_t reported;
};

static inline bool pi_snap_page_pinned(const struct pi_snap_page *sp)
{
	return (sp->verdict == PI_V_PINNED || sp->verdict == PI_V_MAYBE) &&
	       !(sp->flags & PI_SP_TRACKED);
}

/* Pinned and maybe-pinned pages of one process, sorted by address. */
struct pi_snapshot {
	pid_t pid;
	uint64_t starttime;
	bool has_starttime;
	enum pi_source source;
	char comm[64];
	struct pi_snap_page *p;
	size_t n, cap;
	size_t npinned;		/* pages for which pi_snap_page_pinned() */
};

int pi_snapshot_add(struct pi_snapshot *s, const struct pi_snap_page *sp);
void pi_snapshot_free(struct pi_snapshot *s);
const struct pi_snap_page *pi_snapshot_find(const struct pi_snapshot *s, uint64_t addr);
/* sort by address and drop duplicates (the later one wins); for loaded files */
void pi_snapshot_sort(struct pi_snapshot *s);

/*
 * Scan p and record its pinned and maybe-pinned pages. With prev, every
 * address pinned in prev is recorded too (PI_SP_TRACKED when it is not
 * pinned now), and when its PFN changed or it is no longer present the
 * previous PFN's pin is read through ctx->pinsrc (PI_SP_OLDPFN_*).
 */
int pi_snapshot_take(struct pi_proc *p, struct pi_scan_ctx *ctx,
		     const struct pi_snapshot *prev, struct pi_snapshot *ret);

/*
 * Like pi_snapshot_take with prev, but only the addresses pinned in prev
 * are looked at: no new pins are found. Cheap enough for every interval
 * when most of a large process is not pinned.
 */
int pi_snapshot_take_tracked(struct pi_proc *p, struct pi_scan_ctx *ctx,
			     const struct pi_snapshot *prev, struct pi_snapshot *ret);

/* A run of contiguous pages with the same transition. */
struct pi_trun {
	uint64_t start, end, pages;
	enum pi_transition t;
	uint64_t old_pfn, new_pfn;	/* of the first page */
	bool old_pfn_known, new_pfn_known;
	int8_t old_pfn_pinned;		/* first page's old PFN still pinned: 1, 0, -1 not read */
	uint8_t kind;			/* the old record's kind (the new one's when the old is
					   unknown); PI_SP_KIND_UNKNOWN when neither is known */
};

struct pi_diff {
	struct pi_trun *r;
	size_t n, cap;
	uint64_t counts[PI_T__MAX];	/* pages per transition */
};

struct pi_diff_opts {
	unsigned int nr_swap_devices;	/* active swap areas (/proc/swaps) */
	bool keep_preserved;		/* also list preserved runs */
};

/*
 * Swap entries in pagemap carry the swap type in bits 0-4. Migration,
 * hwpoison and device entries use the types above MAX_SWAPFILES (which
 * is 32 minus those, around 23-27 depending on the config); a real swap
 * area has a small type. A type no configured area can have is called
 * migrating.
 */
bool pi_pme_is_migration(uint64_t pme, unsigned int nr_swap_devices);

/* Classify one pinned page of the old snapshot against its record now (may be NULL). */
enum pi_transition pi_classify(const struct pi_snap_page *old, const struct pi_snap_page *now,
			       const struct pi_diff_opts *o);

/*
 * Classify every pinned page of old against now, then every page pinned
 * in now that was not pinned (at that address with that PFN) in old
 * (new-pin). With ret_next, the baseline for the next diff: the pages
 * pinned now plus the old records of pages in passing states (migrating,
 * swapped), so their outcome is judged against the original PFN.
 */
int pi_diff_snapshots(const struct pi_snapshot *old, const struct pi_snapshot *now,
		      const struct pi_diff_opts *o, struct pi_diff *ret,
		      struct pi_snapshot *ret_next);
void pi_diff_free(struct pi_diff *d);

/* Count of active swap areas in /proc/swaps under the root (0 when unreadable). */
unsigned int pi_swap_devices_count(void);

#endif
