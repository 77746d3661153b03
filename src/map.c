// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --map: system-wide pin map (issue 10, DESIGN section 9). Scan the PFN
 * space (or a selection) with an exact pin source, map every pinned PFN
 * back to the processes mapping it, report runs; orphaned pins, the memory
 * block offline planner, accounting and fork safety ride along.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/resource.h>
#include <libsmartcols/libsmartcols.h>
#include "pininspect.h"
#include "jsonwrt.h"
#include "pininspect/pinmap.h"
#include "pininspect/accounting.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define PAGE_SZ 4096ULL
#define OFFLINE_NOTE "other unmovable pages (kernel allocations, page tables, " \
	"reserved memory) can block offlining too; pininspect only sees pins"

struct map_run {
	size_t first, last;		/* indices into the pinned set, inclusive */
	uint64_t pfn_start, pfn_end;
	int node;
	const char *zone;
	int64_t block;
	uint64_t pins;
	bool pin_exact;
	bool anon, exclusive, large;	/* kpagepin-ABI flags, the same on every page */
	uint8_t kind;			/* enum pi_kind from kpageflags; KIND_UNKNOWN */
	bool orphaned;
	size_t own_first, own_n;	/* owners of pfn_start */
	const struct pi_rmap_proc *holder_proc;
	const struct pi_rmap_holder *holder;
	const char *orphan_why;
	const char *acct_holder;	/* holder inferred from accounting, no buffer */
	const struct pi_cma_area *cma;
};

struct map_proc_extra {
	struct pi_accounting acct;
	struct pi_smaps smaps;
	bool smaps_ok;
};

struct map_ctx {
	const struct pi_cli *cli;
	struct pi_sources *src;
	struct pi_layout layout;
	struct pi_pfn_ranges ranges;
	struct pi_pinned_set set;
	struct pi_rmap rmap;
	struct map_run *runs;
	size_t nruns, runs_cap;
	struct map_proc_extra *extra;	/* per rmap proc */
	uint64_t max_map_count;
	double scan_s, rmap_s;
	uint64_t orphaned_pages;
	uint64_t movable_pages;		/* pinned pages in ZONE_MOVABLE or CMA */
	uint64_t not_exclusive;		/* pinned anon pages without AnonExclusive */
	const struct pi_mem_block *block;	/* --memory-block */
	const char *zone_filter;
	bool zone_empty;
	bool *gone;			/* per set entry: unpinned before the reverse map ended */
	uint8_t *kinds;			/* per set entry: enum pi_kind or KIND_UNKNOWN */
	uint64_t released;		/* how many */
};

#define KIND_UNKNOWN 0xff

/*
 * The kind of a pinned page is a property of the page, not of a mapping
 * (orphans have none): from /proc/kpageflags, KPF_HUGE is a hugetlb page,
 * KPF_ANON an anon page (also a COW copy in a private file mapping),
 * KPF_SWAPBACKED without KPF_ANON shmem/memfd (tmpfs), and the rest a page
 * cache (file) page. Without kpageflags only the kpagepin-ABI anon flag is
 * known: "anon" or unknown.
 */
static uint8_t kind_of(bool kpf_known, uint64_t kpf, uint64_t ent)
{
	if (!kpf_known)
		return ent & KPP_F_ANON ? PI_KIND_ANON : KIND_UNKNOWN;
	if (kpf & KPF_BIT(KPF_HUGE))
		return PI_KIND_HUGETLB;
	if (kpf & KPF_BIT(KPF_ANON))
		return PI_KIND_ANON;
	if (kpf & KPF_BIT(KPF_SWAPBACKED))
		return PI_KIND_SHMEM;
	return PI_KIND_FILE;
}

#define KIND_BATCH 4096

