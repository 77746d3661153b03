// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit mode (issue 5): run the named checks of src/lib/audit.c over
 * processes and print findings as a table, the JSON document of DESIGN
 * section 9, or node_exporter textfile metrics. Findings are few, so they
 * are collected first and printed at the end: Prometheus wants each metric
 * family in one block, and --output-file is written in one go.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libsmartcols.h>
#include "pininspect.h"
#include "pininspect/root.h"
#include "jsonwrt.h"
#include "pininspect/audit.h"
#include "pininspect/accounting.h"
#include "pininspect/pinmap.h"
#include "pininspect/util.h"
#include "bpf/pinsrc-bpf.h"

enum audit_format { FMT_TABLE, FMT_JSON, FMT_PROM };

struct audit_proc {
	pid_t pid;
	char comm[64];
	bool has_vmpin;
	uint64_t vmpin_kib;
	struct pi_summary sum;
	uint64_t held;
	bool gone;		/* exited during the audit */
	bool acct_ok;		/* accounting below read */
	struct pi_accounting acct;
	uint64_t vfio_pages;
};

#define NO_PROC SIZE_MAX

struct audit_finding {
	size_t proc;		/* index in procs, NO_PROC: a system-wide finding */
	pid_t pid;		/* system-wide: the attributed holder's pid, 0 none */
	char comm[64];		/* system-wide: its comm, "" none */
	struct pi_finding f;
};

