/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_AUDIT_H
#define PININSPECT_AUDIT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "pininspect/scan.h"
#include "pininspect/accounting.h"
#include "pininspect/pinmap.h"

/*
 * Audit checks (issue 5): pure logic over the pages a scan streams and
 * the process facts (status, VMAs, holders). No printing; the CLI turns
 * findings into a table, JSON or Prometheus text.
 */
enum pi_severity {
	PI_SEV_INFO,
	PI_SEV_WARNING,
	PI_SEV_ERROR,
};
const char *pi_severity_name(enum pi_severity s);
int pi_severity_from_name(const char *name, enum pi_severity *ret);

enum pi_check_id {
	PI_CHK_PINNED_NOT_PRESENT,
	PI_CHK_PINNED_SWAPPED,
	PI_CHK_PINNED_NOT_EXCLUSIVE,
	PI_CHK_HOLDER_NOT_PINNED,
	PI_CHK_ORPHANED_PIN,
	PI_CHK_VMPIN_UNACCOUNTED,
	PI_CHK_PINS_UNACCOUNTED,
	PI_CHK_LONGTERM_UNPINNABLE,
	PI_CHK_BIAS_ONLY,
	PI_CHK_MEMLOCK_HEADROOM,
	PI_CHK_FORK_UNSAFE,
	PI_CHK_LONGTERM_IN_MOVABLE,
	PI_CHK_VFIO_PINS,
	PI_CHK__MAX
};

/* What a check needs beyond pagemap, maps and fdinfo */
#define PI_NEED_EXACT		(1U << 0)	/* kpagepin or bpf */
#define PI_NEED_EXCLUSIVE	(1U << 1)	/* AnonExclusive: kpageflags or exact source */
#define PI_NEED_LONGTERM	(1U << 2)	/* source reports LONGTERM_PINNABLE */
#define PI_NEED_VMPIN		(1U << 3)	/* VmPin in /proc/PID/status */
#define PI_NEED_PFN		(1U << 4)	/* PFNs in pagemap (CAP_SYS_ADMIN) */
#define PI_NEED_LAYOUT		(1U << 5)	/* zones / CMA areas (/proc/zoneinfo, sysfs) */

struct pi_check_info {
	const char *id;
	enum pi_severity severity;
	unsigned int needs;
	const char *description;
	const char *hint;		/* what an operator can do about it */
};

const struct pi_check_info *pi_check_info(enum pi_check_id id);
/* id of the check named by the first len bytes of name, or -ENOENT */
int pi_check_lookup(const char *name, size_t len);
/* comma list of the needs ("exact,vmpin"), "-" for none */
void pi_check_needs_string(unsigned int needs, char *buf, size_t len);

/*
 * --check / --skip: comma separated ids (NULL: all / none). Returns 0,
 * or -EINVAL with the unknown id in (*ret_bad, *ret_badlen).
 */
int pi_checks_select(const char *only, const char *skip, bool enabled[PI_CHK__MAX],
		     const char **ret_bad, size_t *ret_badlen);

/* What the sources of this run can tell. */
struct pi_audit_caps {
	enum pi_source source;		/* what verdicts come from */
	bool exclusive_known;		/* kpageflags or an exact source readable */
	bool longterm_known;		/* entries carry KPP_F_LONGTERM_PINNABLE */
	bool pfn_visible;		/* pagemap shows PFNs */
	bool layout_known;		/* zones or memory blocks readable */
};
bool pi_source_is_exact(enum pi_source s);
/* NULL if the check can run with these capabilities, else why not */
const char *pi_check_unmet(enum pi_check_id id, const struct pi_audit_caps *caps);