static int read_kinds(struct map_ctx *m)
{
	uint64_t pfns[KIND_BATCH], kpf[KIND_BATCH];
	struct pi_kpage_file *f = m->src->kpageflags;

	m->kinds = malloc(m->set.n ? m->set.n : 1);
	if (!m->kinds)
		return -ENOMEM;
	for (size_t i = 0; i < m->set.n; i += KIND_BATCH) {
		size_t n = m->set.n - i < KIND_BATCH ? m->set.n - i : KIND_BATCH;
		size_t missing = 0;
		bool known = false;

		for (size_t k = 0; k < n; k++)
			pfns[k] = m->set.p[i + k].pfn;
		if (f && pi_kpage_read(f, pfns, n, kpf, &missing) >= 0)
			known = true;
		for (size_t k = 0; k < n; k++)
			m->kinds[i + k] = kind_of(known && !(missing && !kpf[k]), kpf[k],
						  m->set.p[i + k].ent);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool known_zone_name(const char *z)
{
	static const char *names[] = { "dma", "dma32", "normal", "highmem", "movable", "device" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(z, names[i]) == 0)
			return true;
	return false;
}

/* 0, or an exit status */
static int select_ranges(struct map_ctx *m)
{
	const struct pi_cli *cli = m->cli;
	struct pi_pfn_ranges sel = { 0 };
	int r;

	r = pi_layout_all(&m->layout, &m->ranges);
	if (r < 0)
		goto oom;
	if (cli->pfn_range) {
		struct pi_pfn_range pr;

		if (pi_pfn_range_parse(cli->pfn_range, &pr) < 0) {
			pi_warn("--pfn-range '%s': expected START-END (END exclusive) or START+COUNT",
				cli->pfn_range);
			return PI_EXIT_USAGE;
		}
		if (pi_pfn_ranges_add(&sel, pr.start, pr.end) < 0 ||
		    pi_pfn_ranges_intersect(&m->ranges, &sel) < 0)
			goto oom;
		pi_pfn_ranges_free(&sel);
	}
	if (cli->node >= 0) {
		r = pi_layout_node_ranges(&m->layout, cli->node, &sel);
		if (r < 0)
			goto oom;
		if (!sel.n) {
			pi_warn("--node %d: no such node with memory", cli->node);
			return PI_EXIT_TROUBLE;
		}
		if (pi_pfn_ranges_intersect(&m->ranges, &sel) < 0)
			goto oom;
		pi_pfn_ranges_free(&sel);
	}
	if (cli->zone) {
		if (!known_zone_name(cli->zone)) {
			pi_warn("--zone '%s': not a zone (dma, dma32, normal, highmem, movable, device)",
				cli->zone);
			return PI_EXIT_USAGE;
		}
		r = pi_layout_zone_ranges(&m->layout, cli->zone, &sel);
		if (r == -ENOMEM)
			goto oom;
		if (r == -ENOENT || !sel.n) {
			m->zone_empty = true;
			pi_warn("zone %s spans no memory here (/proc/zoneinfo)", cli->zone);
		}
		if (pi_pfn_ranges_intersect(&m->ranges, &sel) < 0)
			goto oom;
		pi_pfn_ranges_free(&sel);
		m->zone_filter = cli->zone;
	}
	if (cli->memory_block >= 0) {
		r = pi_layout_block_ranges(&m->layout, (uint64_t)cli->memory_block, &sel);
		if (r == -EOPNOTSUPP) {
			pi_warn("--memory-block: /sys/devices/system/memory is missing (no memory hotplug)");
			return PI_EXIT_TROUBLE;
		}
		if (r == -ENOENT) {
			pi_warn("--memory-block %ld: no such memory block", cli->memory_block);
			return PI_EXIT_TROUBLE;
		}
		if (r < 0)
			goto oom;
		m->block = pi_layout_block(&m->layout, (uint64_t)cli->memory_block);
		/* a block is scanned whole even where zoneinfo spans do not reach */
		if (!cli->pfn_range && cli->node < 0 && !cli->zone) {
			pi_pfn_ranges_free(&m->ranges);
			m->ranges = sel;
			memset(&sel, 0, sizeof(sel));
		} else if (pi_pfn_ranges_intersect(&m->ranges, &sel) < 0) {
			goto oom;
		}
		pi_pfn_ranges_free(&sel);
	}
	if (cli->cma) {
		r = pi_layout_cma_ranges(&m->layout, &sel);
		if (r == -EOPNOTSUPP) {
			pi_warn("--cma: /sys/kernel/mm/cma is missing: this kernel has no CMA (CONFIG_CMA)");
			return PI_EXIT_TROUBLE;
		}
		if (r == -ENODATA) {
			pi_warn("--cma: the PFN ranges of CMA areas come from debugfs "
				"(/sys/kernel/debug/cma/NAME/base_pfn and count): missing or "
				"unreadable (mount debugfs)");
			return PI_EXIT_TROUBLE;
		}
		if (r < 0)
			goto oom;
		if (pi_pfn_ranges_intersect(&m->ranges, &sel) < 0)
			goto oom;
		pi_pfn_ranges_free(&sel);
	}
	return 0;
oom:
	pi_pfn_ranges_free(&sel);
	pi_errno(-ENOMEM, "--map");
	return PI_EXIT_TROUBLE;
}

/*
 * Under --root the kpagepin "pages" file is a regular file: PFNs past its
 * end are not pages, so a hostile zoneinfo cannot make us read for hours.
 * (The real debugfs file reports size 0 and fails with EINVAL past its bound.)
 */
static void bound_by_source_file(struct map_ctx *m)
{
	struct pi_pfn_ranges b = { 0 };
	struct stat st;
	int fd;

	if (pi_root_is_host() || m->src->source != PI_SRC_KPAGEPIN)
		return;
	fd = pi_root_open("sys/kernel/debug/" KPAGEPIN_DIR "/pages", O_RDONLY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    pi_pfn_ranges_add(&b, 0, (uint64_t)st.st_size / 8) == 0)
		(void)pi_pfn_ranges_intersect(&m->ranges, &b);
	pi_pfn_ranges_free(&b);
	close(fd);
}

/* zone filter at memory-block precision: zoneinfo spans of zones overlap */
static void filter_zone(struct map_ctx *m)
{
	size_t k = 0;

	if (!m->zone_filter)
		return;
	for (size_t i = 0; i < m->set.n; i++)
		if (strcasecmp(pi_layout_zone(&m->layout, m->set.p[i].pfn), m->zone_filter) == 0)
			m->set.p[k++] = m->set.p[i];
	m->set.n = k;
}

static bool pid_selected(const struct pi_cli *cli, pid_t pid)
{
	for (size_t i = 0; i < cli->npids; i++)
		if (cli->pids[i] == pid)
			return true;
	return false;
}

static const struct pi_rmap_holder *holder_at(const struct pi_rmap_proc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nholders; i++)
		if (addr < p->holders[i].h.end && addr + PAGE_SZ > p->holders[i].h.start)
			return &p->holders[i];
	return NULL;
}

/*
 * Same owner set as the previous PFN (DESIGN section 9): the same processes,
 * wherever they map it; io_uring often gets PFNs in descending address order.
 */
/*
 * The next PFN continues a run only where every owner maps it at the next
 * virtual address too: an owner's addr is that of pfn_start, so the rest of
 * the run must follow it (two buffers whose pages happen to be physically
 * adjacent are two runs).
 */
static bool owners_continue(const struct pi_rmap *r, size_t pf, size_t pn, size_t f, size_t n)
{
	if (pn != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct pi_pfn_owner *a = &r->owners[pf + i], *b = &r->owners[f + i];

		if (a->proc != b->proc || b->addr != a->addr + PAGE_SZ)
			return false;
	}
	return true;
}

/*
 * The PFN scan comes before the process walk: a pin released in between
 * (process exit, unregister) would look orphaned. Read the PFNs nobody maps
 * again, letting the ring teardown of processes that just exited settle
 * (pi_orphan_pfns_read, as the audit does), and forget those no longer pinned
 * or mapped by a process started meanwhile (released_during_scan counts both).
 */
static int recheck_orphans(struct map_ctx *m)
{
	struct pi_orphan_pfns o;
	int r;

	m->gone = calloc(m->set.n ? m->set.n : 1, sizeof(*m->gone));
	if (!m->gone)
		return -ENOMEM;
	r = pi_orphan_pfns_read(m->src->pinsrc, &m->set, &m->rmap, pi_procsel_all, &o);
	if (r < 0)
		return r;
	for (size_t j = 0; j < o.n; j++)
		if (!pi_pin_entry_pinned(o.ent[j])) {
			m->gone[o.idx[j]] = true;
			m->released++;
		}
	pi_orphan_pfns_free(&o);
	return 0;
}

static int build_runs(struct map_ctx *m)
{
	struct pi_orphan_ctx oc;
	size_t prev_f = 0, prev_n = 0;
	bool folio_excl = false;
	int r = pi_orphan_ctx_init(&m->rmap, &oc);

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->set.n; i++) {
		const struct pi_pinned_pfn *pp = &m->set.p[i];
		uint64_t pins = KPP_PINCOUNT(pp->ent);
		bool exact = pp->ent & KPP_F_PIN_EXACT;
		int node = pi_layout_node(&m->layout, pp->pfn);
		const char *zone = pi_layout_zone(&m->layout, pp->pfn);
		int64_t block = pi_layout_block_id(&m->layout, pp->pfn);
		size_t f, n;
		struct map_run *cur = m->nruns ? &m->runs[m->nruns - 1] : NULL;

		if (m->gone && m->gone[i])
			continue;
		pi_rmap_owners_of(&m->rmap, i, &f, &n);
		bool anon = pp->ent & KPP_F_ANON, excl = pp->ent & KPP_F_ANON_EXCLUSIVE;
		bool large = pp->ent & KPP_F_LARGE;
		uint8_t kind = m->kinds ? m->kinds[i] : KIND_UNKNOWN;

		/*
		 * A PMD-mapped THP keeps AnonExclusive on its head page only:
		 * tails right after their head take the head's flag.
		 */
		if (large && (pp->ent & KPP_F_HEAD))
			folio_excl = excl;
		else if (large && i && m->set.p[i - 1].pfn == pp->pfn - 1 &&
			 (m->set.p[i - 1].ent & KPP_F_LARGE))
			excl = excl || folio_excl;
		else if (large)
			folio_excl = false;

		if (cur && cur->pfn_end == pp->pfn && cur->pins == pins && cur->pin_exact == exact &&
		    cur->anon == anon && cur->exclusive == excl && cur->large == large &&
		    cur->kind == kind &&
		    cur->orphaned == (n == 0) && cur->node == node && cur->block == block &&
		    strcmp(cur->zone, zone) == 0 && owners_continue(&m->rmap, prev_f, prev_n, f, n)) {
			cur->pfn_end++;
			cur->last = i;
		} else {
			if (pi_grow((void **)&m->runs, &m->runs_cap, m->nruns + 1, sizeof(*m->runs)) < 0) {
				pi_orphan_ctx_free(&oc);
				return -ENOMEM;
			}
			cur = &m->runs[m->nruns++];
			*cur = (struct map_run){
				.first = i, .last = i, .pfn_start = pp->pfn, .pfn_end = pp->pfn + 1,
				.node = node, .zone = zone, .block = block, .pins = pins,
				.pin_exact = exact, .anon = anon, .exclusive = excl, .large = large,
				.kind = kind,
				.orphaned = n == 0, .own_first = f, .own_n = n,
				.cma = pi_layout_cma(&m->layout, pp->pfn),
			};
		}
		prev_f = f;
		prev_n = n;
	}
	/* holders: the owner's io_uring buffer covering the address; orphans: attribution */
	for (size_t i = 0; i < m->nruns; i++) {
		struct map_run *run = &m->runs[i];

		if (run->orphaned) {
			struct pi_orphan_attr at;

			m->orphaned_pages += run->pfn_end - run->pfn_start;
			if (run->cma || strcmp(run->zone, "movable") == 0)
				m->movable_pages += run->pfn_end - run->pfn_start;
			pi_orphan_attribute(&m->rmap, &oc, run->pfn_end - run->pfn_start, &at);
			run->holder_proc = at.proc;
			run->holder = at.holder;
			run->orphan_why = at.why;
			continue;
		}
		if (run->cma || strcmp(run->zone, "movable") == 0)
			m->movable_pages += run->pfn_end - run->pfn_start;
		if (run->anon && !run->exclusive)
			m->not_exclusive += run->pfn_end - run->pfn_start;
		for (size_t k = 0; k < run->own_n; k++) {
			const struct pi_pfn_owner *o = &m->rmap.owners[run->own_first + k];
			const struct pi_rmap_proc *p = &m->rmap.procs[o->proc];
			const struct pi_rmap_holder *h = holder_at(p, o->addr);

			if (h) {
				run->holder_proc = p;
				run->holder = h;
				break;
			}
		}
		/* no registered buffer covers it: name the counter that charges it */
		for (size_t k = 0; !run->holder_proc && k < run->own_n; k++) {
			const struct pi_rmap_proc *p = &m->rmap.procs[m->rmap.owners[run->own_first + k].proc];

			if (p->rdma_mrs && p->has_vmpin && p->vmpin_kib) {
				run->holder_proc = p;
				run->acct_holder = "VmPin (the process's RDMA MRs)";
			} else if (p->has_vmpin && p->vmpin_kib) {
				run->holder_proc = p;
				run->acct_holder = "VmPin (RDMA or another pinned_vm holder)";
			} else if (p->has_vmlck && p->vmlck_kib) {
				run->holder_proc = p;
				run->acct_holder = "VmLck (VFIO or mlock)";
			}
		}
	}
	pi_orphan_ctx_free(&oc);
	return 0;
}