struct audit {
	const struct pi_cli *cli;
	struct pi_sources *src;
	enum audit_format fmt;
	enum pi_severity fail_on;
	struct pi_audit_caps caps;
	bool run[PI_CHK__MAX];			/* selected and runnable */
	const char *skip_reason[PI_CHK__MAX];	/* selected, cannot run here */
	uint64_t count[PI_CHK__MAX];
	struct audit_proc *procs;
	size_t nprocs, procs_cap;
	struct audit_finding *finds;
	size_t nfinds, finds_cap;
	size_t candidates;		/* processes looked at */
	size_t no_pins;			/* --all: skipped by the pre-filter */
	size_t unreadable;		/* --all: could not tell (no privilege) */
	size_t ngone;
	bool trouble;
	struct timespec t0;
	double duration;
	/* physical layout, read once (longterm-pin-in-movable, system-wide scan) */
	struct pi_layout layout;
	bool layout_ok;
	uint64_t max_map_count;
	/* --all with an exact source: one system-wide pin scan */
	bool sys_scan;			/* it ran */
	const char *sys_skip;		/* why it did not, NULL when it ran or was not wanted */
	pid_t *pinned_pids;		/* sorted: processes mapping a pinned page */
	size_t npinned_pids;
	size_t by_scan;			/* audited only because the scan saw their pins */
	uint64_t sys_pinned, sys_orphaned;
	double sys_seconds;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --list-checks -J: {"schema": 1, "checks": [{"id", "severity", "needs": [...], ...}]} */
static int list_checks_json(FILE *out)
{
	struct jsonwrt w;

	jw_init(&w, out, true);
	jw_object_open(&w, NULL);
	jw_u64(&w, "schema", 1);
	jw_array_open(&w, "checks");
	for (int i = 0; i < PI_CHK__MAX; i++) {
		const struct pi_check_info *ci = pi_check_info(i);
		char needs[64];

		jw_object_open(&w, NULL);
		jw_string(&w, "id", ci->id);
		jw_string(&w, "severity", pi_severity_name(ci->severity));
		pi_check_needs_string(ci->needs, needs, sizeof(needs));
		jw_array_open(&w, "needs");
		if (strcmp(needs, "-") != 0)
			for (char *save = NULL, *t = strtok_r(needs, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				jw_string(&w, NULL, t);
		jw_array_close(&w);
		jw_string(&w, "description", ci->description);
		jw_string_or_null(&w, "hint", ci->hint);
		jw_object_close(&w);
	}
	jw_array_close(&w);
	jw_object_close(&w);
	jw_end(&w);
	return ferror(out) ? -EIO : 0;
}

int pi_audit_list_checks(const struct pi_cli *cli, FILE *out)
{
	struct libscols_table *tb;
	int r = -ENOMEM;

	if (cli->json)
		return list_checks_json(out);
	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	scols_table_set_stream(tb, out);
	scols_table_enable_raw(tb, cli->raw);
	scols_table_enable_noheadings(tb, cli->noheadings);
	if (!scols_table_new_column(tb, "ID", 20, 0) ||
	    !scols_table_new_column(tb, "SEVERITY", 8, 0) ||
	    !scols_table_new_column(tb, "NEEDS", 10, 0) ||
	    !scols_table_new_column(tb, "DESCRIPTION", 40, 0) ||
	    !scols_table_new_column(tb, "HINT", 40, 0))
		goto out;
	for (int i = 0; i < PI_CHK__MAX; i++) {
		const struct pi_check_info *ci = pi_check_info(i);
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char needs[64];

		if (!ln)
			goto out;
		pi_check_needs_string(ci->needs, needs, sizeof(needs));
		if (scols_line_set_data(ln, 0, ci->id) || scols_line_set_data(ln, 1,
		    pi_severity_name(ci->severity)) || scols_line_set_data(ln, 2, needs) ||
		    scols_line_set_data(ln, 3, ci->description) ||
		    scols_line_set_data(ln, 4, ci->hint ? ci->hint : "-"))
			goto out;
	}
	r = scols_print_table(tb) ? -EIO : 0;
out:
	scols_unref_table(tb);
	return r;
}

/* ---- selection and process walk ---- */

static int audit_setup(struct audit *au)
{
	const struct pi_cli *cli = au->cli;
	struct pi_audit_caps *caps = &au->caps;
	bool sel[PI_CHK__MAX];
	const char *bad = NULL;
	size_t badlen = 0;

	if (pi_checks_select(cli->checks, cli->skips, sel, &bad, &badlen) < 0) {
		pi_warn("unknown check '%.*s' (see --list-checks)", (int)badlen, bad);
		return -EINVAL;
	}
	au->fail_on = PI_SEV_WARNING;
	if (cli->fail_on && pi_severity_from_name(cli->fail_on, &au->fail_on) < 0) {
		pi_warn("--fail-on: '%s' is not a severity (error, warning, info)", cli->fail_on);
		return -EINVAL;
	}
	au->fmt = cli->json ? FMT_JSON : FMT_TABLE;
	if (cli->format) {
		if (strcmp(cli->format, "table") == 0 && !cli->json)
			au->fmt = FMT_TABLE;
		else if (strcmp(cli->format, "json") == 0)
			au->fmt = FMT_JSON;
		else if (strcmp(cli->format, "prometheus") == 0 && !cli->json)
			au->fmt = FMT_PROM;
		else {
			pi_warn("--format: '%s' is not table, json or prometheus%s", cli->format,
				cli->json ? " (or conflicts with -J)" : "");
			return -EINVAL;
		}
	}
	caps->source = au->src->source;
	caps->exclusive_known = au->src->kpageflags || au->src->pinsrc;
	caps->longterm_known = pi_sources_longterm_known(au->src);
	caps->pfn_visible = au->src->pfn_visible;
	if (sel[PI_CHK_LONGTERM_IN_MOVABLE] || cli->all) {
		au->layout_ok = pi_layout_read(&au->layout) == 0 &&
			(au->layout.nzones || au->layout.nblocks);
		caps->layout_known = au->layout_ok;
	}
	(void)pi_max_map_count_read(&au->max_map_count);
	for (int i = 0; i < PI_CHK__MAX; i++) {
		if (!sel[i])
			continue;
		au->skip_reason[i] = pi_check_unmet(i, caps);
		au->run[i] = !au->skip_reason[i];
	}
	return 0;
}

/*
 * --all pre-filter: status (VmPin) and fd links only, fdinfo only for
 * io_uring fds. 1: can hold pins, 0: cannot, -errno: cannot tell.
 */
static int can_hold_pins(pid_t pid)
{
	struct pi_holder_list hl;
	struct pi_status st;
	int r;

	r = pi_status_read(pid, &st);
	if (r < 0)
		return r;
	if (st.has_vmpin && st.vmpin_kib > 0)
		return 1;
	r = pi_holders_read(pid, &hl);
	if (r == 0)
		r = hl.n > 0 || hl.rings_unreadable > 0;
	pi_holder_list_free(&hl);
	return r;
}

/*
 * After a failed scan: did the process exit? An exiting process keeps its
 * status file for a while after its mm is gone, and then pagemap reads
 * end early and maps is empty; a reused PID has another start time.
 */
static bool proc_gone(const struct pi_proc *p)
{
	struct pi_vma_list vmas = { 0 };
	struct pi_status st;
	uint64_t start;
	size_t line = 0, n;
	int r;

	r = pi_status_read(p->pid, &st);
	if (r == -ENOENT || r == -ESRCH)
		return true;
	if (p->has_starttime) {
		r = pi_stat_starttime(p->pid, &start);
		if (r == -ENOENT || r == -ESRCH || (r == 0 && start != p->starttime))
			return true;
	}
	r = pi_maps_read(p->pid, &vmas, &line);
	n = vmas.n;
	pi_vma_list_free(&vmas);
	if (r == -ENOENT || r == -ESRCH)
		return true;
	return r == 0 && n == 0;
}

static struct audit_proc *add_proc(struct audit *au, const struct pi_proc *p)
{
	struct audit_proc *ap;

	if (pi_grow((void **)&au->procs, &au->procs_cap, au->nprocs + 1, sizeof(*au->procs)) < 0)
		return NULL;
	ap = &au->procs[au->nprocs++];
	memset(ap, 0, sizeof(*ap));
	ap->pid = p->pid;
	snprintf(ap->comm, sizeof(ap->comm), "%s", p->status.name);
	ap->has_vmpin = p->status.has_vmpin;
	ap->vmpin_kib = p->status.vmpin_kib;
	return ap;
}

static int open_error(struct audit *au, pid_t pid, int r, size_t bad_line)
{
	pi_warn_proc_error(pid, r, bad_line);
	au->trouble = true;
	return r;
}

/*
 * PIDs listed by --all or -C may exit before we read them: that is life,
 * not trouble. Only a PID the user typed must exist.
 */
static bool pids_typed(const struct pi_cli *cli)
{
	return !cli->all && !cli->ncommands;
}

/* a process that vanished: reported as gone; only an error if it was typed */
static int mark_gone(struct audit *au, const struct pi_proc *p, struct audit_proc *ap)
{
	if (pids_typed(au->cli)) {
		pi_warn("pid %d: process exited during the audit", (int)p->pid);
		au->trouble = true;
	}
	if (!ap)
		ap = add_proc(au, p);
	if (!ap)
		return -ENOMEM;
	ap->gone = true;
	au->ngone++;
	return 0;
}

static int audit_one(struct audit *au, pid_t pid)
{
	struct pi_scan_ctx ctx = {
		.source = au->src->source,
		.pinsrc = au->src->pinsrc,
		/* an exact source tells exclusivity itself: skip the costly kpageflags */
		.kpageflags = pi_source_is_exact(au->src->source) ? NULL : au->src->kpageflags,
		.anon_only = true,
		.use_pagemap_scan = !au->cli->no_pagemap_scan,
	};
	struct pi_audit_proc a;
	struct audit_proc *ap;
	struct pi_proc p;
	struct pi_smaps smaps = { 0 };
	struct pi_accounting acct;
	bool acct_ok = false;
	size_t bad_line = 0, pidx;
	int r;

	r = pi_proc_open(pid, &p, &bad_line);
	if (r < 0) {
		struct pi_proc gone = { .pid = pid };

		/* an exiting process can fail in odd ways: ask again before blaming */
		if (!pids_typed(au->cli) && (r == -ENOENT || r == -ESRCH || proc_gone(&gone))) {
			(void)pi_status_read(pid, &gone.status);	/* its name, if still there */
			return mark_gone(au, &gone, NULL);
		}
		return open_error(au, pid, r, bad_line);
	}
	if (p.holders.rings_unreadable)
		pi_warn("pid %d: %u io_uring ring(s) did not list their buffers "
			"(busy ring or unknown fdinfo format)", (int)p.pid,
			p.holders.rings_unreadable);

	pi_audit_proc_init(&a, &p, au->run, &au->caps);
	a.layout = au->layout_ok ? &au->layout : NULL;
	a.max_map_count = au->max_map_count;
	a.fork_shares_pinned = pi_release_fork_shares_pinned(au->src->probe.release);
	a.memlock_threshold_kib = au->cli->memlock_headroom_kib;
	/* no smaps (a fixture tree without it, a kernel thread): no fork findings */
	if (au->run[PI_CHK_FORK_UNSAFE] && pi_smaps_read(pid, &smaps) == 0)
		a.smaps = &smaps;
	r = pi_scan_proc(&p, &ctx, pi_audit_page, &a);
	if (r == 0) {
		/* found pages, not VFIO's: what VmPin should account for */
		acct_ok = pi_accounting_read(pid, a.held - a.vfio_pages, &acct) == 0;
		if (acct_ok) {
			acct.iouring_kib = pi_iouring_charge_kib(pi_iouring_holders_kib(&p.holders),
								 acct.has_vmpin, acct.vmpin_kib,
								 (unsigned int)p.rdma.n);
			a.acct = &acct;
		}
		r = pi_audit_proc_finish(&a);
	}
	ap = add_proc(au, &p);
	if (!ap) {
		r = -ENOMEM;
		goto out;
	}
	pidx = (size_t)(ap - au->procs);
	if (r < 0 && proc_gone(&p)) {
		/* findings of a half-scanned process that is gone mean nothing */
		r = mark_gone(au, &p, ap);
		goto out;
	}
	if (r == -ENODATA || r == -ESRCH) {
		/* on the host a pagemap read ends early only when the mm went away */
		if (pi_root_is_host())
			pi_warn("pid %d: process exec'd during the scan", (int)pid);
		else
			pi_warn("pid %d: pagemap ends before its VMAs do (truncated file)", (int)pid);
		au->trouble = true;
		r = 0;
		goto out;
	}
	if (r < 0) {
		pi_errno(r, "pid %d: scan failed", (int)pid);
		au->trouble = true;
		r = 0;
		goto out;
	}
	ap->sum = a.sum;
	ap->held = a.held;
	ap->vfio_pages = a.vfio_pages;
	ap->acct_ok = acct_ok;
	if (acct_ok)
		ap->acct = acct;
	for (size_t i = 0; i < a.n; i++) {
		struct audit_finding *af;

		if (pi_grow((void **)&au->finds, &au->finds_cap, au->nfinds + 1,
			    sizeof(*au->finds)) < 0) {
			r = -ENOMEM;
			goto out;
		}
		af = &au->finds[au->nfinds++];
		memset(af, 0, sizeof(*af));
		af->proc = pidx;
		af->pid = ap->pid;
		af->f = a.f[i];
		au->count[a.f[i].check]++;
	}
out:
	pi_smaps_free(&smaps);
	pi_audit_proc_free(&a);
	pi_proc_close(&p);
	return r;
}

/* ---- --all with an exact source: one pass over the PFN space ---- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static bool pid_pinned(const struct audit *au, pid_t pid)
{
	return au->npinned_pids &&
	       bsearch(&pid, au->pinned_pids, au->npinned_pids, sizeof(pid_t), cmp_pid);
}

static int add_sys_finding(struct audit *au, uint64_t pfn_start, uint64_t pfn_end,
			   const struct pi_orphan_attr *at)
{
	struct audit_finding *af;
	struct pi_finding f;

	/* one finding per holder: pages of a buffer are scattered over PFNs */
	pi_orphan_finding(&f, pfn_start, pfn_end, at);
	for (size_t i = 0; i < au->nfinds; i++) {
		af = &au->finds[i];
		if (af->proc == NO_PROC && af->pid == (at->proc ? at->proc->pid : 0) &&
		    strcmp(af->f.holder, f.holder) == 0 && strcmp(af->f.detail, f.detail) == 0) {
			af->f.pages += f.pages;
			af->f.pfn_runs++;
			return 0;
		}
	}
	if (pi_grow((void **)&au->finds, &au->finds_cap, au->nfinds + 1, sizeof(*au->finds)) < 0)
		return -ENOMEM;
	af = &au->finds[au->nfinds++];
	memset(af, 0, sizeof(*af));
	af->proc = NO_PROC;
	if (at->proc) {
		af->pid = at->proc->pid;
		snprintf(af->comm, sizeof(af->comm), "%s", at->proc->comm);
	}
	af->f = f;
	au->count[PI_CHK_ORPHANED_PIN]++;
	return 0;
}

/*
 * Pinned pages that no process maps, with the holder they are attributed
 * to (the way --map does it). The PFN scan comes before the process walk:
 * a pin released in between would look orphaned, so the PFNs nobody maps
 * are read again, letting the ring teardown of processes that just exited
 * settle (pi_orphan_pfns_read), and those no longer pinned are dropped.
 */
static int sys_orphans(struct audit *au, const struct pi_pinned_set *set, const struct pi_rmap *rm)
{
	struct pi_orphan_pfns o;
	struct pi_orphan_ctx oc;
	int r;

	r = pi_orphan_pfns_read(au->src->pinsrc, set, rm, pi_procsel_all, &o);
	if (r < 0)
		return r;
	r = pi_orphan_ctx_init(rm, &oc);
	if (r < 0)
		goto out;
	for (size_t j = 0; j < o.n && r == 0;) {
		size_t e = j + 1;
		struct pi_orphan_attr at;

		if (!pi_pin_entry_pinned(o.ent[j])) {
			j++;
			continue;
		}
		while (e < o.n && o.pfn[e] == o.pfn[e - 1] + 1 && o.idx[e] == o.idx[e - 1] + 1 &&
		       pi_pin_entry_pinned(o.ent[e]))
			e++;
		au->sys_orphaned += e - j;
		pi_orphan_attribute(rm, &oc, e - j, &at);
		r = add_sys_finding(au, o.pfn[j], o.pfn[e - 1] + 1, &at);
		j = e;
	}
	pi_orphan_ctx_free(&oc);
out:
	pi_orphan_pfns_free(&o);
	return r;
}

static int sys_scan(struct audit *au)
{
	const struct pi_cli *cli = au->cli;
	struct pi_pfn_ranges ranges = { 0 };
	struct pi_pinned_set set = { 0 };
	struct pi_rmap rm = { 0 };
	pid_t *pids = NULL;
	struct timespec t0;
	int r;

	if (!cli->all)
		return 0;
	if (!pi_source_is_exact(au->src->source) || !au->src->pinsrc) {
		au->sys_skip = "needs an exact pin source (kpagepin or bpf)";
		return 0;
	}
	if (!au->src->pfn_visible) {
		au->sys_skip = "needs PFNs from pagemap (CAP_SYS_ADMIN)";
		return 0;
	}
	if (!au->layout_ok) {
		au->sys_skip = "needs the physical layout (/proc/zoneinfo or /sys/devices/system/memory)";
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pi_layout_all(&au->layout, &ranges);
	if (r == 0)
		r = pi_pinmap_scan(au->src->pinsrc, &ranges, 0, &set);
	if (r < 0) {
		pi_errno(r, "%s: system-wide pin scan failed", pi_source_name(au->src->source));
		au->sys_skip = "the PFN scan failed";
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	pids = malloc((cli->npids ? cli->npids : 1) * sizeof(*pids));
	if (!pids) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(pids, cli->pids, cli->npids * sizeof(*pids));
	qsort(pids, cli->npids, sizeof(*pids), cmp_pid);
	r = pi_rmap_build(&set, &ranges, pids, cli->npids, &rm);
	if (r < 0) {
		pi_errno(r, "system-wide pin scan: reverse map");
		au->sys_skip = "the reverse map failed";
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	au->sys_scan = true;
	au->sys_pinned = set.n;
	/* the processes mapping a pinned page, VmPin or not */
	for (size_t i = 0; i < rm.nprocs; i++)
		if (rm.procs[i].pinned_mapped)
			pids[au->npinned_pids++] = rm.procs[i].pid;
	qsort(pids, au->npinned_pids, sizeof(*pids), cmp_pid);
	au->pinned_pids = pids;
	pids = NULL;
	if (au->run[PI_CHK_ORPHANED_PIN])
		r = sys_orphans(au, &set, &rm);
	au->sys_seconds = elapsed(&t0);
out:
	free(pids);
	pi_rmap_free(&rm);
	pi_pinned_set_free(&set);
	pi_pfn_ranges_free(&ranges);
	return r;
}

/*
 * A system-wide orphan attributed to a buffer that the process's own
 * orphaned-pin finding names already: one finding, with the PFNs added.
 */
static void fold_sys_orphans(struct audit *au)
{
	size_t out = 0;

	for (size_t i = 0; i < au->nfinds; i++) {
		struct audit_finding *sf = &au->finds[i];
		bool folded = false;

		if (sf->proc == NO_PROC && sf->pid) {
			for (size_t k = 0; k < au->nfinds && !folded; k++) {
				struct audit_finding *pf = &au->finds[k];

				if (pf->proc == NO_PROC || pf->f.check != PI_CHK_ORPHANED_PIN ||
				    pf->f.has_pfn || au->procs[pf->proc].pid != sf->pid ||
				    strcmp(pf->f.holder, sf->f.holder) != 0)
					continue;
				pf->f.has_pfn = true;
				pf->f.pfn_start = sf->f.pfn_start;
				pf->f.pfn_end = sf->f.pfn_end;
				pf->f.pfn_runs = sf->f.pfn_runs;
				snprintf(pf->f.detail, sizeof(pf->f.detail), "%s", sf->f.detail);
				folded = true;
			}
		}
		if (folded) {
			au->count[PI_CHK_ORPHANED_PIN]--;
			continue;
		}
		au->finds[out++] = *sf;
	}
	au->nfinds = out;
}

/*
 * io_uring charges the user (uid), not the process: once every process is
 * audited, sum their io_uring buffers per uid, and where the user's sum
 * leaves less headroom than the process's own counters, the memlock-headroom
 * finding follows it (updated, or added after the process's findings).
 */
static bool audited_pid(const struct audit *au, pid_t pid)
{
	for (size_t i = 0; i < au->nprocs; i++)
		if (au->procs[i].pid == pid)
			return true;
	return false;
}

static bool uid_audited(const struct audit *au, uid_t uid)
{
	for (size_t i = 0; i < au->nprocs; i++)
		if (!au->procs[i].gone && au->procs[i].acct_ok && au->procs[i].acct.uid == uid)
			return true;
	return false;
}

/*
 * With PIDs given (not --all), the other processes of the audited uids:
 * their io_uring buffers count against the same user. Their accounting
 * (for CAP_IPC_LOCK) and buffers only; -ENOMEM or 0.
 */
static int memlock_companions(struct audit *au, struct pi_accounting **ret, size_t *ret_n)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t npids = 0, pids_cap = 0, n = 0, cap = 0;
	struct pi_accounting *x = NULL;

	*ret = NULL;
	*ret_n = 0;
	if (pi_procsel_all(&pids, &npids, &pids_cap) < 0)
		return 0;	/* the sum covers the audited processes only */
	for (size_t i = 0; i < npids; i++) {
		struct pi_holder_list hl = { 0 };
		struct pi_status st;
		struct pi_accounting a;
		uint64_t kib = 0;

		if (audited_pid(au, pids[i]) || pi_status_read(pids[i], &st) < 0 ||
		    !uid_audited(au, st.uid_real))
			continue;
		if (pi_holders_read(pids[i], &hl) < 0)
			continue;
		kib = pi_iouring_holders_kib(&hl);
		pi_holder_list_free(&hl);
		if (!kib || pi_accounting_read(pids[i], 0, &a) < 0)
			continue;
		{
			struct pi_rdma_mr_list mrs = { 0 };
			unsigned int nmrs = 0;

			if (pi_rdma_mrs_read(pids[i], &mrs) == 0)
				nmrs = (unsigned int)mrs.n;
			pi_rdma_mr_list_free(&mrs);
			a.iouring_kib = pi_iouring_charge_kib(kib, a.has_vmpin, a.vmpin_kib, nmrs);
		}
		if (pi_grow((void **)&x, &cap, n + 1, sizeof(*x)) < 0) {
			free(x);
			return -ENOMEM;
		}
		x[n++] = a;
	}
	*ret = x;
	*ret_n = n;
	return 0;
}

static int memlock_user_pass(struct audit *au)
{
	struct pi_accounting **pa, *comp = NULL;
	size_t n = 0, ncomp = 0;
	int r;

	if (!au->cli->all) {
		r = memlock_companions(au, &comp, &ncomp);
		if (r < 0)
			return r;
	}
	pa = calloc(au->nprocs + ncomp + 1, sizeof(*pa));
	if (!pa) {
		free(comp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < au->nprocs; i++)
		if (!au->procs[i].gone && au->procs[i].acct_ok)
			pa[n++] = &au->procs[i].acct;
	for (size_t i = 0; i < ncomp; i++)
		pa[n++] = &comp[i];
	pi_accounting_user_sums(pa, n);
	free(pa);
	free(comp);
	for (size_t i = 0; i < au->nprocs && au->run[PI_CHK_MEMLOCK_HEADROOM]; i++) {
		const struct audit_proc *ap = &au->procs[i];
		struct audit_finding *af = NULL;
		struct pi_finding f;
		size_t at = SIZE_MAX, first_proc = au->nfinds;
		bool low;

		if (ap->gone || !ap->acct_ok)
			continue;
		low = pi_memlock_finding(&ap->acct, au->cli->memlock_headroom_kib, &f);
		for (size_t k = 0; k < au->nfinds; k++) {
			if (au->finds[k].proc == NO_PROC)
				continue;
			if (first_proc == au->nfinds)
				first_proc = k;
			if (au->finds[k].proc == i && au->finds[k].f.check == PI_CHK_MEMLOCK_HEADROOM)
				af = &au->finds[k];
			if (au->finds[k].proc <= i)
				at = k + 1;
		}
		if (af) {
			if (low)
				af->f = f;	/* the per-process one, or the user's now */
			continue;
		}
		if (!low)
			continue;
		if (at == SIZE_MAX)
			at = first_proc;
		if (pi_grow((void **)&au->finds, &au->finds_cap, au->nfinds + 1,
			    sizeof(*au->finds)) < 0)
			return -ENOMEM;
		memmove(&au->finds[at + 1], &au->finds[at], (au->nfinds - at) * sizeof(*au->finds));
		au->nfinds++;
		af = &au->finds[at];
		memset(af, 0, sizeof(*af));
		af->proc = i;
		af->pid = ap->pid;
		af->f = f;
		au->count[PI_CHK_MEMLOCK_HEADROOM]++;
	}
	return 0;
}

static int audit_walk_procs(struct audit *au)
{
	const struct pi_cli *cli = au->cli;
	int r;

	r = sys_scan(au);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cli->npids; i++) {
		pid_t pid = cli->pids[i];

		au->candidates++;
		if (cli->all) {
			r = can_hold_pins(pid);
			/* pins the exact source saw on its pages: no VmPin, no ring (VFIO, GUP) */
			if (r <= 0 && r != -ENOENT && r != -ESRCH && pid_pinned(au, pid)) {
				au->by_scan++;
				r = 1;
			}
			if (r == -ENOENT || r == -ESRCH)
				continue;	/* gone before we knew it mattered */
			if (r < 0) {
				au->unreadable++;
				continue;
			}
			if (r == 0) {
				au->no_pins++;
				continue;
			}
		}
		r = audit_one(au, pid);
		if (r == -ENOMEM)
			return r;
	}
	fold_sys_orphans(au);
	r = memlock_user_pass(au);
	if (r < 0)
		return r;
	if (au->unreadable)
		pi_warn("%zu process(es) could not be checked for pins (their fd directory "
			"needs root or CAP_SYS_PTRACE)", au->unreadable);
	return 0;
}

static int audit_walk(struct audit *au)
{
	int r;

	pi_rdma_snapshot_begin();
	r = audit_walk_procs(au);
	pi_rdma_snapshot_end();
	return r;
}

/* ---- output ---- */

static enum pi_severity finding_severity(const struct audit_finding *af)
{
	return pi_check_info(af->f.check)->severity;
}

static pid_t finding_pid(const struct audit *au, const struct audit_finding *af)
{
	return af->proc == NO_PROC ? af->pid : au->procs[af->proc].pid;
}

/* NULL: a system-wide finding nobody is attributed */
static const char *finding_comm(const struct audit *au, const struct audit_finding *af)
{
	if (af->proc != NO_PROC)
		return au->procs[af->proc].comm;
	return af->pid ? af->comm : NULL;
}

static size_t audited(const struct audit *au)
{
	return au->nprocs - au->ngone;
}

static int print_table(struct audit *au, FILE *out)
{
	static const char *const cols[] = { "PID", "COMM", "CHECK", "SEVERITY", "START", "END",
					    "PAGES", "KIND", "MESSAGE" };
	static const int flags[] = { SCOLS_FL_RIGHT, 0, 0, 0, SCOLS_FL_RIGHT, SCOLS_FL_RIGHT,
				     SCOLS_FL_RIGHT, 0, 0 };
	const struct pi_cli *cli = au->cli;
	size_t sev[3] = { 0 };
	int r = 0;

	for (size_t i = 0; i < au->nfinds; i++)
		sev[finding_severity(&au->finds[i])]++;
	if (au->nfinds) {
		struct libscols_table *tb = scols_new_table();

		if (!tb)
			return -ENOMEM;
		scols_table_set_stream(tb, out);
		scols_table_enable_raw(tb, cli->raw);
		scols_table_enable_noheadings(tb, cli->noheadings);
		for (size_t c = 0; c < ARRAY_SIZE(cols); c++)
			if (!scols_table_new_column(tb, cols[c], 0, flags[c]))
				r = -ENOMEM;
		for (size_t i = 0; i < au->nfinds && r == 0; i++) {
			const struct audit_finding *af = &au->finds[i];
			const char *comm = finding_comm(au, af);
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			char buf[8][512];

			if (!ln) {
				r = -ENOMEM;
				break;
			}
			snprintf(buf[0], sizeof(buf[0]), "%d", (int)finding_pid(au, af));
			snprintf(buf[1], sizeof(buf[1]), "%s", comm ? comm : "-");
			snprintf(buf[2], sizeof(buf[2]), "%s", pi_check_info(af->f.check)->id);
			snprintf(buf[3], sizeof(buf[3]), "%s", pi_severity_name(finding_severity(af)));
			if (af->f.has_range) {
				snprintf(buf[4], sizeof(buf[4]), "0x%" PRIx64, af->f.start);
				snprintf(buf[5], sizeof(buf[5]), "0x%" PRIx64, af->f.end);
			} else {
				snprintf(buf[4], sizeof(buf[4]), "-");
				snprintf(buf[5], sizeof(buf[5]), "-");
			}
			snprintf(buf[6], sizeof(buf[6]), "%" PRIu64, af->f.pages);
			/* per-page findings know the kind of their pages */
			snprintf(buf[7], sizeof(buf[7]), "%s", af->f.has_kind ?
				 pi_kind_name((enum pi_kind)af->f.kind) : "-");
			/*
			 * No pi_escape_text() here: libsmartcols encodes control
			 * bytes, invalid UTF-8 and an ambiguous "\\x" itself, so
			 * escaping first would show a backslash as \x5cx5c.
			 */
			for (size_t c = 0; c < 8; c++)
				if (scols_line_set_data(ln, c, buf[c]))
					r = -ENOMEM;
			pi_finding_message(&af->f, buf[0], sizeof(buf[0]));
			if (scols_line_set_data(ln, 8, buf[0]))
				r = -ENOMEM;
		}
		if (r == 0)
			scols_print_table(tb);
		scols_unref_table(tb);
	}
	if (cli->raw || cli->noheadings)
		return r;
	if (au->nfinds)
		fputc('\n', out);
	fprintf(out, "audited %zu process(es)", audited(au));
	if (cli->all) {
		fprintf(out, " of %zu (%zu without pins skipped", au->candidates, au->no_pins);
		if (au->by_scan)
			fprintf(out, ", %zu by their pinned pages only", au->by_scan);
		if (au->unreadable)
			fprintf(out, ", %zu unreadable", au->unreadable);
		fputc(')', out);
	}
	fprintf(out, " with source %s: %zu error(s), %zu warning(s), %zu info\n",
		pi_source_name(au->src->source), sev[PI_SEV_ERROR], sev[PI_SEV_WARNING],
		sev[PI_SEV_INFO]);
	for (size_t i = 0; i < au->nprocs; i++)
		if (au->procs[i].gone)
			fprintf(out, "gone: pid %d exited during the audit\n", (int)au->procs[i].pid);
	if (au->sys_scan)
		fprintf(out, "system-wide: %" PRIu64 " pinned pages, %" PRIu64 " mapped by no process\n",
			au->sys_pinned, au->sys_orphaned);
	else if (au->sys_skip)
		fprintf(out, "note: no system-wide pin scan: %s\n", au->sys_skip);
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->skip_reason[c])
			fprintf(out, "skipped: %s: %s\n", pi_check_info(c)->id, au->skip_reason[c]);
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->count[c])
			fprintf(out, "hint: %s: %s\n", pi_check_info(c)->id, pi_check_info(c)->hint);
	return r;
}

static void print_json(struct audit *au, FILE *out)
{
	const char *names[16];
	struct jsonwrt w;
	size_t n = 0;

	jw_init(&w, out, true);
	jw_object_open(&w, NULL);
	jw_u64(&w, "schema", PI_JSON_SCHEMA);
	jw_object_open(&w, "kernel");
	jw_string(&w, "release", au->src->probe.release);
	pi_sources_names(au->src, names, &n);
	jw_array_open(&w, "sources");
	for (size_t i = 0; i < n; i++)
		jw_string(&w, NULL, names[i]);
	jw_array_close(&w);
	jw_object_close(&w);
	jw_string(&w, "source", pi_source_name(au->src->source));
	jw_bool(&w, "success", !au->trouble);
	jw_string(&w, "fail_on", pi_severity_name(au->fail_on));
	jw_double(&w, "duration_seconds", au->duration);
	jw_array_open(&w, "checks");
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->run[c])
			jw_string(&w, NULL, pi_check_info(c)->id);
	jw_array_close(&w);

	jw_array_open(&w, "findings");
	for (size_t i = 0; i < au->nfinds; i++) {
		const struct audit_finding *af = &au->finds[i];
		char msg[512];

		jw_object_open(&w, NULL);
		jw_i64(&w, "pid", finding_pid(au, af));
		jw_string_or_null(&w, "comm", finding_comm(au, af));
		jw_string(&w, "check", pi_check_info(af->f.check)->id);
		jw_string(&w, "severity", pi_severity_name(finding_severity(af)));
		if (af->f.has_range) {
			jw_hex(&w, "start", af->f.start);
			jw_hex(&w, "end", af->f.end);
		} else {
			jw_null(&w, "start");
			jw_null(&w, "end");
		}
		jw_u64(&w, "pages", af->f.pages);
		/* per-page findings: the kind of their pages */
		jw_string_or_null(&w, "kind", af->f.has_kind ?
				  pi_kind_name((enum pi_kind)af->f.kind) : NULL);
		pi_finding_message(&af->f, msg, sizeof(msg));
		jw_string(&w, "message", msg);
		jw_string_or_null(&w, "holder", *af->f.holder ? af->f.holder : NULL);
		jw_string(&w, "hint", pi_check_info(af->f.check)->hint);
		jw_bool(&w, "system_wide", af->proc == NO_PROC);
		if (af->f.has_pfn) {
			jw_u64(&w, "pfn_start", af->f.pfn_start);
			jw_u64(&w, "pfn_end", af->f.pfn_end);
			if (af->f.check == PI_CHK_ORPHANED_PIN)
				jw_u64(&w, "pfn_runs", af->f.pfn_runs);
		}
		if (*af->f.detail)
			jw_string(&w, "detail", af->f.detail);
		if (af->f.check == PI_CHK_MEMLOCK_HEADROOM) {
			jw_i64(&w, "headroom_kib", af->f.headroom_kib);
			jw_u64(&w, "memlock_limit_kib", af->f.limit_kib);
			jw_u64(&w, "threshold_kib", af->f.threshold_kib);
			jw_string(&w, "headroom_by", af->f.by_user ? "user" : "process");
			jw_u64(&w, "user_iouring_kib", af->f.user_iouring_kib);
		}
		if (af->f.check == PI_CHK_FORK_UNSAFE) {
			static const char *const kinds[] = { "partial-dontfork", "edge-shared",
							     "max-map-count", "no-dontfork" };

			jw_string(&w, "pattern", kinds[af->f.fork]);
			if (af->f.fork == PI_FORK_MAP_COUNT) {
				jw_u64(&w, "vma_count", af->f.vma_count);
				jw_u64(&w, "max_map_count", af->f.max_map_count);
			} else {
				jw_u64(&w, "dontfork_pages", af->f.dontfork_pages);
			}
		}
		jw_object_close(&w);
	}
	jw_array_close(&w);

	jw_array_open(&w, "skipped");
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->skip_reason[c]) {
			jw_object_open(&w, NULL);
			jw_string(&w, "check", pi_check_info(c)->id);
			jw_string(&w, "reason", au->skip_reason[c]);
			jw_object_close(&w);
		}
	jw_array_close(&w);

