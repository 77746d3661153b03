/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_AUDIT_H
#define PININSPECT_AUDIT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "pininspect/scan.h"

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
	PI_CHK__MAX
};

/* What a check needs beyond pagemap, maps and fdinfo */
#define PI_NEED_EXACT		(1U << 0)	/* kpagepin or bpf */
#define PI_NEED_EXCLUSIVE	(1U << 1)	/* AnonExclusive: kpageflags or exact source */
#define PI_NEED_LONGTERM	(1U << 2)	/* source reports LONGTERM_PINNABLE */
#define PI_NEED_VMPIN		(1U << 3)	/* VmPin in /proc/PID/status */

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
};
bool pi_source_is_exact(enum pi_source s);
/* NULL if the check can run with these capabilities, else why not */
const char *pi_check_unmet(enum pi_check_id id, const struct pi_audit_caps *caps);

struct pi_finding {
	enum pi_check_id check;
	bool has_range;			/* false: a finding about the whole process */
	uint64_t start, end;		/* [start, end) */
	uint64_t pages;
	char holder[48];		/* holder desc, "" when none */
	uint64_t vmpin_kib, found_kib;	/* accounting checks */
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
};

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