static bool run_shown(const struct map_ctx *m, const struct map_run *run)
{
	if (!m->cli->npids)
		return true;
	for (size_t k = 0; k < run->own_n; k++)
		if (pid_selected(m->cli, m->rmap.procs[m->rmap.owners[run->own_first + k].proc].pid))
			return true;
	return run->holder_proc && pid_selected(m->cli, run->holder_proc->pid);
}

static void holder_text(const struct map_run *run, char *buf, size_t len)
{
	if (!run->holder_proc) {
		snprintf(buf, len, "%s", run->orphaned ? "unknown" : "");
		return;
	}
	if (run->holder)
		snprintf(buf, len, "%s", run->holder->h.desc);
	else if (run->acct_holder)
		snprintf(buf, len, "%s", run->acct_holder);
	else
		snprintf(buf, len, "VmPin of pid %d", (int)run->holder_proc->pid);
}

static const char *dontfork_word(const struct map_ctx *m, uint32_t proc, uint64_t start, uint64_t end)
{
	struct pi_fork_safety fs;

	if (!m->extra[proc].smaps_ok)
		return NULL;
	pi_fork_safety(&m->extra[proc].smaps, start, end, m->max_map_count, &fs);
	return fs.covered ? "all" : fs.partial ? "partial" : "none";
}

static void extras_read(struct map_ctx *m)
{
	m->extra = calloc(m->rmap.nprocs ? m->rmap.nprocs : 1, sizeof(*m->extra));
	if (!m->extra)
		return;
	(void)pi_max_map_count_read(&m->max_map_count);
	for (size_t i = 0; i < m->rmap.nprocs; i++) {
		const struct pi_rmap_proc *p = &m->rmap.procs[i];
		struct map_proc_extra *x = &m->extra[i];

		if (pi_accounting_read(p->pid, p->pinned_mapped, &x->acct) < 0) {
			/* gone: keep what the walk saw */
			x->acct.pid = p->pid;
			x->acct.pinned_found = p->pinned_mapped;
			x->acct.has_vmpin = p->has_vmpin;
			x->acct.has_vmlck = p->has_vmlck;
			x->acct.vmpin_kib = p->vmpin_kib;
			x->acct.vmlck_kib = p->vmlck_kib;
			pi_accounting_compute(&x->acct);
		}
		x->smaps_ok = pi_smaps_read(p->pid, &x->smaps) == 0;
		x->acct.uid_known = true;
		x->acct.uid = p->uid;
		x->acct.iouring_kib = 0;
		for (size_t k = 0; k < p->nholders; k++)
			if (p->holders[k].h.kind == PI_HOLDER_IO_URING)
				x->acct.iouring_kib += pi_iouring_buffer_kib(p->holders[k].h.start,
									     p->holders[k].h.end);
		x->acct.iouring_kib = pi_iouring_charge_kib(x->acct.iouring_kib, x->acct.has_vmpin,
							    x->acct.vmpin_kib, p->rdma_mrs);
	}
	/* io_uring charges the user: sum over every process the walk kept */
	{
		struct pi_accounting **pa = calloc(m->rmap.nprocs ? m->rmap.nprocs : 1, sizeof(*pa));

		if (pa) {
			for (size_t i = 0; i < m->rmap.nprocs; i++)
				pa[i] = &m->extra[i].acct;
			pi_accounting_user_sums(pa, m->rmap.nprocs);
			free(pa);
		}
	}
}

static void extras_free(struct map_ctx *m)
{
	if (!m->extra)
		return;
	for (size_t i = 0; i < m->rmap.nprocs; i++)
		pi_smaps_free(&m->extra[i].smaps);
	free(m->extra);
	m->extra = NULL;
}