	jw_array_open(&w, "processes");
	for (size_t i = 0; i < au->nprocs; i++) {
		const struct audit_proc *ap = &au->procs[i];

		jw_object_open(&w, NULL);
		jw_i64(&w, "pid", ap->pid);
		jw_string(&w, "comm", ap->comm);
		if (ap->gone) {
			jw_bool(&w, "gone", true);
			jw_object_close(&w);
			continue;
		}
		if (ap->has_vmpin)
			jw_u64(&w, "vmpin_kib", ap->vmpin_kib);
		else
			jw_null(&w, "vmpin_kib");
		jw_object_open(&w, "summary");
		jw_u64(&w, "pinned", ap->sum.counts[PI_V_PINNED]);
		jw_u64(&w, "maybe_pinned", ap->sum.counts[PI_V_MAYBE]);
		jw_u64(&w, "not_pinned", ap->sum.counts[PI_V_NOT]);
		jw_u64(&w, "unknown", ap->sum.counts[PI_V_UNKNOWN]);
		jw_u64(&w, "pinned_kib", ap->held * 4);
		jw_u64(&w, "vfio_kib", ap->vfio_pages * 4);
		jw_object_close(&w);
		if (ap->acct_ok) {
			const struct pi_accounting *a = &ap->acct;

			jw_object_open(&w, "memlock");
			if (a->has_vmlck)
				jw_u64(&w, "vmlck_kib", a->vmlck_kib);
			else
				jw_null(&w, "vmlck_kib");
			if (a->memlock.known && !a->memlock.soft_unlimited)
				jw_u64(&w, "limit_kib", a->memlock.soft / 1024);
			else
				jw_null(&w, "limit_kib");
			if (a->has_vmpin)
				jw_u64(&w, "vmpin_kib", a->vmpin_kib);
			else
				jw_null(&w, "vmpin_kib");
			jw_u64(&w, "iouring_kib", a->iouring_kib);
			if (a->user_known) {
				jw_u64(&w, "uid", a->uid);
				jw_u64(&w, "user_iouring_kib", a->user_iouring_kib);
				jw_u64(&w, "user_iouring_procs", a->user_procs);
			} else {
				jw_null(&w, "uid");
				jw_null(&w, "user_iouring_kib");
				jw_null(&w, "user_iouring_procs");
			}
			if (a->headroom_known) {
				jw_i64(&w, "process_headroom_kib", a->proc_headroom_kib);
				if (a->user_known)
					jw_i64(&w, "user_headroom_kib", a->user_headroom_kib);
				else
					jw_null(&w, "user_headroom_kib");
				jw_i64(&w, "headroom_kib", a->headroom_kib);
				jw_string(&w, "headroom_by", a->headroom_by_user ? "user" : "process");
			} else {
				jw_null(&w, "process_headroom_kib");
				jw_null(&w, "user_headroom_kib");
				jw_null(&w, "headroom_kib");
				jw_null(&w, "headroom_by");
			}
			if (a->cap_known)
				jw_bool(&w, "cap_ipc_lock", a->cap_ipc_lock);
			else
				jw_null(&w, "cap_ipc_lock");
			jw_object_close(&w);
		}
		jw_bool(&w, "gone", false);
		jw_object_close(&w);
	}
	jw_array_close(&w);

