// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit checks: what counts as a finding, decided from the page records
 * of one scan and the process facts. Findings of the page checks are runs
 * of contiguous pages with the same check and holder, like report runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "pininspect/audit.h"
#include "pininspect/util.h"

#define PAGE_SZ		4096ULL

static const char *const severity_names[] = {
	[PI_SEV_INFO] = "info",
	[PI_SEV_WARNING] = "warning",
	[PI_SEV_ERROR] = "error",
};

const char *pi_severity_name(enum pi_severity s)
{
	return (unsigned int)s < ARRAY_SIZE(severity_names) ? severity_names[s] : "error";
}

int pi_severity_from_name(const char *name, enum pi_severity *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(severity_names); i++)
		if (strcmp(name, severity_names[i]) == 0) {
			*ret = (enum pi_severity)i;
			return 0;
		}
	return -EINVAL;
}

static const struct pi_check_info checks[PI_CHK__MAX] = {
	[PI_CHK_PINNED_NOT_PRESENT] = {
		"pinned-not-present", PI_SEV_ERROR, 0,
		"a pinned page (or a page of a registered buffer) is not mapped: the device "
		"and the process see different memory",
		"the mapping was dropped while the pin was held (MADV_DONTNEED, a failed "
		"migration, a kernel bug); re-register the buffer, and report the kernel if "
		"the application did not drop it",
	},
	[PI_CHK_PINNED_SWAPPED] = {
		"pinned-swapped", PI_SEV_ERROR, 0,
		"a pinned page is mapped by a swap or migration entry",
		"reclaim or migration unmapped a pinned page (kernels since 5.19 keep them "
		"mapped); report the kernel version; mlock the buffer as a stopgap",
	},
	[PI_CHK_PINNED_NOT_EXCLUSIVE] = {
		"pinned-not-exclusive", PI_SEV_WARNING, PI_NEED_EXCLUSIVE,
		"a pinned anonymous page is not AnonExclusive: a write fault may copy it "
		"away from the page the device uses (COW hazard)",
		"the page was shared after pinning (fork, KSM) or lost the race of "
		"page_maybe_dma_pinned() with GUP-fast; use MADV_DONTFORK on DMA buffers "
		"or pin after fork",
	},
	[PI_CHK_HOLDER_NOT_PINNED] = {
		"holder-not-pinned", PI_SEV_ERROR, PI_NEED_EXACT,
		"a page of an io_uring registered buffer is mapped but not pinned: the ring "
		"pins a page the process no longer maps (desync)",
		"the application replaced the buffer's pages after registering it "
		"(MADV_DONTNEED, mremap, mmap over it); I/O goes to the old pages: "
		"re-register the buffers after changing the mapping",
	},
	[PI_CHK_ORPHANED_PIN] = {
		"orphaned-pin", PI_SEV_ERROR, PI_NEED_VMPIN,
		"a registered buffer lies outside every VMA while VmPin still counts it; "
		"with --all and an exact source, pinned pages no process maps: pinned "
		"memory nobody can reach",
		"the buffer was unmapped or remapped while registered; unregister buffers "
		"(IORING_UNREGISTER_BUFFERS) before munmap; the pages stay pinned until "
		"then or until the ring is closed; with no holder named, a kernel user or "
		"a ring or device fd that outlived its process holds them",
	},
	[PI_CHK_VMPIN_UNACCOUNTED] = {
		"vmpin-unaccounted", PI_SEV_WARNING, PI_NEED_VMPIN,
		"VmPin is larger than the pinned pages found (beyond desynced and "
		"orphaned buffers)",
		"pins on pages no longer mapped, a holder pininspect cannot see (RDMA "
		"MRs: rdma resource show mr), or io_uring charging whole huge folios "
		"for a partial buffer",
	},
	[PI_CHK_PINS_UNACCOUNTED] = {
		"pins-unaccounted", PI_SEV_INFO, PI_NEED_VMPIN,
		"more pinned pages were found than VmPin accounts for",
		"holders that charge locked_vm or nothing (VFIO, plain GUP users), a ring "
		"inherited across fork, or 1024 plain references taken for a pin",
	},
	[PI_CHK_LONGTERM_UNPINNABLE] = {
		"longterm-unpinnable", PI_SEV_WARNING, PI_NEED_EXACT | PI_NEED_LONGTERM,
		"a pinned page is where long-term pins are not allowed (ZONE_MOVABLE, "
		"CMA, device memory)",
		"FOLL_LONGTERM should have migrated it before pinning; a short-term pin "
		"held long, or a kernel that skipped the migration; it blocks memory "
		"hot-unplug and CMA allocations",
	},
	[PI_CHK_BIAS_ONLY] = {
		"bias-only", PI_SEV_INFO, PI_NEED_EXACT,
		"a pin verdict rests only on the 1024 reference count bias of a small "
		"folio, not on an exact pin count",
		"small folios have no pin counter; 1024 plain references look the same: "
		"corroborate with the holder (io_uring fdinfo, rdma resource) and VmPin",
	},
	[PI_CHK_MEMLOCK_HEADROOM] = {
		"memlock-headroom", PI_SEV_WARNING, 0,
		"RLIMIT_MEMLOCK left after VmPin / VmLck is under the threshold "
		"(--memlock-headroom, default 10% of the limit, at most 1 MiB): the next "
		"buffer registration fails with ENOMEM",
		"raise the memlock limit (LimitMEMLOCK= in the unit, ulimit -l, "
		"/etc/security/limits.conf) or register less; processes with CAP_IPC_LOCK "
		"and unlimited limits are not checked",
	},
	[PI_CHK_FORK_UNSAFE] = {
		"fork-unsafe", PI_SEV_WARNING, 0,
		"a pinned buffer is only partly MADV_DONTFORK, or its first/last page holds "
		"data outside it under MADV_DONTFORK, or the VMA count nears vm.max_map_count",
		"page-align DMA buffers and give them their own pages; MADV_DONTFORK whole "
		"buffers or none (kernels since 5.9 copy pinned anon pages at fork, so "
		"no DONTFORK is safe); each DONTFORK range splits a VMA: raise "
		"vm.max_map_count or merge buffers",
	},
	[PI_CHK_LONGTERM_IN_MOVABLE] = {
		"longterm-pin-in-movable", PI_SEV_ERROR, PI_NEED_PFN | PI_NEED_LAYOUT,
		"a pinned page held by a long-term holder lies in ZONE_MOVABLE or a CMA area: "
		"it blocks memory offlining and CMA allocations",
		"FOLL_LONGTERM migrates pages out of movable zones and CMA before pinning: "
		"a kernel bug, or a holder pinning without FOLL_LONGTERM; release the pin "
		"(unregister, close the device) before offlining",
	},
	[PI_CHK_VFIO_PINS] = {
		"vfio-pins", PI_SEV_INFO, PI_NEED_EXACT | PI_NEED_VMPIN,
		"pinned pages that no io_uring or RDMA holder explains are accounted by VmLck "
		"(locked_vm), not VmPin: the VFIO holder class",
		"VFIO type1 charges its pins to locked_vm; they count against "
		"RLIMIT_MEMLOCK like mlock; nothing to do unless unexpected",
	},
};