static uint64_t shown_pinned_in_block(const struct map_ctx *m, size_t *nruns)
{
	uint64_t pages = 0;

	*nruns = 0;
	for (size_t i = 0; i < m->nruns; i++)
		if (m->block && m->runs[i].block == (int64_t)m->block->id) {
			pages += m->runs[i].pfn_end - m->runs[i].pfn_start;
			(*nruns)++;
		}
	return pages;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* ---------------------------------------------------------------- JSON */

static void json_acct(struct jsonwrt *w, const struct map_ctx *m, size_t i)
{
	const struct pi_rmap_proc *p = &m->rmap.procs[i];
	const struct pi_accounting *a = &m->extra[i].acct;

	jw_object_open(w, NULL);
	jw_i64(w, "pid", p->pid);
	jw_string(w, "comm", p->comm);
	jw_string_or_null(w, "cgroup", a->cgroup[0] ? a->cgroup : NULL);
	jw_u64(w, "rdma_mrs", p->rdma_mrs);
	jw_u64(w, "pinned_found", p->pinned_mapped);
	if (a->has_vmpin)
		jw_u64(w, "vmpin_kib", a->vmpin_kib);
	else
		jw_null(w, "vmpin_kib");
	if (a->has_vmlck)
		jw_u64(w, "vmlck_kib", a->vmlck_kib);
	else
		jw_null(w, "vmlck_kib");
	jw_i64(w, "vmpin_delta_kib", a->vmpin_delta_kib);
	if (a->memlock.known && !a->memlock.soft_unlimited)
		jw_u64(w, "memlock_soft_kib", a->memlock.soft / 1024);
	else
		jw_null(w, "memlock_soft_kib");
	if (a->memlock.known && !a->memlock.hard_unlimited)
		jw_u64(w, "memlock_hard_kib", a->memlock.hard / 1024);
	else
		jw_null(w, "memlock_hard_kib");
	jw_bool(w, "memlock_unlimited", a->memlock.known && a->memlock.soft_unlimited);
	if (a->cap_known)
		jw_bool(w, "cap_ipc_lock", a->cap_ipc_lock);
	else
		jw_null(w, "cap_ipc_lock");
	jw_u64(w, "iouring_kib", a->iouring_kib);
	if (a->user_known) {
		jw_u64(w, "uid", a->uid);
		jw_u64(w, "user_iouring_kib", a->user_iouring_kib);
		jw_u64(w, "user_iouring_procs", a->user_procs);
	} else {
		jw_null(w, "uid");
		jw_null(w, "user_iouring_kib");
		jw_null(w, "user_iouring_procs");
	}
	if (a->headroom_known) {
		jw_i64(w, "process_headroom_kib", a->proc_headroom_kib);
		if (a->user_known)
			jw_i64(w, "user_headroom_kib", a->user_headroom_kib);
		else
			jw_null(w, "user_headroom_kib");
		jw_i64(w, "headroom_kib", a->headroom_kib);
		jw_string(w, "headroom_by", a->headroom_by_user ? "user" : "process");
	} else {
		jw_null(w, "process_headroom_kib");
		jw_null(w, "user_headroom_kib");
		jw_null(w, "headroom_kib");
		jw_null(w, "headroom_by");
	}
	if (m->extra[i].smaps_ok)
		jw_u64(w, "vma_count", m->extra[i].smaps.n);
	else
		jw_null(w, "vma_count");
	if (m->max_map_count)
		jw_u64(w, "max_map_count", m->max_map_count);
	else
		jw_null(w, "max_map_count");
	jw_array_open(w, "buffers");
	for (size_t k = 0; k < p->nholders; k++) {
		const struct pi_rmap_holder *h = &p->holders[k];

		jw_object_open(w, NULL);
		jw_string(w, "holder", h->h.desc);
		jw_hex(w, "addr", h->h.start);
		jw_u64(w, "len", h->h.end - h->h.start);
		jw_u64(w, "pages", h->pages);
		jw_u64(w, "unmapped", h->unmapped);
		jw_u64(w, "unpinned", h->unpinned);
		if (m->extra[i].smaps_ok) {
			struct pi_fork_safety fs;

			pi_fork_safety(&m->extra[i].smaps, h->h.start, h->h.end, m->max_map_count, &fs);
			jw_u64(w, "dontfork_pages", fs.dontfork_pages);
			jw_string(w, "dontfork", fs.covered ? "all" : fs.partial ? "partial" : "none");
			jw_bool(w, "head_shared", fs.head_shared);
			jw_bool(w, "tail_shared", fs.tail_shared);
		} else {
			jw_null(w, "dontfork");
		}
		jw_object_close(w);
	}
	jw_array_close(w);
	jw_object_close(w);
}

static void json_out(struct map_ctx *m)
{
	struct jsonwrt w;
	struct pi_cgroup_sum *cg = NULL;
	size_t ncg = 0;

	jw_init(&w, stdout, true);
	jw_object_open(&w, NULL);
	jw_u64(&w, "schema", PI_JSON_SCHEMA);
	jw_string(&w, "source", pi_source_name(m->src->source));
	jw_array_open(&w, "runs");
	for (size_t i = 0; i < m->nruns; i++) {
		const struct map_run *run = &m->runs[i];
		char h[96];

		if (!run_shown(m, run))
			continue;
		jw_object_open(&w, NULL);
		jw_u64(&w, "pfn_start", run->pfn_start);
		jw_u64(&w, "pfn_end", run->pfn_end);
		jw_u64(&w, "pages", run->pfn_end - run->pfn_start);
		if (run->node >= 0)
			jw_i64(&w, "node", run->node);
		else
			jw_null(&w, "node");
		jw_string(&w, "zone", run->zone);
		if (run->block >= 0)
			jw_i64(&w, "memory_block", run->block);
		else
			jw_null(&w, "memory_block");
		jw_string_or_null(&w, "cma", run->cma ? run->cma->name : NULL);
		jw_u64(&w, "pins", run->pins);
		jw_bool(&w, "pin_exact", run->pin_exact);
		jw_string_or_null(&w, "kind", run->kind == KIND_UNKNOWN ? NULL :
				  pi_kind_name((enum pi_kind)run->kind));
		/* kept for readers of schema 1 before "kind": the kpagepin-ABI anon flag */
		jw_bool(&w, "anon", run->anon);
		/* AnonExclusive: a pinned anon page that is not is a COW hazard (fork) */
		if (run->anon)
			jw_bool(&w, "exclusive", run->exclusive);
		else
			jw_null(&w, "exclusive");
		jw_bool(&w, "large", run->large);
		jw_bool(&w, "orphaned", run->orphaned);
		jw_array_open(&w, "owners");
		for (size_t k = 0; k < run->own_n; k++) {
			const struct pi_pfn_owner *o = &m->rmap.owners[run->own_first + k];
			const struct pi_rmap_proc *p = &m->rmap.procs[o->proc];
			const char *df = m->extra ? dontfork_word(m, o->proc, o->addr,
				o->addr + (run->pfn_end - run->pfn_start) * PAGE_SZ) : NULL;

			jw_object_open(&w, NULL);
			jw_i64(&w, "pid", p->pid);
			jw_string(&w, "comm", p->comm);
			jw_hex(&w, "addr", o->addr);
			jw_string_or_null(&w, "dontfork", df);
			jw_object_close(&w);
		}
		jw_array_close(&w);
		holder_text(run, h, sizeof(h));
		jw_string_or_null(&w, "holder", run->holder_proc ? h : NULL);
		if (run->holder_proc) {
			jw_i64(&w, "holder_pid", run->holder_proc->pid);
			jw_string(&w, "holder_comm", run->holder_proc->comm);
		} else {
			jw_null(&w, "holder_pid");
		}
		if (run->orphaned) {
			jw_string_or_null(&w, "orphan_reason", run->orphan_why);
			/*
			 * pi_orphan_attribute matches page counts (run size against
			 * a buffer's unmapped pages or a VmPin excess), not PFNs:
			 * no interface says which PFNs a ring or MR still pins
			 */
			jw_string_or_null(&w, "attribution", run->holder_proc ? "by-size" : NULL);
		}
		jw_object_close(&w);
	}
	jw_array_close(&w);

	jw_object_open(&w, "summary");
	jw_u64(&w, "scanned_pfns", m->set.scanned);
	jw_u64(&w, "nopage_pfns", m->set.nopage);
	jw_u64(&w, "pinned_pages", m->set.n - m->released);
	jw_u64(&w, "released_during_scan", m->released);
	jw_u64(&w, "orphaned_pages", m->orphaned_pages);
	jw_u64(&w, "runs", m->nruns);
	jw_u64(&w, "pinned_in_movable_or_cma", m->movable_pages);
	jw_u64(&w, "pinned_not_exclusive", m->not_exclusive);
	jw_u64(&w, "refcount_bias_explained", m->set.maybe_explained);
	jw_u64(&w, "processes_gone", m->rmap.procs_gone);
	jw_object_close(&w);
	if (m->cli->verbose) {
		/* measurements: not reproducible, so only on request */
		jw_object_open(&w, "stats");
		jw_double(&w, "scan_seconds", m->scan_s);
		jw_double(&w, "rmap_seconds", m->rmap_s);
		jw_u64(&w, "pagemap_entries", m->rmap.pagemap_entries);
		jw_u64(&w, "rmap_bytes", m->rmap.bytes);
		jw_i64(&w, "maxrss_kib", maxrss_kib());
		jw_object_close(&w);
	}

	if (m->block) {
		size_t nr;
		uint64_t pinned = shown_pinned_in_block(m, &nr);
		int64_t ram = pi_layout_ram_pages(&m->layout, m->block->id * m->layout.block_pages,
						  (m->block->id + 1) * m->layout.block_pages);

		jw_object_open(&w, "offline");
		jw_u64(&w, "memory_block", m->block->id);
		jw_u64(&w, "pfn_start", m->block->id * m->layout.block_pages);
		jw_u64(&w, "pfn_end", (m->block->id + 1) * m->layout.block_pages);
		jw_string(&w, "state", m->block->state);
		jw_string(&w, "valid_zones", m->block->zones);
		if (m->block->removable_known)
			jw_bool(&w, "removable", m->block->removable);
		else
			jw_null(&w, "removable");
		jw_u64(&w, "pinned_pages", pinned);
		jw_u64(&w, "pinned_runs", nr);
		jw_bool(&w, "blocked_by_pins", pinned > 0);
		if (ram >= 0) {
			jw_u64(&w, "ram_pages", (uint64_t)ram);
			jw_bool(&w, "holes", (uint64_t)ram < m->layout.block_pages);
		} else {
			jw_null(&w, "ram_pages");
			jw_null(&w, "holes");
		}
		jw_string(&w, "note", OFFLINE_NOTE);
		jw_object_close(&w);
	}
	if (m->cli->cma) {
		jw_array_open(&w, "cma");
		for (size_t c = 0; c < m->layout.ncma; c++) {
			const struct pi_cma_area *a = &m->layout.cma[c];
			uint64_t pinned = 0;

			for (size_t i = 0; i < m->nruns; i++)
				if (m->runs[i].cma == a)
					pinned += m->runs[i].pfn_end - m->runs[i].pfn_start;
			jw_object_open(&w, NULL);
			jw_string(&w, "name", a->name);
			jw_u64(&w, "pfn_start", a->start);
			jw_u64(&w, "pfn_end", a->end);
			jw_u64(&w, "pinned_pages", pinned);
			jw_bool(&w, "blocked_by_pins", pinned > 0);
			jw_object_close(&w);
		}
		jw_array_close(&w);
	}

	jw_array_open(&w, "processes");
	for (size_t i = 0; m->extra && i < m->rmap.nprocs; i++)
		if (!m->cli->npids || pid_selected(m->cli, m->rmap.procs[i].pid))
			json_acct(&w, m, i);
	jw_array_close(&w);
	if (m->extra) {
		struct pi_accounting *acc = calloc(m->rmap.nprocs ? m->rmap.nprocs : 1, sizeof(*acc));

		for (size_t i = 0; acc && i < m->rmap.nprocs; i++)
			acc[i] = m->extra[i].acct;
		if (acc && pi_cgroup_sums(acc, m->rmap.nprocs, &cg, &ncg) == 0) {
			jw_array_open(&w, "cgroups");
			for (size_t i = 0; i < ncg; i++) {
				jw_object_open(&w, NULL);
				jw_string(&w, "cgroup", cg[i].path);
				jw_u64(&w, "processes", cg[i].procs);
				jw_u64(&w, "pinned_found", cg[i].pinned_found);
				jw_u64(&w, "vmpin_kib", cg[i].vmpin_kib);
				jw_u64(&w, "vmlck_kib", cg[i].vmlck_kib);
				jw_object_close(&w);
			}
			jw_array_close(&w);
		}
		free(acc);
		free(cg);
	}
	jw_object_close(&w);
	jw_end(&w);
}

/* ---------------------------------------------------------------- table */

static void kib_text(char *buf, size_t len, bool known, int64_t kib)
{
	if (!known)
		snprintf(buf, len, "-");
	else if (kib && kib % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRId64 "G", kib / (1024 * 1024));
	else if (kib && kib % 1024 == 0)
		snprintf(buf, len, "%" PRId64 "M", kib / 1024);
	else
		snprintf(buf, len, "%" PRId64 "K", kib);
}

/* accounting and fork safety per process: the reconciliation of issue 10 */
static void proc_table(struct map_ctx *m, size_t shown)
{
	static const char *names[] = { "PID", "COMM", "PINNED", "VMPIN", "VMLCK", "MEMLOCK",
				       "HEADROOM", "DONTFORK", "VMAS" };
	struct libscols_table *tb = scols_new_table();
	size_t lines = 0;

	if (!tb)
		return;
	scols_table_enable_raw(tb, m->cli->raw);
	for (size_t c = 0; c < ARRAY_SIZE(names); c++)
		if (!scols_table_new_column(tb, names[c], 5, c == 1 ? 0 : SCOLS_FL_RIGHT)) {
			scols_unref_table(tb);
			return;
		}
	for (size_t i = 0; i < m->rmap.nprocs; i++) {
		const struct pi_rmap_proc *p = &m->rmap.procs[i];
		const struct pi_accounting *a = &m->extra[i].acct;
		struct libscols_line *ln;
		uint64_t df = 0, pages = 0;
		char buf[64];

		if (m->cli->npids && !pid_selected(m->cli, p->pid))
			continue;
		ln = scols_table_new_line(tb, NULL);
		if (!ln)
			break;
		lines++;
		snprintf(buf, sizeof(buf), "%d", (int)p->pid);
		scols_line_set_data(ln, 0, buf);
		scols_line_set_data(ln, 1, p->comm);
		snprintf(buf, sizeof(buf), "%" PRIu64, p->pinned_mapped);
		scols_line_set_data(ln, 2, buf);
		kib_text(buf, sizeof(buf), a->has_vmpin, (int64_t)a->vmpin_kib);
		scols_line_set_data(ln, 3, buf);
		kib_text(buf, sizeof(buf), a->has_vmlck, (int64_t)a->vmlck_kib);
		scols_line_set_data(ln, 4, buf);
		if (a->memlock.known && a->memlock.soft_unlimited)
			snprintf(buf, sizeof(buf), "unlimited");
		else
			kib_text(buf, sizeof(buf), a->memlock.known, (int64_t)(a->memlock.soft / 1024));
		scols_line_set_data(ln, 5, buf);
		if (a->cap_ipc_lock)
			snprintf(buf, sizeof(buf), "exempt");	/* CAP_IPC_LOCK */
		else
			kib_text(buf, sizeof(buf), a->headroom_known, a->headroom_kib);
		scols_line_set_data(ln, 6, buf);
		/* DONTFORK coverage of its registered buffers */
		for (size_t k = 0; m->extra[i].smaps_ok && k < p->nholders; k++) {
			struct pi_fork_safety fs;

			pi_fork_safety(&m->extra[i].smaps, p->holders[k].h.start, p->holders[k].h.end,
				       m->max_map_count, &fs);
			df += fs.dontfork_pages;
			pages += fs.pages;
		}
		if (!m->extra[i].smaps_ok || !pages)
			snprintf(buf, sizeof(buf), "-");
		else
			snprintf(buf, sizeof(buf), "%s", df == pages ? "all" : df ? "partial" : "none");
		scols_line_set_data(ln, 7, buf);
		if (m->extra[i].smaps_ok && m->max_map_count)
			snprintf(buf, sizeof(buf), "%zu/%" PRIu64, m->extra[i].smaps.n, m->max_map_count);
		else if (m->extra[i].smaps_ok)
			snprintf(buf, sizeof(buf), "%zu", m->extra[i].smaps.n);
		else
			snprintf(buf, sizeof(buf), "-");
		scols_line_set_data(ln, 8, buf);
	}
	if (lines) {
		if (shown)
			putchar('\n');
		scols_print_table(tb);
	}
	scols_unref_table(tb);
}

enum { C_PFN_START, C_PFN_END, C_PAGES, C_NODE, C_ZONE, C_BLOCK, C_PINS, C_KIND, C_ORPHAN, C_OWNERS,
       C_HOLDER };

static int table_out(struct map_ctx *m)
{
	static const struct { const char *name; double whint; int flags; } cols[] = {
		[C_PFN_START] = { "PFN_START", 10, SCOLS_FL_RIGHT },
		[C_PFN_END] = { "PFN_END", 10, SCOLS_FL_RIGHT },
		[C_PAGES] = { "PAGES", 6, SCOLS_FL_RIGHT },
		[C_NODE] = { "NODE", 4, SCOLS_FL_RIGHT },
		[C_ZONE] = { "ZONE", 7, 0 },
		[C_BLOCK] = { "BLOCK", 5, SCOLS_FL_RIGHT },
		[C_PINS] = { "PINS", 5, SCOLS_FL_RIGHT },
		[C_KIND] = { "KIND", 5, 0 },
		[C_ORPHAN] = { "ORPHANED", 3, 0 },
		[C_OWNERS] = { "OWNERS", 30, SCOLS_FL_WRAP },
		[C_HOLDER] = { "HOLDER", 20, 0 },
	};
	struct libscols_table *tb = scols_new_table();
	size_t shown = 0;

	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, m->cli->raw);
	scols_table_enable_noheadings(tb, m->cli->noheadings);
	for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
		int fl = cols[c].flags;

		if (m->cli->raw)
			fl &= ~SCOLS_FL_WRAP;
		if (!scols_table_new_column(tb, cols[c].name, cols[c].whint, fl)) {
			scols_unref_table(tb);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < m->nruns; i++) {
		const struct map_run *run = &m->runs[i];
		struct libscols_line *ln;
		char buf[128];
		char *owners = NULL;
		size_t olen = 0;
		FILE *of;

		if (!run_shown(m, run))
			continue;
		ln = scols_table_new_line(tb, NULL);
		if (!ln)
			break;
		shown++;
		snprintf(buf, sizeof(buf), "%" PRIu64, run->pfn_start);
		scols_line_set_data(ln, C_PFN_START, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, run->pfn_end);
		scols_line_set_data(ln, C_PFN_END, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, run->pfn_end - run->pfn_start);
		scols_line_set_data(ln, C_PAGES, buf);
		if (run->node >= 0)
			snprintf(buf, sizeof(buf), "%d", run->node);
		else
			snprintf(buf, sizeof(buf), "-");
		scols_line_set_data(ln, C_NODE, buf);
		scols_line_set_data(ln, C_ZONE, run->zone);
		if (run->block >= 0)
			snprintf(buf, sizeof(buf), "%" PRId64, run->block);
		else
			snprintf(buf, sizeof(buf), "-");
		scols_line_set_data(ln, C_BLOCK, buf);
		snprintf(buf, sizeof(buf), "%s%" PRIu64, run->pin_exact ? "" : "~", run->pins);
		scols_line_set_data(ln, C_PINS, buf);
		scols_line_set_data(ln, C_KIND, run->kind == KIND_UNKNOWN ? "-" :
				    pi_kind_name((enum pi_kind)run->kind));
		scols_line_set_data(ln, C_ORPHAN, run->orphaned ? "yes" : "no");
		of = open_memstream(&owners, &olen);
		if (of) {
			for (size_t k = 0; k < run->own_n; k++) {
				const struct pi_pfn_owner *o = &m->rmap.owners[run->own_first + k];
				const struct pi_rmap_proc *p = &m->rmap.procs[o->proc];

				fprintf(of, "%s%d %s 0x%" PRIx64, k ? ", " : "", (int)p->pid, p->comm, o->addr);
			}
			if (!run->own_n)
				fputs("-", of);
			fclose(of);
			scols_line_set_data(ln, C_OWNERS, owners);
			free(owners);
		}
		if (run->holder_proc && run->orphaned)
			snprintf(buf, sizeof(buf), "%.40s (pid %d %.16s: %s)",
				 run->holder ? run->holder->h.desc : "VmPin", (int)run->holder_proc->pid,
				 run->holder_proc->comm, run->orphan_why ? run->orphan_why : "");
		else
			holder_text(run, buf, sizeof(buf));
		scols_line_set_data(ln, C_HOLDER, *buf ? buf : "-");
	}
	if (shown)
		scols_print_table(tb);
	scols_unref_table(tb);

	if (m->extra && m->rmap.nprocs && !m->cli->noheadings)
		proc_table(m, shown);
	printf("%s%" PRIu64 " pinned pages in %zu runs (%" PRIu64 " orphaned) among %" PRIu64
	       " PFNs scanned with %s\n", shown ? "\n" : "", (uint64_t)(m->set.n - m->released), m->nruns,
	       m->orphaned_pages, m->set.scanned, pi_source_name(m->src->source));
	if (m->cli->verbose)
		printf("scan %.3f s, reverse map %.3f s (%" PRIu64 " pagemap entries, %zu KiB), "
		       "max RSS %ld KiB\n", m->scan_s, m->rmap_s, m->rmap.pagemap_entries,
		       m->rmap.bytes / 1024, maxrss_kib());
	if (m->not_exclusive)
		printf("warning: %" PRIu64 " pinned anon pages mapped by processes are not "
		       "AnonExclusive: a COW fault can move the process off the page the device "
		       "uses\n", m->not_exclusive);
	for (size_t i = 0; m->extra && i < m->rmap.nprocs; i++) {
		const struct pi_rmap_proc *p = &m->rmap.procs[i];
		const struct pi_accounting *a = &m->extra[i].acct;

		if (m->cli->npids && !pid_selected(m->cli, p->pid))
			continue;
		/* registering more pins fails with ENOMEM past the limit */
		uint64_t t = pi_memlock_threshold_kib(a, m->cli->memlock_headroom_kib);

		if (pi_accounting_low_headroom(a, t))
		{
			char by[96] = "";

			if (a->headroom_by_user)
				snprintf(by, sizeof(by), " (uid %u: io_uring buffers of %" PRIu64
					 " process(es) %" PRIu64 " KiB)", (unsigned int)a->uid,
					 a->user_procs, a->user_iouring_kib);
			printf("warning: pid %d (%s): RLIMIT_MEMLOCK headroom %" PRId64 " KiB%s, under "
			       "%" PRIu64 " KiB (%s): further pinning fails with ENOMEM\n", (int)p->pid,
			       p->comm, a->headroom_kib, by, t, m->cli->memlock_headroom_kib >= 0 ?
			       "--memlock-headroom" : "10% of the limit, at most 1 MiB");
		}
		if (m->extra[i].smaps_ok && m->max_map_count &&
		    m->extra[i].smaps.n * 10 > m->max_map_count * 9)
			printf("warning: pid %d (%s): %zu VMAs of vm.max_map_count %" PRIu64
			       " (MADV_DONTFORK splits VMAs)\n", (int)p->pid, p->comm,
			       m->extra[i].smaps.n, m->max_map_count);
	}
	if (m->movable_pages)
		printf("warning: %" PRIu64 " pinned pages in ZONE_MOVABLE or CMA: long-term pins "
		       "are migrated out first, so these block offlining and CMA until released\n",
		       m->movable_pages);
	if (m->block) {
		size_t nr;
		uint64_t pinned = shown_pinned_in_block(m, &nr);
		int64_t ram = pi_layout_ram_pages(&m->layout, m->block->id * m->layout.block_pages,
						  (m->block->id + 1) * m->layout.block_pages);

		printf("memory block %" PRIu64 " (PFN %" PRIu64 "-%" PRIu64 ", %s, zones %s): ",
		       m->block->id, m->block->id * m->layout.block_pages,
		       (m->block->id + 1) * m->layout.block_pages, m->block->state,
		       m->block->zones[0] ? m->block->zones : "?");
		if (pinned)
			printf("offlining is BLOCKED by %" PRIu64 " pinned pages in %zu runs\n", pinned, nr);
		else
			printf("not blocked by pins\n");
		if (ram >= 0 && (uint64_t)ram < m->layout.block_pages)
			printf("the block has %" PRIu64 " PFNs that are not System RAM (/proc/iomem): "
			       "the kernel refuses to offline a block with holes (EINVAL)\n",
			       m->layout.block_pages - (uint64_t)ram);
		printf("note: %s\n", OFFLINE_NOTE);
	}
	if (m->cli->cma)
		for (size_t c = 0; c < m->layout.ncma; c++) {
			uint64_t pinned = 0;

			for (size_t i = 0; i < m->nruns; i++)
				if (m->runs[i].cma == &m->layout.cma[c])
					pinned += m->runs[i].pfn_end - m->runs[i].pfn_start;
			printf("CMA area %s (PFN %" PRIu64 "-%" PRIu64 "): %s", m->layout.cma[c].name,
			       m->layout.cma[c].start, m->layout.cma[c].end,
			       pinned ? "BLOCKED for contiguous allocations (alloc_contig_range) by " :
					"not blocked by pins\n");
			if (pinned)
				printf("%" PRIu64 " pinned pages\n", pinned);
		}
	return 0;
}