	jw_object_open(&w, "stats");
	jw_u64(&w, "processes_seen", au->candidates);
	jw_u64(&w, "processes_audited", audited(au));
	jw_u64(&w, "processes_without_pins", au->no_pins);
	jw_u64(&w, "processes_unreadable", au->unreadable);
	jw_u64(&w, "processes_gone", au->ngone);
	jw_u64(&w, "processes_by_pinned_pages", au->by_scan);
	jw_object_close(&w);
	jw_object_open(&w, "system_scan");
	jw_bool(&w, "ran", au->sys_scan);
	jw_string_or_null(&w, "reason", au->sys_scan ? NULL : au->sys_skip ? au->sys_skip :
			  "only with --all");
	if (au->sys_scan) {
		jw_u64(&w, "pinned_pages", au->sys_pinned);
		jw_u64(&w, "orphaned_pages", au->sys_orphaned);
		jw_double(&w, "seconds", au->sys_seconds);
	}
	jw_object_close(&w);
	jw_object_close(&w);
	jw_end(&w);
}

static void prom_family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* one sample per audited process; label values escaped for the exposition format */
enum memlock_gauge { ML_HEADROOM, ML_BY_USER, ML_USER_IOURING };

/* a memlock gauge for each audited process it applies to */
static void prom_memlock(const struct audit *au, FILE *out, const char *name, enum memlock_gauge g)
{
	for (size_t i = 0; i < au->nprocs; i++) {
		const struct audit_proc *ap = &au->procs[i];
		const struct pi_accounting *a = &ap->acct;
		char *comm;

		if (ap->gone || !ap->acct_ok || !(g == ML_USER_IOURING ? a->user_known : a->headroom_known))
			continue;
		comm = pi_escape_prom_label(ap->comm);
		fprintf(out, "%s{pid=\"%d\",comm=\"%s\"", name, (int)ap->pid, comm ? comm : "");
		if (g == ML_USER_IOURING)
			fprintf(out, ",uid=\"%u\"", (unsigned int)a->uid);
		if (g == ML_HEADROOM)
			fprintf(out, "} %" PRId64 "\n", a->headroom_kib * 1024);
		else if (g == ML_BY_USER)
			fprintf(out, "} %d\n", a->headroom_by_user ? 1 : 0);
		else
			fprintf(out, "} %" PRIu64 "\n", a->user_iouring_kib * 1024);
		free(comm);
	}
}