const struct pi_check_info *pi_check_info(enum pi_check_id id)
{
	return (unsigned int)id < PI_CHK__MAX ? &checks[id] : NULL;
}

int pi_check_lookup(const char *name, size_t len)
{
	for (int i = 0; i < PI_CHK__MAX; i++)
		if (strlen(checks[i].id) == len && strncmp(checks[i].id, name, len) == 0)
			return i;
	/* "desync" is what the design and the issue call holder-not-pinned */
	if (len == 6 && strncmp(name, "desync", 6) == 0)
		return PI_CHK_HOLDER_NOT_PINNED;
	return -ENOENT;
}

void pi_check_needs_string(unsigned int needs, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ PI_NEED_EXACT, "exact" },
		{ PI_NEED_EXCLUSIVE, "exclusive" },
		{ PI_NEED_LONGTERM, "longterm" },
		{ PI_NEED_VMPIN, "vmpin" },
		{ PI_NEED_PFN, "pfn" },
		{ PI_NEED_LAYOUT, "layout" },
	};
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (needs & names[i].bit)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "," : "", names[i].name);
	if (!off)
		snprintf(buf, len, "-");
}

static int mark_list(const char *list, bool mark[PI_CHK__MAX], const char **ret_bad,
		     size_t *ret_badlen)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		int id;

		if (n) {
			id = pi_check_lookup(p, n);
			if (id < 0) {
				*ret_bad = p;
				*ret_badlen = n;
				return -EINVAL;
			}
			mark[id] = true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int pi_checks_select(const char *only, const char *skip, bool enabled[PI_CHK__MAX],
		     const char **ret_bad, size_t *ret_badlen)
{
	bool in[PI_CHK__MAX] = { false }, out[PI_CHK__MAX] = { false };
	int r;

	if (only && (r = mark_list(only, in, ret_bad, ret_badlen)) < 0)
		return r;
	if (skip && (r = mark_list(skip, out, ret_bad, ret_badlen)) < 0)
		return r;
	for (int i = 0; i < PI_CHK__MAX; i++)
		enabled[i] = (!only || in[i]) && !out[i];
	return 0;
}

bool pi_source_is_exact(enum pi_source s)
{
	return s == PI_SRC_KPAGEPIN || s == PI_SRC_BPF;
}

const char *pi_check_unmet(enum pi_check_id id, const struct pi_audit_caps *caps)
{
	unsigned int needs = checks[id].needs;

	if ((needs & PI_NEED_EXACT) && !pi_source_is_exact(caps->source))
		return "needs an exact pin source (kpagepin or bpf, as root); the source is "
		       "io_uring holders only";
	/* bpf knows the zone only where it could locate its bits, and never CMA */
	if ((needs & PI_NEED_LONGTERM) && !caps->longterm_known)
		return "needs a source that reports LONGTERM_PINNABLE: kpagepin, or bpf where "
		       "it can read the zone bits of page->flags and there is no CMA";
	if ((needs & PI_NEED_EXCLUSIVE) && !caps->exclusive_known)
		return "needs AnonExclusive from /proc/kpageflags or an exact pin source (root)";
	if ((needs & PI_NEED_PFN) && !caps->pfn_visible)
		return "needs PFNs from pagemap (CAP_SYS_ADMIN)";
	if ((needs & PI_NEED_LAYOUT) && !caps->layout_known)
		return "needs the physical layout (/proc/zoneinfo or /sys/devices/system/memory)";
	return NULL;
}

void pi_finding_message(const struct pi_finding *f, char *buf, size_t len)
{
	const char *h = *f->holder ? f->holder : NULL;
	uint64_t n = f->pages;

	switch (f->check) {
	case PI_CHK_PINNED_NOT_PRESENT:
		snprintf(buf, len, "%" PRIu64 " pinned page%s%s%s not mapped", n, n == 1 ? "" : "s",
			 h ? " of " : "", h ? h : "");
		break;
	case PI_CHK_PINNED_SWAPPED:
		snprintf(buf, len, "%" PRIu64 " pinned page%s%s%s swapped or migrating", n,
			 n == 1 ? "" : "s", h ? " of " : "", h ? h : "");
		break;
	case PI_CHK_PINNED_NOT_EXCLUSIVE:
		snprintf(buf, len, "%" PRIu64 " pinned page%s%s%s not AnonExclusive (COW hazard)",
			 n, n == 1 ? "" : "s", h ? " of " : "", h ? h : "");
		break;
	case PI_CHK_HOLDER_NOT_PINNED:
		snprintf(buf, len, "%" PRIu64 " page%s of %s mapped but not pinned: the ring "
			 "pins other pages (desync)", n, n == 1 ? "" : "s", h ? h : "a holder");
		break;
	case PI_CHK_ORPHANED_PIN: {
		char runs[96] = "";

		if (f->has_pfn)
			snprintf(runs, sizeof(runs), "%" PRIu64 " PFN run%s from PFN %" PRIu64,
				 f->pfn_runs, f->pfn_runs == 1 ? "" : "s", f->pfn_start);
		if (f->has_pfn && !f->vmpin_kib && !f->found_kib) {
			/* system-wide only: nothing per process to say */
			snprintf(buf, len, "%" PRIu64 " pinned page%s mapped by no process (%s); "
				 "holder: %s%s%s", n, n == 1 ? "" : "s", runs, h ? h : "unknown",
				 *f->detail ? ", " : "", f->detail);
			break;
		}
		snprintf(buf, len, "%s: %" PRIu64 " page%s outside every VMA while VmPin is %"
			 PRIu64 " KiB (%" PRIu64 " KiB pinned pages found)%s%s%s", h ? h : "holder", n,
			 n == 1 ? "" : "s", f->vmpin_kib, f->found_kib, *runs ? "; pinned and mapped "
			 "by no process: " : "", runs, "");
		break;
	}
	case PI_CHK_VMPIN_UNACCOUNTED:
		snprintf(buf, len, "VmPin %" PRIu64 " KiB, pinned pages found %" PRIu64
			 " KiB: %" PRIu64 " KiB not accounted for", f->vmpin_kib, f->found_kib,
			 n * 4);
		break;
	case PI_CHK_PINS_UNACCOUNTED:
		snprintf(buf, len, "pinned pages found %" PRIu64 " KiB, VmPin %" PRIu64
			 " KiB: %" PRIu64 " KiB more than accounted", f->found_kib, f->vmpin_kib,
			 n * 4);
		break;
	case PI_CHK_LONGTERM_UNPINNABLE:
		snprintf(buf, len, "%" PRIu64 " pinned page%s%s%s not long-term pinnable "
			 "(movable zone or CMA)", n, n == 1 ? "" : "s", h ? " of " : "", h ? h : "");
		break;
	case PI_CHK_BIAS_ONLY:
		snprintf(buf, len, "%" PRIu64 " page%s%s%s pinned by the refcount bias only "
			 "(estimate)", n, n == 1 ? "" : "s", h ? " of " : "", h ? h : "");
		break;
	case PI_CHK_MEMLOCK_HEADROOM:
		if (f->by_user) {
			snprintf(buf, len, "RLIMIT_MEMLOCK headroom %" PRId64 " KiB of %" PRIu64
				 " KiB (uid %u: io_uring buffers of %" PRIu64 " process(es) %" PRIu64
				 " KiB; VmPin %" PRIu64 " KiB), under %" PRIu64 " KiB: the next io_uring "
				 "registration of this user fails with ENOMEM", f->headroom_kib,
				 f->limit_kib, f->uid, f->user_procs, f->user_iouring_kib, f->vmpin_kib,
				 f->threshold_kib);
			break;
		}
		snprintf(buf, len, "RLIMIT_MEMLOCK headroom %" PRId64 " KiB of %" PRIu64 " KiB "
			 "(VmPin %" PRIu64 " KiB, VmLck %" PRIu64 " KiB), under %" PRIu64 " KiB: "
			 "further pinning fails with ENOMEM", f->headroom_kib, f->limit_kib,
			 f->vmpin_kib, f->vmlck_kib, f->threshold_kib);
		break;
	case PI_CHK_FORK_UNSAFE:
		if (f->fork == PI_FORK_PARTIAL)
			snprintf(buf, len, "MADV_DONTFORK covers %" PRIu64 " of %" PRIu64 " pages of "
				 "%s: a child gets part of the buffer", f->dontfork_pages, n,
				 h ? h : "a pinned range");
		else if (f->fork == PI_FORK_EDGE_SHARED)
			snprintf(buf, len, "%s shares its %s with data outside it under "
				 "MADV_DONTFORK: a child loses those bytes", h ? h : "a pinned range",
				 f->detail);
		else if (f->fork == PI_FORK_NO_DONTFORK)
			snprintf(buf, len, "%s has no MADV_DONTFORK on a kernel before 5.9: after "
				 "fork, a write by the parent can move it off the pinned pages (COW)",
				 h ? h : "a pinned range");
		else
			snprintf(buf, len, "%" PRIu64 " VMAs of vm.max_map_count %" PRIu64 ": more "
				 "MADV_DONTFORK splits or mappings fail with ENOMEM", f->vma_count,
				 f->max_map_count);
		break;
	case PI_CHK_LONGTERM_IN_MOVABLE:
		snprintf(buf, len, "%" PRIu64 " pinned page%s%s%s in %s (from PFN %" PRIu64 ")", n,
			 n == 1 ? "" : "s", h ? " of " : "", h ? h : "", f->detail, f->pfn_start);
		break;
	case PI_CHK_VFIO_PINS:
		snprintf(buf, len, "%" PRIu64 " pinned page%s accounted by VmLck %" PRIu64 " KiB, "
			 "not VmPin: vfio holder class", n, n == 1 ? "" : "s", f->vmlck_kib);
		break;
	default:
		snprintf(buf, len, "unknown check");
	}
}

void pi_audit_proc_init(struct pi_audit_proc *a, const struct pi_proc *p,
			const bool enabled[PI_CHK__MAX], const struct pi_audit_caps *caps)
{
	memset(a, 0, sizeof(*a));
	/* a check without what it needs would pass silently: keep it off */
	for (int i = 0; i < PI_CHK__MAX; i++)
		a->enabled[i] = enabled[i] && !pi_check_unmet(i, caps);
	a->proc = p;
	a->memlock_threshold_kib = -1;
	/*
	 * A ring inherited across fork (or passed over a socket) lists the
	 * owner's buffers; its pins are charged to the owner's VmPin, and the
	 * child's copies of those addresses are rightly not pinned.
	 */
	a->ring_charged = !p->status.has_vmpin || p->status.vmpin_kib > 0;
}

static struct pi_finding *new_finding(struct pi_audit_proc *a, enum pi_check_id id)
{
	struct pi_finding *f;

	if (pi_grow((void **)&a->f, &a->cap, a->n + 1, sizeof(*a->f)) < 0)
		return NULL;
	f = &a->f[a->n++];
	memset(f, 0, sizeof(*f));
	f->check = id;
	return f;
}

static int page_finding_d(struct pi_audit_proc *a, enum pi_check_id id, const struct pi_page *pg,
			  const char *detail)
{
	const char *h = pg->holder ? pg->holder->desc : "";
	struct pi_finding *f;

	if (!a->enabled[id])
		return 0;
	if (a->open[id]) {
		f = &a->f[a->open[id] - 1];
		if (f->end == pg->addr && f->kind == (uint8_t)pg->kind &&
		    strcmp(f->holder, h) == 0 && strcmp(f->detail, detail) == 0) {
			f->end += PAGE_SZ;
			f->pages++;
			if (pg->pfn_known && f->has_pfn && f->pfn_end == pg->pfn)
				f->pfn_end++;
			return 0;
		}
	}
	f = new_finding(a, id);
	if (!f)
		return -ENOMEM;
	f->has_range = true;
	f->start = pg->addr;
	f->end = pg->addr + PAGE_SZ;
	f->pages = 1;
	f->has_kind = true;
	f->kind = (uint8_t)pg->kind;
	snprintf(f->holder, sizeof(f->holder), "%s", h);
	snprintf(f->detail, sizeof(f->detail), "%s", detail);
	a->open[id] = a->n;
	return 0;
}

static int page_finding(struct pi_audit_proc *a, enum pi_check_id id, const struct pi_page *pg)
{
	return page_finding_d(a, id, pg, "");
}

/* held page in ZONE_MOVABLE or CMA: where, or NULL */
static const char *movable_where(const struct pi_layout *l, const struct pi_page *pg, char *buf,
				 size_t len)
{
	const struct pi_cma_area *cma;

	if (!l || !pg->pfn_known || !pg->pfn || !pi_layout_pfn_movable(l, pg->pfn))
		return NULL;
	cma = pi_layout_cma(l, pg->pfn);
	if (cma)
		snprintf(buf, len, "CMA area %.50s", cma->name);
	else
		snprintf(buf, len, "ZONE_MOVABLE");
	return buf;
}

int pi_audit_page(const struct pi_page *pg, void *userdata)
{
	struct pi_audit_proc *a = userdata;
	bool exact = pi_source_is_exact(pg->source);
	/* held: pinned, or covered by a holder without an exact "no" */
	bool held = pg->verdict == PI_V_PINNED || (pg->verdict == PI_V_MAYBE && pg->holder);
	int r = 0;

	pi_summary_add(&a->sum, pg);
	if (held)
		a->held++;
	if (held && !pg->present && !pg->swapped)
		r = page_finding(a, PI_CHK_PINNED_NOT_PRESENT, pg);
	if (r == 0 && held && pg->swapped)
		r = page_finding(a, PI_CHK_PINNED_SWAPPED, pg);
	if (r == 0 && held && pg->present && pg->exclusive == 0)
		r = page_finding(a, PI_CHK_PINNED_NOT_EXCLUSIVE, pg);
	if (r == 0 && pg->holder && pg->present && pg->verdict == PI_V_NOT && exact &&
	    a->ring_charged) {
		a->desynced++;
		r = page_finding(a, PI_CHK_HOLDER_NOT_PINNED, pg);
	}
	if (r == 0 && pg->verdict == PI_V_PINNED && pg->pin_known && exact &&
	    !(pg->pin & KPP_F_LONGTERM_PINNABLE))
		r = page_finding(a, PI_CHK_LONGTERM_UNPINNABLE, pg);
	if (r == 0 && pg->verdict == PI_V_PINNED && !pg->pin_exact && exact)
		r = page_finding(a, PI_CHK_BIAS_ONLY, pg);
	if (held && pg->holder && pg->holder->kind == PI_HOLDER_VFIO) {
		a->vfio_pages++;
		if (r == 0)
			r = page_finding(a, PI_CHK_VFIO_PINS, pg);
	}
	if (r == 0 && held && pg->present && a->enabled[PI_CHK_LONGTERM_IN_MOVABLE]) {
		char where[64];

		if (movable_where(a->layout, pg, where, sizeof(where))) {
			size_t before = a->n;

			r = page_finding_d(a, PI_CHK_LONGTERM_IN_MOVABLE, pg, where);
			if (r == 0 && a->n > before) {
				a->f[a->n - 1].has_pfn = true;
				a->f[a->n - 1].pfn_start = pg->pfn;
				a->f[a->n - 1].pfn_end = pg->pfn + 1;
			}
		}
	}
	return r;
}

/* the finding is about holder h: its pages (the range rounded out to pages) and name */
static void finding_holder(struct pi_finding *f, const struct pi_holder *h)
{
	f->has_range = true;
	f->start = h->start & ~(PAGE_SZ - 1);
	f->end = (h->end + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	snprintf(f->holder, sizeof(f->holder), "%s", h->desc);
}

uint64_t pi_range_unmapped_pages(const struct pi_vma_list *l, uint64_t start, uint64_t end)
{
	uint64_t s = start & ~(PAGE_SZ - 1);
	uint64_t e = (end + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	uint64_t covered = 0;

	if (e <= s)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		uint64_t lo = l->vmas[i].start > s ? l->vmas[i].start : s;
		uint64_t hi = l->vmas[i].end < e ? l->vmas[i].end : e;

		if (hi > lo)
			covered += hi - lo;
	}
	if (covered > e - s)
		covered = e - s;
	return (e - s - covered) / PAGE_SZ;
}

bool pi_release_fork_shares_pinned(const char *release)
{
	unsigned int major = 0, minor = 0;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;	/* unknown: assume a current kernel */
	return major < 5 || (major == 5 && minor < 9);
}

void pi_orphan_finding(struct pi_finding *f, uint64_t pfn_start, uint64_t pfn_end,
		       const struct pi_orphan_attr *at)
{
	memset(f, 0, sizeof(*f));
	f->check = PI_CHK_ORPHANED_PIN;
	f->has_pfn = true;
	f->pfn_start = pfn_start;
	f->pfn_end = pfn_end;
	f->pages = pfn_end - pfn_start;
	f->pfn_runs = 1;
	if (at && at->holder) {
		finding_holder(f, &at->holder->h);
	} else if (at && at->proc) {
		snprintf(f->holder, sizeof(f->holder), "VmPin of pid %d", (int)at->proc->pid);
	}
	if (at && at->why)
		snprintf(f->detail, sizeof(f->detail), "%s", at->why);
}

bool pi_memlock_finding(const struct pi_accounting *acc, int64_t opt_kib, struct pi_finding *f)
{
	uint64_t t = pi_memlock_threshold_kib(acc, opt_kib);

	if (!pi_accounting_low_headroom(acc, t))
		return false;
	memset(f, 0, sizeof(*f));
	f->check = PI_CHK_MEMLOCK_HEADROOM;
	f->headroom_kib = acc->headroom_kib;
	f->limit_kib = acc->memlock.soft / 1024;
	f->vmpin_kib = acc->vmpin_kib;
	f->vmlck_kib = acc->vmlck_kib;
	f->threshold_kib = t;
	f->by_user = acc->headroom_by_user;
	f->uid = (unsigned int)acc->uid;
	f->user_iouring_kib = acc->user_iouring_kib;
	f->user_procs = acc->user_procs;
	return true;
}

static int memlock_finding(struct pi_audit_proc *a)
{
	struct pi_finding tmp, *f;

	if (!a->acct || !a->enabled[PI_CHK_MEMLOCK_HEADROOM])
		return 0;
	if (!pi_memlock_finding(a->acct, a->memlock_threshold_kib, &tmp))
		return 0;
	f = new_finding(a, PI_CHK_MEMLOCK_HEADROOM);
	if (!f)
		return -ENOMEM;
	*f = tmp;
	return 0;
}

static int fork_findings(struct pi_audit_proc *a)
{
	const struct pi_proc *p = a->proc;
	struct pi_fork_safety fs;
	struct pi_finding *f;

	if (!a->smaps || !a->enabled[PI_CHK_FORK_UNSAFE])
		return 0;
	for (size_t i = 0; i < p->holders.n; i++) {
		const struct pi_holder *h = &p->holders.h[i];
		bool edge;

		pi_fork_safety(a->smaps, h->start, h->end, a->max_map_count, &fs);
		edge = (fs.head_shared || fs.tail_shared) && fs.dontfork_pages;
		if (!fs.partial && !edge && !(a->fork_shares_pinned && !fs.dontfork_pages && fs.pages))
			continue;
		f = new_finding(a, PI_CHK_FORK_UNSAFE);
		if (!f)
			return -ENOMEM;
		finding_holder(f, h);
		f->pages = fs.pages;
		f->dontfork_pages = fs.dontfork_pages;
		f->fork = fs.partial ? PI_FORK_PARTIAL : edge ? PI_FORK_EDGE_SHARED : PI_FORK_NO_DONTFORK;
		snprintf(f->detail, sizeof(f->detail), "%s",
			 fs.head_shared && fs.tail_shared ? "first and last pages" :
			 fs.head_shared ? "first page" : "last page");
	}
	/* the kernel refuses new VMAs at max_map_count; warn at 90% */
	if ((p->holders.n || a->held) && a->max_map_count &&
	    a->smaps->n * 10 > a->max_map_count * 9) {
		f = new_finding(a, PI_CHK_FORK_UNSAFE);
		if (!f)
			return -ENOMEM;
		f->fork = PI_FORK_MAP_COUNT;
		f->vma_count = a->smaps->n;
		f->max_map_count = a->max_map_count;
	}
	return 0;
}

int pi_audit_proc_finish(struct pi_audit_proc *a)
{
	const struct pi_proc *p = a->proc;
	const struct pi_status *st = &p->status;
	/* VmLck (vfio class) pages are not VmPin's business */
	uint64_t vmpin_held = a->held - (a->vfio_pages < a->held ? a->vfio_pages : a->held);
	uint64_t found_kib = vmpin_held * 4, orphaned = 0, explained;
	struct pi_finding *f;
	int r;

	r = memlock_finding(a);
	if (r == 0)
		r = fork_findings(a);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->holders.n; i++) {
		const struct pi_holder *h = &p->holders.h[i];
		uint64_t u;

		if (h->kind == PI_HOLDER_VFIO)
			continue;
		u = pi_range_unmapped_pages(&p->vmas, h->start, h->end);
		if (!u)
			continue;
		orphaned += u;
		/* VmPin still charging it is what makes it a pin, not a stale entry */
		if (!a->enabled[PI_CHK_ORPHANED_PIN] || !st->has_vmpin || st->vmpin_kib <= found_kib)
			continue;
		f = new_finding(a, PI_CHK_ORPHANED_PIN);
		if (!f)
			return -ENOMEM;
		finding_holder(f, h);
		f->pages = u;
		f->vmpin_kib = st->vmpin_kib;
		f->found_kib = found_kib;
	}
	if (!st->has_vmpin)
		return 0;
	explained = found_kib + (a->desynced + orphaned) * 4;
	if (a->enabled[PI_CHK_VMPIN_UNACCOUNTED] && st->vmpin_kib > explained) {
		f = new_finding(a, PI_CHK_VMPIN_UNACCOUNTED);
		if (!f)
			return -ENOMEM;
		f->pages = (st->vmpin_kib - explained + 3) / 4;
		f->vmpin_kib = st->vmpin_kib;
		f->found_kib = found_kib;
	}
	if (found_kib > st->vmpin_kib) {
		uint64_t excess = found_kib - st->vmpin_kib, vfio = 0;

		/*
		 * VmLck (not from mlock) covering the pins VmPin cannot: the
		 * vfio class, even where the scan could not place it on runs
		 */
		if (p->has_vfio && p->vfio.vfio && !p->vfio.whole)
			vfio = excess < p->vfio.lock_kib ? excess : p->vfio.lock_kib;
		if (vfio && a->enabled[PI_CHK_VFIO_PINS]) {
			f = new_finding(a, PI_CHK_VFIO_PINS);
			if (!f)
				return -ENOMEM;
			f->pages = (vfio + 3) / 4;
			f->vmlck_kib = st->vmlck_kib;
			f->vmpin_kib = st->vmpin_kib;
			f->found_kib = found_kib;
		}
		excess -= vfio;
		if (excess && a->enabled[PI_CHK_PINS_UNACCOUNTED]) {
			f = new_finding(a, PI_CHK_PINS_UNACCOUNTED);
			if (!f)
				return -ENOMEM;
			f->pages = (excess + 3) / 4;
			f->vmpin_kib = st->vmpin_kib;
			f->found_kib = found_kib;
		}
	}
	/* page-level vfio findings carry VmLck too */
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].check == PI_CHK_VFIO_PINS && !a->f[i].vmlck_kib)
			a->f[i].vmlck_kib = st->vmlck_kib;
	return 0;
}

void pi_audit_proc_free(struct pi_audit_proc *a)
{
	free(a->f);
	a->f = NULL;
	a->n = a->cap = 0;
}