/* ---------------------------------------------------------------- Prometheus */

static void prom_head(const char *name, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_proc(const struct map_ctx *m, const char *name, const char *help, int which)
{
	prom_head(name, help);
	for (size_t i = 0; i < m->rmap.nprocs; i++) {
		const struct pi_rmap_proc *p = &m->rmap.procs[i];
		const struct pi_accounting *a = &m->extra[i].acct;
		char *comm, *cg;
		double v;

		switch (which) {
		case 0: v = (double)p->pinned_mapped; break;
		case 1: if (!a->has_vmpin) continue; v = (double)a->vmpin_kib * 1024; break;
		case 2: if (!a->has_vmlck) continue; v = (double)a->vmlck_kib * 1024; break;
		case 3: if (!a->headroom_known) continue; v = (double)a->memlock.soft; break;
		case 5: if (!a->user_known) continue; v = (double)a->user_iouring_kib * 1024; break;
		case 6: if (!a->headroom_known) continue; v = a->headroom_by_user; break;
		default: if (!a->headroom_known) continue; v = (double)a->headroom_kib * 1024; break;
		}
		if (m->cli->npids && !pid_selected(m->cli, p->pid))
			continue;
		comm = pi_escape_prom_label(p->comm);
		cg = pi_escape_prom_label(a->cgroup);
		if (comm && cg)
			printf("%s{pid=\"%d\",comm=\"%s\",cgroup=\"%s\"} %.0f\n", name, (int)p->pid,
			       comm, cg, v);
		free(comm);
		free(cg);
	}
}

static void prom_out(struct map_ctx *m)
{
	char *src = pi_escape_prom_label(pi_source_name(m->src->source));
	struct pi_accounting *acc;
	struct pi_cgroup_sum *cg = NULL;
	size_t ncg = 0;

	prom_head("pininspect_map_pinned_pages", "pinned pages found by the PFN scan");
	printf("pininspect_map_pinned_pages{source=\"%s\"} %" PRIu64 "\n", src ? src : "",
	       (uint64_t)(m->set.n - m->released));
	free(src);
	prom_head("pininspect_map_orphaned_pages", "pinned pages mapped by no process");
	printf("pininspect_map_orphaned_pages %" PRIu64 "\n", m->orphaned_pages);
	prom_head("pininspect_map_pinned_movable_pages", "pinned pages in ZONE_MOVABLE or CMA");
	printf("pininspect_map_pinned_movable_pages %" PRIu64 "\n", m->movable_pages);
	prom_head("pininspect_map_scanned_pfns", "PFNs read from the pin source");
	printf("pininspect_map_scanned_pfns %" PRIu64 "\n", m->set.scanned);
	prom_head("pininspect_map_scan_seconds", "time of the PFN scan");
	printf("pininspect_map_scan_seconds %.6f\n", m->scan_s);
	prom_head("pininspect_map_rmap_seconds", "time of the reverse map (pagemaps of all processes)");
	printf("pininspect_map_rmap_seconds %.6f\n", m->rmap_s);
	prom_head("pininspect_map_block_pinned_pages", "pinned pages per memory block (blocks with pins)");
	for (size_t i = 0; i < m->nruns;) {
		int64_t b = m->runs[i].block;
		uint64_t n = 0;

		while (i < m->nruns && m->runs[i].block == b) {
			n += m->runs[i].pfn_end - m->runs[i].pfn_start;
			i++;
		}
		if (b >= 0)
			printf("pininspect_map_block_pinned_pages{block=\"%" PRId64 "\"} %" PRIu64 "\n", b, n);
	}
	if (!m->extra)
		return;
	prom_proc(m, "pininspect_pin_process_pinned_pages", "pinned pages the process maps", 0);
	prom_proc(m, "pininspect_pin_process_vmpin_bytes", "VmPin (pinned_vm: io_uring, RDMA)", 1);
	prom_proc(m, "pininspect_pin_process_vmlck_bytes", "VmLck (locked_vm: mlock, VFIO)", 2);
	prom_proc(m, "pininspect_pin_process_memlock_limit_bytes", "RLIMIT_MEMLOCK soft limit", 3);
	prom_proc(m, "pininspect_pin_process_memlock_headroom_bytes",
		  "RLIMIT_MEMLOCK minus the larger of VmPin and VmLck, or minus the io_uring "
		  "buffers of the process's uid when that is less", 4);
	prom_proc(m, "pininspect_pin_process_memlock_headroom_by_user",
		  "1 when the uid's io_uring buffers bind the headroom, 0 when the process's VmPin/VmLck", 6);
	prom_proc(m, "pininspect_pin_process_user_iouring_bytes",
		  "io_uring registered buffers of all processes of the process's uid (without CAP_IPC_LOCK)", 5);
	acc = calloc(m->rmap.nprocs ? m->rmap.nprocs : 1, sizeof(*acc));
	for (size_t i = 0; acc && i < m->rmap.nprocs; i++)
		acc[i] = m->extra[i].acct;
	if (acc && pi_cgroup_sums(acc, m->rmap.nprocs, &cg, &ncg) == 0) {
		prom_head("pininspect_pin_cgroup_pinned_pages", "pinned pages mapped by the cgroup's processes");
		for (size_t i = 0; i < ncg; i++) {
			char *l = pi_escape_prom_label(cg[i].path);

			if (l)
				printf("pininspect_pin_cgroup_pinned_pages{cgroup=\"%s\"} %" PRIu64 "\n", l,
				       cg[i].pinned_found);
			free(l);
		}
		prom_head("pininspect_pin_cgroup_vmpin_bytes", "sum of VmPin in the cgroup");
		for (size_t i = 0; i < ncg; i++) {
			char *l = pi_escape_prom_label(cg[i].path);

			if (l)
				printf("pininspect_pin_cgroup_vmpin_bytes{cgroup=\"%s\"} %" PRIu64 "\n", l,
				       cg[i].vmpin_kib * 1024);
			free(l);
		}
		prom_head("pininspect_pin_cgroup_vmlck_bytes", "sum of VmLck in the cgroup");
		for (size_t i = 0; i < ncg; i++) {
			char *l = pi_escape_prom_label(cg[i].path);

			if (l)
				printf("pininspect_pin_cgroup_vmlck_bytes{cgroup=\"%s\"} %" PRIu64 "\n", l,
				       cg[i].vmlck_kib * 1024);
			free(l);
		}
	}
	free(acc);
	free(cg);
	fflush(stdout);
}

/* ---------------------------------------------------------------- entry */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int pi_map_run(const struct pi_cli *cli, struct pi_sources *src)
{
	struct map_ctx m = { .cli = cli, .src = src };
	pid_t *pids = NULL;
	size_t npids = 0, pids_cap = 0;
	bool bad_pid = cli->bad_pid_arg;
	double t;
	int rc = PI_EXIT_OK, r;

	enum { OUT_TABLE, OUT_JSON, OUT_PROM } fmt = cli->json ? OUT_JSON : OUT_TABLE;

	if (cli->format && !cli->json) {
		if (strcmp(cli->format, "json") == 0)
			fmt = OUT_JSON;
		else if (strcmp(cli->format, "prometheus") == 0)
			fmt = OUT_PROM;
		else if (strcmp(cli->format, "table") != 0) {
			pi_warn("--format: '%s' is not table, json or prometheus", cli->format);
			return PI_EXIT_USAGE;
		}
	}
	if (!src->pinsrc) {
		const char *d = src->degraded, *why = strstr(d, "no exact pin source (");
		const char *end = why ? strstr(why, "): ") : NULL;

		if (!src->pfn_visible)
			pi_warn("--map needs an exact pin source (kpagepin or bpf), and those need "
				"CAP_SYS_ADMIN (they are indexed by PFN)");
		else if (why && end)
			pi_warn("--map needs an exact pin source (kpagepin or bpf): %.*s",
				(int)(end - why - 21), why + 21);
		else if (cli->source_forced)
			pi_warn("--map needs an exact pin source (kpagepin or bpf), not --source=%s",
				pi_source_name(cli->source));
		else
			pi_warn("--map needs an exact pin source (kpagepin or bpf)");
		return PI_EXIT_TROUBLE;
	}
	/* PIDs filter the runs shown; one that does not exist is trouble (DESIGN section 8) */
	for (size_t i = 0; i < cli->npids; i++) {
		char path[32];

		snprintf(path, sizeof(path), "proc/%d", (int)cli->pids[i]);
		if (pi_root_access(path) < 0) {
			pi_warn("pid %d: no such process", (int)cli->pids[i]);
			bad_pid = true;
		}
	}
	r = pi_layout_read(&m.layout);
	if (r < 0) {
		pi_errno(r, "cannot read the physical layout (/proc/zoneinfo, /sys/devices/system/memory)");
		return PI_EXIT_TROUBLE;
	}
	rc = select_ranges(&m);
	if (rc)
		goto out;

	bound_by_source_file(&m);
	t = now_s();
	r = pi_pinmap_scan(src->pinsrc, &m.ranges, 0, &m.set);
	m.scan_s = now_s() - t;
	if (r < 0) {
		pi_errno(r, "%s: reading PFNs failed", pi_source_name(src->source));
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	filter_zone(&m);

	r = pi_procsel_all(&pids, &npids, &pids_cap);
	if (r < 0) {
		pi_errno(r, "cannot list processes");
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	/* pid order, whatever order the process walk gave: stable output */
	qsort(pids, npids, sizeof(*pids), cmp_pid);
	t = now_s();
	r = pi_rmap_build(&m.set, &m.ranges, pids, npids, &m.rmap);
	m.rmap_s = now_s() - t;
	if (r < 0) {
		pi_errno(r, "reverse map");
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	if (m.rmap.pfns_hidden)
		pi_warn("some pagemaps show PFN 0: not privileged to see PFNs (CAP_SYS_ADMIN); "
			"their pages look orphaned");
	r = recheck_orphans(&m);
	if (r < 0) {
		pi_errno(r, "%s: reading PFNs failed", pi_source_name(src->source));
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	r = read_kinds(&m);
	if (r >= 0)
		r = build_runs(&m);
	if (r < 0) {
		pi_errno(r, "--map");
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	extras_read(&m);
	if (fmt == OUT_JSON)
		json_out(&m);
	else if (fmt == OUT_PROM)
		prom_out(&m);
	else if (table_out(&m) < 0)
		rc = PI_EXIT_TROUBLE;
	if (bad_pid)
		rc = PI_EXIT_TROUBLE;
out:
	extras_free(&m);
	free(m.gone);
	free(m.kinds);
	free(m.runs);
	free(pids);
	pi_rmap_free(&m.rmap);
	pi_pinned_set_free(&m.set);
	pi_pfn_ranges_free(&m.ranges);
	pi_layout_free(&m.layout);
	return rc;
}