static void prom_per_proc(struct audit *au, FILE *out, const char *name, enum pi_verdict v)
{
	char *src = pi_escape_prom_label(pi_source_name(au->src->source));

	for (size_t i = 0; i < au->nprocs; i++) {
		const struct audit_proc *ap = &au->procs[i];
		char *comm;

		if (ap->gone)
			continue;
		comm = pi_escape_prom_label(ap->comm);
		fprintf(out, "%s{pid=\"%d\",comm=\"%s\",source=\"%s\"} %" PRIu64 "\n", name,
			(int)ap->pid, comm ? comm : "", src ? src : "", ap->sum.counts[v]);
		free(comm);
	}
	free(src);
}

static void print_prometheus(struct audit *au, FILE *out)
{
	prom_family(out, "pininspect_audit_success",
		    "1 if every selected process could be audited, 0 otherwise");
	fprintf(out, "pininspect_audit_success %d\n", au->trouble ? 0 : 1);
	prom_family(out, "pininspect_audit_duration_seconds", "Wall time of the audit");
	fprintf(out, "pininspect_audit_duration_seconds %.6f\n", au->duration);
	prom_family(out, "pininspect_processes_audited",
		    "Processes whose pages were audited (those that can hold pins)");
	fprintf(out, "pininspect_processes_audited %zu\n", audited(au));
	prom_family(out, "pininspect_processes_gone", "Processes that exited during the audit");
	fprintf(out, "pininspect_processes_gone %zu\n", au->ngone);
	prom_family(out, "pininspect_pinned_pages",
		    "Anonymous pages a pin source says are pinned, per process");
	prom_per_proc(au, out, "pininspect_pinned_pages", PI_V_PINNED);
	prom_family(out, "pininspect_maybe_pinned_pages",
		    "Anonymous pages that may be pinned (holder range or bias test), per process");
	prom_per_proc(au, out, "pininspect_maybe_pinned_pages", PI_V_MAYBE);
	prom_family(out, "pininspect_memlock_headroom_bytes",
		    "RLIMIT_MEMLOCK soft limit minus max(VmPin, VmLck), or minus the io_uring buffers of the uid when less, in bytes, per process with a finite limit");
	prom_memlock(au, out, "pininspect_memlock_headroom_bytes", ML_HEADROOM);
	prom_family(out, "pininspect_memlock_headroom_by_user",
		    "1 when the io_uring buffers of the process's uid bind its memlock headroom, 0 when its VmPin/VmLck");
	prom_memlock(au, out, "pininspect_memlock_headroom_by_user", ML_BY_USER);
	prom_family(out, "pininspect_memlock_user_iouring_bytes",
		    "io_uring registered buffers of the audited processes of the process's uid (without CAP_IPC_LOCK)");
	prom_memlock(au, out, "pininspect_memlock_user_iouring_bytes", ML_USER_IOURING);
	if (au->sys_scan) {
		prom_family(out, "pininspect_orphaned_pinned_pages",
			    "Pinned pages mapped by no process (system-wide scan)");
		fprintf(out, "pininspect_orphaned_pinned_pages %" PRIu64 "\n", au->sys_orphaned);
	}
	prom_family(out, "pininspect_findings", "Audit findings per check");
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->run[c])
			fprintf(out, "pininspect_findings{check=\"%s\",severity=\"%s\"} %" PRIu64 "\n",
				pi_check_info(c)->id,
				pi_severity_name(pi_check_info(c)->severity), au->count[c]);
	prom_family(out, "pininspect_check_skipped",
		    "1 for a selected check that cannot run with the available sources");
	for (int c = 0; c < PI_CHK__MAX; c++)
		if (au->skip_reason[c])
			fprintf(out, "pininspect_check_skipped{check=\"%s\"} 1\n", pi_check_info(c)->id);
}