struct pi_finding {
	enum pi_check_id check;
	bool has_range;			/* false: a finding about the whole process */
	uint64_t start, end;		/* [start, end) */
	uint64_t pages;
	bool has_kind;			/* per-page findings: every page of the range is ... */
	uint8_t kind;			/* ... of this enum pi_kind */
	char holder[48];		/* holder desc, "" when none */
	uint64_t vmpin_kib, found_kib;	/* accounting checks */
	char detail[64];		/* zone / CMA area, orphan attribution */
	/* system-wide orphaned-pin, longterm-pin-in-movable: first PFN range */
	bool has_pfn;
	uint64_t pfn_start, pfn_end;	/* [pfn_start, pfn_end) */
	uint64_t pfn_runs;		/* orphaned-pin: runs of PFNs folded in (first above) */
	/* memlock-headroom */
	int64_t headroom_kib;
	uint64_t limit_kib, vmlck_kib, threshold_kib;
	bool by_user;			/* the uid's io_uring buffers bind, not VmPin/VmLck */
	unsigned int uid;
	uint64_t user_iouring_kib, user_procs;
	/* fork-unsafe */
	enum { PI_FORK_PARTIAL, PI_FORK_EDGE_SHARED, PI_FORK_MAP_COUNT, PI_FORK_NO_DONTFORK } fork;
	uint64_t dontfork_pages;
	uint64_t vma_count, max_map_count;
};

/* Human message of a finding (no hint) */
void pi_finding_message(const struct pi_finding *f, char *buf, size_t len);

/* Audit state of one process; feed pages with pi_audit_page. */
struct pi_audit_proc {
	bool enabled[PI_CHK__MAX];	/* selected and runnable */
	const struct pi_proc *proc;
	struct pi_summary sum;
	uint64_t held;			/* pinned, or maybe-pinned by a holder */
	uint64_t desynced;		/* holder pages an exact source says are not pinned */
	bool ring_charged;		/* VmPin > 0 (or unknown): the ring's pins count here */
	struct pi_finding *f;
	size_t n, cap;
	size_t open[PI_CHK__MAX];	/* index + 1 of the run being extended, 0 none */
	uint64_t vfio_pages;		/* held pages attributed to the vfio (VmLck) class */
	/*
	 * Set by the caller before the scan / before pi_audit_proc_finish;
	 * NULL turns the check that needs it off for this process.
	 */
	const struct pi_layout *layout;		/* longterm-pin-in-movable */
	const struct pi_smaps *smaps;		/* fork-unsafe */
	uint64_t max_map_count;			/* fork-unsafe, 0 unknown */
	/*
	 * fork-unsafe: the kernel is older than 5.9, where fork shares pinned
	 * anon pages COW instead of copying them for the child: a buffer
	 * without MADV_DONTFORK is then a finding too
	 */
	bool fork_shares_pinned;
	const struct pi_accounting *acct;	/* memlock-headroom */
	int64_t memlock_threshold_kib;		/* -1 (init): pi_memlock_threshold_kib default */
};

/* kernel release "X.Y..." older than 5.9 (fork does not copy pinned pages) */
bool pi_release_fork_shares_pinned(const char *release);

/* A system-wide orphaned run as a finding (pid of the holder, if any, by the caller) */
/*
 * memlock-headroom: fill f when acc's headroom is under the threshold
 * (opt_kib: --memlock-headroom, -1 default); false when it is not
 */
bool pi_memlock_finding(const struct pi_accounting *acc, int64_t opt_kib, struct pi_finding *f);
void pi_orphan_finding(struct pi_finding *f, uint64_t pfn_start, uint64_t pfn_end,
		       const struct pi_orphan_attr *at);

/* enabled: the selection; checks these capabilities cannot run stay off */
void pi_audit_proc_init(struct pi_audit_proc *a, const struct pi_proc *p,
			const bool enabled[PI_CHK__MAX], const struct pi_audit_caps *caps);
/* pi_page_fn: userdata is the struct pi_audit_proc */
int pi_audit_page(const struct pi_page *pg, void *userdata);
/* process-level checks once every page was seen; 0 or -ENOMEM */
int pi_audit_proc_finish(struct pi_audit_proc *a);
void pi_audit_proc_free(struct pi_audit_proc *a);

/* pages of [start, end) (page aligned outward) not inside any VMA */
uint64_t pi_range_unmapped_pages(const struct pi_vma_list *l, uint64_t start, uint64_t end);

#endif