static int print_all(struct audit *au, FILE *out)
{
	int r = 0;

	switch (au->fmt) {
	case FMT_TABLE: r = print_table(au, out); break;
	case FMT_JSON: print_json(au, out); break;
	case FMT_PROM: print_prometheus(au, out); break;
	}
	if (fflush(out) != 0 || ferror(out))
		r = -EIO;
	return r;
}

/*
 * Readers (node_exporter, log shippers) must never see a half-written
 * file: write a temp file in the same directory, fsync it, rename over.
 */
static int write_atomically(struct audit *au, const char *path)
{
	_cleanup_free_ char *dcopy = strdup(path);
	_cleanup_free_ char *bcopy = strdup(path);
	_cleanup_free_ char *tmp = NULL;
	const char *dir, *base;
	size_t len;
	FILE *f;
	int fd, r;

	if (!dcopy || !bcopy)
		return -ENOMEM;
	dir = dirname(dcopy);
	base = basename(bcopy);
	len = strlen(dir) + strlen(base) + sizeof("/..XXXXXX");
	tmp = malloc(len);
	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, len, "%s/.%s.XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pi_errno(r, "%s: cannot create a temporary file", path);
		return r;
	}
	/* mkstemp makes 0600; textfile collectors run as another user */
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		goto fail;
	}
	r = print_all(au, f);
	if (r == 0 && fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			(void)fsync(dfd);	/* make the rename durable */
			close(dfd);
		}
		return 0;
	}
fail:
	pi_errno(r, "%s: cannot write", path);
	unlink(tmp);
	return r;
}

int pi_audit_run(const struct pi_cli *cli, struct pi_sources *src)
{
	struct audit au = { .cli = cli, .src = src };
	bool failing = false;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &au.t0);
	if (audit_setup(&au) < 0)
		return PI_EXIT_USAGE;
	if (*src->degraded)
		pi_warn("%s", src->degraded);
	au.trouble = cli->bad_pid_arg;
	r = audit_walk(&au);
	if (r < 0) {
		pi_errno(r, "audit");
		au.trouble = true;
	}
	au.duration = elapsed(&au.t0);
	for (size_t i = 0; i < au.nfinds; i++) {
		enum pi_severity s = finding_severity(&au.finds[i]);

		if (s >= au.fail_on)
			failing = true;
	}
	if (cli->output_file)
		r = write_atomically(&au, cli->output_file);
	else
		r = print_all(&au, stdout);
	if (r < 0)
		au.trouble = true;
	free(au.procs);
	free(au.finds);
	free(au.pinned_pids);
	pi_layout_free(&au.layout);
	if (au.trouble)
		return PI_EXIT_TROUBLE;
	return failing ? PI_EXIT_FINDINGS : PI_EXIT_OK;
}
