// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Watch mode, --save and --diff (DESIGN section 6): did the kernel keep
 * the mappings of pinned pages? A baseline snapshot of the pinned pages
 * is taken, then rescanned on mm tracepoint events and every interval;
 * each change is printed with the events seen since the previous scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <libsmartcols.h>
#include "pininspect.h"
#include "jsonwrt.h"
#include "pininspect/diff.h"
#include "pininspect/root.h"
#include "pininspect/trace.h"
#include "pininspect/util.h"

#define MAX_CAUSES	12
#define MAX_POLLFDS	1024
/* sub-buffers read per CPU per wakeup: bounded so a storm cannot starve scans */
#define DRAIN_PAGES	64
#define MIN_EVENT_GAP_MS 100

/*
 * What can bring new pins, cheap to read on every rescan: when none of it
 * changed, only the pinned addresses are looked at again.
 */
struct proc_sig {
	uint64_t maps, holders, vmpin_kib, vmlck_kib;
	bool valid;
};

/* full scans at least every this many rescans, to find pins no counter shows */
#define FULL_SCAN_EVERY 10

struct target {
	pid_t pid;
	uint64_t starttime;
	bool has_starttime;
	char comm[64];
	const char *gone;		/* NULL while watched: "exited", "pid reused" */
	struct pi_snapshot base;
	uint64_t watched;		/* pinned pages in the first baseline */
	uint64_t scans;
	uint64_t trans[PI_T__MAX];
	uint64_t preserved_last;	/* preserved pages at the last scan */
	uint64_t *ev;			/* per event, seen while this one was watched */
	struct proc_sig sig;		/* at the last full scan */
	unsigned int since_full;	/* rescans since then */
	uint64_t full_scans;
};

struct watch {
	const struct pi_cli *cli;
	struct pi_sources *src;
	struct target *t;
	size_t nt;
	struct pi_trace *trace;
	uint64_t *ev_total;		/* per enabled event */
	uint64_t ev_lost;
	/* causes seen since the last scan */
	char causes[MAX_CAUSES][32];
	size_t ncauses;
	bool migration_reason;		/* mm_migrate_pages named why */
	bool migration_seen;		/* per-PTE migration events, no reason */
	FILE *human;			/* stdout, or stderr with --json */
	struct jsonwrt jw;
	unsigned int fail_mask;
	bool failed;			/* a --fail-on transition happened */
	bool trouble;
	unsigned int nswap;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void time_human(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

/* RFC 3339 in UTC with milliseconds */
static void time_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

static int parse_fail_on(const struct pi_cli *cli, unsigned int *mask)
{
	const char *bad = NULL;
	size_t badlen = 0;

	*mask = 0;
	if (!cli->fail_on)
		return 0;
	if (pi_transition_parse_list(cli->fail_on, mask, &bad, &badlen) < 0) {
		pi_warn("--fail-on: unknown transition '%.*s' (preserved, desynced, migrating, "
			"swapped, unmapped, lost-exclusive, unpinned, new-pin)", (int)badlen, bad);
		return -EINVAL;
	}
	return 0;
}

static void scan_ctx_init(const struct watch *w, struct pi_scan_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->source = w->src->source;
	ctx->pinsrc = w->src->pinsrc;
	/*
	 * An exact source knows AnonExclusive per page; kpageflags would only
	 * add its ~190 ns per page to every rescan.
	 */
	ctx->kpageflags = w->src->kpageflags;
	ctx->kpageflags_shmem_only = w->src->pinsrc != NULL;
	ctx->anon_only = w->cli->anon_only;
	ctx->use_pagemap_scan = !w->cli->no_pagemap_scan;
}

/* State 'Z' or 'X' in /proc/PID/stat: exited, not yet reaped. */
static bool proc_is_dead(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	const char *p;

	if (pi_root_readf(&buf, &len, "proc/%d/stat", (int)pid) < 0)
		return true;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	return p[2] == 'Z' || p[2] == 'X';
}

static const char *proc_open_error(pid_t pid, int r, size_t bad_line)
{
	static char msg[160];

	switch (r) {
	case -ENOENT:
	case -ESRCH:
		snprintf(msg, sizeof(msg), "pid %d: no such process", (int)pid);
		break;
	case -EACCES:
	case -EPERM:
		snprintf(msg, sizeof(msg), "pid %d: cannot read its maps or pagemap: %s", (int)pid,
			 strerror(-r));
		break;
	case -EINVAL:
		snprintf(msg, sizeof(msg), "pid %d: /proc/%d/maps line %zu: not a maps line",
			 (int)pid, (int)pid, bad_line);
		break;
	default:
		snprintf(msg, sizeof(msg), "pid %d: %s", (int)pid, strerror(-r));
	}
	return msg;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static void proc_signature(const struct pi_proc *p, struct proc_sig *sig)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < p->vmas.n; i++) {
		const struct pi_vma *v = &p->vmas.vmas[i];
		uint64_t f[3] = { v->start, v->end,
				  (uint64_t)v->read | (uint64_t)v->write << 1 | (uint64_t)v->kind << 2 };

		h = fnv1a(h, f, sizeof(f));
	}
	sig->maps = h;
	h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < p->holders.n; i++) {
		const struct pi_holder *ho = &p->holders.h[i];
		uint64_t f[4] = { ho->start, ho->end, (uint64_t)ho->fd, ho->index };

		h = fnv1a(h, f, sizeof(f));
	}
	sig->holders = h;
	sig->vmpin_kib = p->status.has_vmpin ? p->status.vmpin_kib : UINT64_MAX;
	sig->vmlck_kib = p->status.has_vmlck ? p->status.vmlck_kib : UINT64_MAX;
	sig->valid = true;
}

static bool sig_equal(const struct proc_sig *a, const struct proc_sig *b)
{
	return a->valid && b->valid && a->maps == b->maps && a->holders == b->holders &&
	       a->vmpin_kib == b->vmpin_kib && a->vmlck_kib == b->vmlck_kib;
}

/*
 * Snapshot one process against prev (NULL for a baseline). Returns 0,
 * 1 when the process is gone (*gone says why), or -errno.
 */
static int snapshot_proc(const struct watch *w, pid_t pid, bool check_start, uint64_t starttime,
			 const struct pi_snapshot *prev, struct target *t, struct pi_snapshot *ret,
			 const char **gone, const char **errmsg)
{
	struct proc_sig sig;
	struct pi_scan_ctx ctx;
	struct pi_proc p;
	size_t bad_line = 0;
	int r;

	*gone = NULL;
	*errmsg = NULL;
	if (proc_is_dead(pid)) {
		*gone = "exited";
		return 1;
	}
	r = pi_proc_open(pid, &p, &bad_line);
	if (r == -ENOENT || r == -ESRCH) {
		*gone = "exited";
		return 1;
	}
	if (r < 0) {
		*errmsg = proc_open_error(pid, r, bad_line);
		return r;
	}
	if (check_start && p.has_starttime && p.starttime != starttime) {
		pi_proc_close(&p);
		*gone = "pid reused";
		return 1;
	}
	scan_ctx_init(w, &ctx);
	proc_signature(&p, &sig);
	if (t && prev && t->since_full + 1 < FULL_SCAN_EVERY && sig_equal(&sig, &t->sig)) {
		r = pi_snapshot_take_tracked(&p, &ctx, prev, ret);
		if (r == 0)
			t->since_full++;
	} else {
		r = pi_snapshot_take(&p, &ctx, prev, ret);
		if (r == 0 && t) {
			t->sig = sig;
			t->since_full = 0;
			t->full_scans++;
		}
	}
	pi_proc_close(&p);
	if (r < 0 && (r == -ENODATA || r == -ESRCH || r == -ENOENT || proc_is_dead(pid))) {
		/* the process went away under the scan */
		if (proc_is_dead(pid)) {
			*gone = "exited";
			return 1;
		}
		*errmsg = pi_root_is_host() ? "process exec'd during the scan" :
			  "pagemap ends before its VMAs do";
	}
	return r;
}

static void add_cause(struct watch *w, const char *c)
{
	for (size_t i = 0; i < w->ncauses; i++)
		if (!strcmp(w->causes[i], c))
			return;
	if (w->ncauses < MAX_CAUSES)
		snprintf(w->causes[w->ncauses++], sizeof(w->causes[0]), "%s", c);
}

static bool is_target_tgid(const struct watch *w, int tgid)
{
	for (size_t i = 0; i < w->nt; i++)
		if (w->t[i].pid == tgid)
			return true;
	return false;
}

static void on_event(const struct pi_trace_event *ev, void *userdata)
{
	struct watch *w = userdata;

	w->ev_total[ev->idx]++;
	/*
	 * mm events carry no pid: count them for every process watched; a NUMA
	 * move names its task's tgid: count it for that process only
	 */
	for (size_t i = 0; i < w->nt; i++)
		if (!w->t[i].gone && w->t[i].ev && (ev->tgid < 0 || ev->tgid == w->t[i].pid))
			w->t[i].ev[ev->idx]++;
	switch (ev->cause) {
	case PI_CAUSE_MIGRATION:
		/* mm_migrate_pages names its reason; per-PTE events only say migration */
		if (ev->reason) {
			add_cause(w, ev->reason);
			w->migration_reason = true;
		} else {
			w->migration_seen = true;
		}
		break;
	case PI_CAUSE_COMPACTION:
		add_cause(w, "compaction");
		break;
	case PI_CAUSE_RECLAIM:
		add_cause(w, "reclaim");
		break;
	case PI_CAUSE_NUMA:
		if (ev->tgid < 0 || is_target_tgid(w, ev->tgid))
			add_cause(w, "numa");
		break;
	}
}

static void print_pfn(FILE *f, bool known, uint64_t pfn)
{
	if (known)
		fprintf(f, "0x%" PRIx64, pfn);
	else
		fputc('-', f);
}

static void emit_run(struct watch *w, const struct target *t, const struct pi_trun *run,
		     bool with_causes)
{
	if (w->cli->json && run->t != PI_T_PRESERVED) {
		struct jsonwrt *j = &w->jw;
		char ts[48];

		time_rfc3339(ts, sizeof(ts));
		jw_object_open(j, NULL);
		jw_string(j, "type", "transition");
		jw_string(j, "time", ts);
		jw_i64(j, "pid", t->pid);
		jw_hex(j, "start", run->start);
		jw_hex(j, "end", run->end);
		jw_u64(j, "pages", run->pages);
		jw_string(j, "transition", pi_transition_name(run->t));
		if (run->kind == PI_SP_KIND_UNKNOWN)
			jw_null(j, "kind");
		else
			jw_string(j, "kind", pi_kind_name((enum pi_kind)run->kind));
		if (run->old_pfn_known)
			jw_u64(j, "old_pfn", run->old_pfn);
		else
			jw_null(j, "old_pfn");
		if (run->new_pfn_known)
			jw_u64(j, "new_pfn", run->new_pfn);
		else
			jw_null(j, "new_pfn");
		/* read through the exact source when the PFN changed or went away */
		if (run->old_pfn_pinned < 0)
			jw_null(j, "old_pfn_pinned");
		else
			jw_bool(j, "old_pfn_pinned", run->old_pfn_pinned);
		jw_array_open(j, "cause");
		for (size_t i = 0; with_causes && i < w->ncauses; i++)
			jw_string(j, NULL, w->causes[i]);
		jw_array_close(j);
		jw_object_close(j);
		jw_end(j);
		return;
	}
	if (w->cli->json && !w->cli->verbose)
		return;
	{
		FILE *f = w->human;
		char hm[16];

		time_human(hm, sizeof(hm));
		fprintf(f, "%s pid %d 0x%" PRIx64 "-0x%" PRIx64 " %" PRIu64 "%s%s page%s %s ", hm,
			(int)t->pid, run->start, run->end, run->pages,
			run->kind == PI_SP_KIND_UNKNOWN ? "" : " ",
			run->kind == PI_SP_KIND_UNKNOWN ? "" : pi_kind_name((enum pi_kind)run->kind),
			run->pages == 1 ? "" : "s", pi_transition_name(run->t));
		print_pfn(f, run->old_pfn_known, run->old_pfn);
		fputs("\u2192", f);
		print_pfn(f, run->new_pfn_known, run->new_pfn);
		/* an unmapped or moved page whose pin stays: the pin is orphaned */
		if (run->old_pfn_pinned == 1 && run->t != PI_T_DESYNCED)
			fputs(" (old page still pinned)", f);
		if (with_causes && w->ncauses) {
			fputs(" cause: ", f);
			for (size_t i = 0; i < w->ncauses; i++)
				fprintf(f, "%s%s", i ? "," : "", w->causes[i]);
		}
		fputc('\n', f);
		fflush(f);
	}
}

static void emit_gone(struct watch *w, const struct target *t)
{
	char ts[48];

	if (w->cli->json) {
		time_rfc3339(ts, sizeof(ts));
		jw_object_open(&w->jw, NULL);
		jw_string(&w->jw, "type", "gone");
		jw_string(&w->jw, "time", ts);
		jw_i64(&w->jw, "pid", t->pid);
		jw_string(&w->jw, "reason", t->gone);
		jw_u64(&w->jw, "pinned_pages", t->base.npinned);
		jw_object_close(&w->jw);
		jw_end(&w->jw);
	}
	time_human(ts, sizeof(ts));
	fprintf(w->human, "%s pid %d gone: %s (%zu pinned pages)\n", ts,
		(int)t->pid, t->gone, t->base.npinned);
	fflush(w->human);
}

/* Diff t->base against the process now; the result becomes the new base. */
static int rescan_target(struct watch *w, struct target *t)
{
	struct pi_diff_opts opts = { .nr_swap_devices = w->nswap, .keep_preserved = w->cli->verbose };
	struct pi_snapshot now, next;
	struct pi_diff d;
	const char *gone, *errmsg;
	int r;

	r = snapshot_proc(w, t->pid, true, t->starttime, &t->base, t, &now, &gone, &errmsg);
	if (r == 1) {
		t->gone = gone;
		emit_gone(w, t);
		return 0;
	}
	if (r < 0) {
		if (errmsg)
			pi_warn("%s", errmsg);
		else
			pi_errno(r, "pid %d: scan failed", (int)t->pid);
		return r;
	}
	r = pi_diff_snapshots(&t->base, &now, &opts, &d, &next);
	pi_snapshot_free(&now);
	if (r < 0)
		return r;
	t->scans++;
	for (int k = 0; k < PI_T__MAX; k++) {
		if (k == PI_T_PRESERVED)
			continue;
		t->trans[k] += d.counts[k];
		if (d.counts[k] && (w->fail_mask & (1U << k)))
			w->failed = true;
	}
	t->preserved_last = d.counts[PI_T_PRESERVED];
	for (size_t i = 0; i < d.n; i++)
		emit_run(w, t, &d.r[i], true);
	pi_diff_free(&d);
	pi_snapshot_free(&t->base);
	t->base = next;
	return 0;
}

static void rescan_all(struct watch *w, bool periodic)
{
	size_t ncauses;

	/* "migration" only when no mm_migrate_pages told the reason */
	if (w->migration_seen && !w->migration_reason)
		add_cause(w, "migration");
	ncauses = w->ncauses;

	pi_rdma_snapshot_begin();
	for (size_t i = 0; i < w->nt; i++) {
		struct target *t = &w->t[i];

		if (t->gone)
			continue;
		if (rescan_target(w, t) < 0)
			w->trouble = true;
		if (w->cli->verbose && !t->gone) {
			char hm[16];

			time_human(hm, sizeof(hm));
			fprintf(w->human, "%s pid %d rescan %" PRIu64 " (%s, %s): %zu pinned pages",
				hm, (int)t->pid, t->scans, periodic ? "periodic" : "events",
				t->since_full ? "pinned pages only" : "full", t->base.npinned);
			for (size_t c = 0; c < ncauses; c++)
				fprintf(w->human, "%s%s", c ? "," : "; events: ", w->causes[c]);
			fputc('\n', w->human);
			fflush(w->human);
		}
	}
	pi_rdma_snapshot_end();
	w->ncauses = 0;
	w->migration_seen = w->migration_reason = false;
}

static bool all_gone(const struct watch *w)
{
	for (size_t i = 0; i < w->nt; i++)
		if (!w->t[i].gone)
			return false;
	return true;
}

static void print_start(struct watch *w)
{
	size_t nev = pi_trace_nevents(w->trace);

	if (w->cli->json) {
		struct jsonwrt *j = &w->jw;

		jw_object_open(j, NULL);
		jw_string(j, "type", "start");
		jw_u64(j, "schema", PI_JSON_SCHEMA);
		jw_array_open(j, "events");
		for (size_t i = 0; i < nev; i++)
			jw_string(j, NULL, pi_trace_event_name(w->trace, i));
		jw_array_close(j);
		jw_array_open(j, "pids");
		for (size_t i = 0; i < w->nt; i++)
			jw_i64(j, NULL, w->t[i].pid);
		jw_array_close(j);
		jw_string(j, "source", pi_source_name(w->src->source));
		jw_u64(j, "interval_ms", w->cli->interval_ms);
		jw_object_close(j);
		jw_end(j);
	}
	fprintf(w->human, "events:");
	if (!nev)
		fprintf(w->human, " none (periodic rescans only)");
	for (size_t i = 0; i < nev; i++)
		fprintf(w->human, " %s", pi_trace_event_name(w->trace, i));
	fputc('\n', w->human);
	for (size_t i = 0; i < w->nt; i++) {
		char *comm = pi_escape_text(w->t[i].comm);

		fprintf(w->human, "watching pid %d (%s): %zu pinned or maybe-pinned pages, source %s, "
			"rescan every %.3gs%s\n", (int)w->t[i].pid, comm ? comm : "?",
			w->t[i].base.npinned, pi_source_name(w->src->source),
			w->cli->interval_ms / 1000.0, nev ? " and on events" : "");
		free(comm);
	}
	fflush(w->human);
}

static void json_counts(struct jsonwrt *j, const char *key, const uint64_t *counts)
{
	jw_object_open(j, key);
	for (int k = 0; k < PI_T__MAX; k++)
		jw_u64(j, pi_transition_name((enum pi_transition)k), counts[k]);
	jw_object_close(j);
}

static void print_summary(struct watch *w, double secs)
{
	uint64_t totals[PI_T__MAX] = { 0 }, scans = 0;
	size_t nev = pi_trace_nevents(w->trace);
	struct libscols_table *tb;

	for (size_t i = 0; i < w->nt; i++) {
		w->t[i].trans[PI_T_PRESERVED] = w->t[i].preserved_last;
		for (int k = 0; k < PI_T__MAX; k++)
			totals[k] += w->t[i].trans[k];
		scans += w->t[i].scans;
	}
	if (w->cli->json) {
		struct jsonwrt *j = &w->jw;

		jw_object_open(j, NULL);
		jw_string(j, "type", "summary");
		jw_double(j, "duration_s", secs);
		jw_u64(j, "scans", scans);
		json_counts(j, "transitions", totals);
		jw_object_open(j, "events");
		for (size_t i = 0; i < nev; i++)
			jw_u64(j, pi_trace_event_name(w->trace, i), w->ev_total[i]);
		jw_object_close(j);
		jw_u64(j, "events_lost", w->ev_lost);
		jw_array_open(j, "processes");
		for (size_t i = 0; i < w->nt; i++) {
			const struct target *t = &w->t[i];

			jw_object_open(j, NULL);
			jw_i64(j, "pid", t->pid);
			jw_string(j, "comm", t->comm);
			jw_u64(j, "pinned_pages", t->watched);
			jw_u64(j, "scans", t->scans);
			jw_u64(j, "full_scans", t->full_scans);
			jw_string_or_null(j, "gone", t->gone);
			json_counts(j, "transitions", t->trans);
			jw_object_open(j, "events");
			for (size_t e = 0; e < nev && t->ev; e++)
				jw_u64(j, pi_trace_event_name(w->trace, e), t->ev[e]);
			jw_object_close(j);
			jw_object_close(j);
		}
		jw_array_close(j);
		jw_object_close(j);
		jw_end(j);
	}

	tb = scols_new_table();
	if (!tb)
		return;
	scols_table_enable_raw(tb, w->cli->raw);
	scols_table_enable_noheadings(tb, w->cli->noheadings);
	scols_table_new_column(tb, "PID", 6, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "COMM", 12, 0);
	scols_table_new_column(tb, "PINNED", 6, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "SCANS", 5, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "EVENTS", 6, SCOLS_FL_RIGHT);
	for (int k = 0; k < PI_T__MAX; k++) {
		char name[32];

		snprintf(name, sizeof(name), "%s", pi_transition_name((enum pi_transition)k));
		for (char *c = name; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		scols_table_new_column(tb, name, 5, SCOLS_FL_RIGHT);
	}
	scols_table_new_column(tb, "STATE", 8, 0);
	for (size_t i = 0; i < w->nt; i++) {
		const struct target *t = &w->t[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char buf[32];
		size_t col = 0;

		if (!ln)
			break;
		snprintf(buf, sizeof(buf), "%d", (int)t->pid);
		scols_line_set_data(ln, col++, buf);
		{
			char *comm = pi_escape_text(t->comm);

			scols_line_set_data(ln, col++, comm ? comm : "?");
			free(comm);
		}
		snprintf(buf, sizeof(buf), "%" PRIu64, t->watched);
		scols_line_set_data(ln, col++, buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, t->scans);
		scols_line_set_data(ln, col++, buf);
		{
			uint64_t sum = 0;

			for (size_t e = 0; e < nev && t->ev; e++)
				sum += t->ev[e];
			snprintf(buf, sizeof(buf), "%" PRIu64, sum);
			scols_line_set_data(ln, col++, buf);
		}
		for (int k = 0; k < PI_T__MAX; k++) {
			snprintf(buf, sizeof(buf), "%" PRIu64, t->trans[k]);
			scols_line_set_data(ln, col++, buf);
		}
		scols_line_set_data(ln, col, t->gone ? t->gone : "watched");
	}
	scols_table_set_stream(tb, w->human);
	fprintf(w->human, "\nwatched %.1fs:\n", secs);
	scols_print_table(tb);
	scols_unref_table(tb);

	if (nev) {
		tb = scols_new_table();
		if (!tb)
			return;
		scols_table_enable_raw(tb, w->cli->raw);
		scols_table_enable_noheadings(tb, w->cli->noheadings);
		scols_table_new_column(tb, "EVENT", 30, 0);
		scols_table_new_column(tb, "COUNT", 8, SCOLS_FL_RIGHT);
		for (size_t i = 0; i < nev; i++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			char buf[32];

			if (!ln)
				break;
			scols_line_set_data(ln, 0, pi_trace_event_name(w->trace, i));
			snprintf(buf, sizeof(buf), "%" PRIu64, w->ev_total[i]);
			scols_line_set_data(ln, 1, buf);
		}
		scols_table_set_stream(tb, w->human);
		fputc('\n', w->human);
		scols_print_table(tb);
		scols_unref_table(tb);
		if (w->ev_lost)
			fprintf(w->human, "events lost (buffer overrun): %" PRIu64 "\n", w->ev_lost);
	}
	fflush(w->human);
}

static void watch_free(struct watch *w)
{
	pi_trace_close(w->trace);
	w->trace = NULL;
	for (size_t i = 0; i < w->nt; i++) {
		pi_snapshot_free(&w->t[i].base);
		free(w->t[i].ev);
	}
	free(w->t);
	free(w->ev_total);
}

/* Baselines for every pid; a pid that cannot be read is trouble (exit 2). */
static int take_baselines(struct watch *w)
{
	w->t = calloc(w->cli->npids, sizeof(*w->t));
	if (!w->t)
		return -ENOMEM;
	for (size_t i = 0; i < w->cli->npids; i++) {
		struct target *t = &w->t[w->nt];
		const char *gone, *errmsg;
		uint64_t st = 0;
		int r;

		memset(t, 0, sizeof(*t));
		t->pid = w->cli->pids[i];
		for (size_t k = 0; k < w->nt; k++)
			if (w->t[k].pid == t->pid)
				goto next;
		t->has_starttime = pi_stat_starttime(t->pid, &st) == 0;
		t->starttime = st;
		r = snapshot_proc(w, t->pid, t->has_starttime, st, NULL, t, &t->base, &gone, &errmsg);
		if (r == 1) {
			pi_warn("pid %d: no such process", (int)t->pid);
			return -ESRCH;
		}
		if (r < 0) {
			if (errmsg)
				pi_warn("%s", errmsg);
			else
				pi_errno(r, "pid %d: scan failed", (int)t->pid);
			return r;
		}
		snprintf(t->comm, sizeof(t->comm), "%s", t->base.comm);
		t->watched = t->base.npinned;
		w->nt++;
next:
		;
	}
	return 0;
}

int pi_watch_run(const struct pi_cli *cli, struct pi_sources *src)
{
	struct watch w = { .cli = cli, .src = src };
	struct pi_trace_open_info info;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	struct pollfd fds[MAX_POLLFDS];
	size_t nfds = 0;
	char why[256] = "";
	uint64_t start_ms, end_ms = UINT64_MAX, next_periodic, last_scan, gap;
	bool pending = false;
	int r, rc;

	if (parse_fail_on(cli, &w.fail_mask) < 0)
		return PI_EXIT_USAGE;
	if (cli->bad_pid_arg)
		return PI_EXIT_TROUBLE;
	w.human = cli->json ? stderr : stdout;
	jw_init(&w.jw, stdout, false);
	w.nswap = pi_swap_devices_count();
	if (*src->degraded)
		pi_warn("%s", src->degraded);
	if (!src->pfn_visible)
		pi_warn("watch: PFNs are hidden without CAP_SYS_ADMIN: only present, swapped "
			"and unmapped changes can be seen, not desyncs or migrations");

	/* signals only interrupt ppoll, so the flag is never missed */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!pi_root_is_host()) {
		snprintf(why, sizeof(why), "not used under --root");
	} else {
		r = pi_trace_open(&w.trace, &info, why, sizeof(why));
		if (r == 0) {
			if (info.mounted)
				pi_warn("tracefs was not mounted: mounted it on %s", info.path);
			if (info.stale_removed)
				pi_warn("removed %u stale tracefs instance(s) of earlier pininspect runs",
					info.stale_removed);
		}
	}
	if (!w.trace)
		pi_warn("tracepoints unavailable (%s): rescanning every %.3gs only", why,
			cli->interval_ms / 1000.0);
	w.ev_total = calloc(pi_trace_nevents(w.trace) + 1, sizeof(*w.ev_total));
	if (!w.ev_total) {
		rc = PI_EXIT_TROUBLE;
		goto out;
	}

	r = take_baselines(&w);
	if (r < 0) {
		rc = PI_EXIT_TROUBLE;
		goto out;
	}
	/* events that happened before the baseline explain nothing after it */
	if (w.trace)
		(void)pi_trace_drain(w.trace, 4096, on_event, &w, &w.ev_lost);
	memset(w.ev_total, 0, (pi_trace_nevents(w.trace) + 1) * sizeof(*w.ev_total));
	for (size_t i = 0; i < w.nt; i++) {
		w.t[i].ev = calloc(pi_trace_nevents(w.trace) + 1, sizeof(*w.t[i].ev));
		if (!w.t[i].ev) {
			rc = PI_EXIT_TROUBLE;
			goto out;
		}
	}
	w.ev_lost = 0;
	w.ncauses = 0;
	w.migration_seen = w.migration_reason = false;
	print_start(&w);

	nfds = pi_trace_pollfds(w.trace, fds, MAX_POLLFDS);
	start_ms = last_scan = mono_ms();
	next_periodic = start_ms + cli->interval_ms;
	if (cli->duration_s > 0)
		end_ms = start_ms + (uint64_t)(cli->duration_s * 1000 + 0.5);
	gap = cli->interval_ms < MIN_EVENT_GAP_MS ? cli->interval_ms : MIN_EVENT_GAP_MS;

	while (!stop_signal && !all_gone(&w) && !ferror(stdout)) {
		uint64_t now = mono_ms(), due = next_periodic, wake;
		struct timespec ts;
		int n;

		if (now >= end_ms)
			break;
		if (pending && last_scan + gap < due)
			due = last_scan + gap;
		if (now >= due) {
			uint64_t t0 = now, took;

			rescan_all(&w, !pending);
			now = mono_ms();
			took = now - t0;
			last_scan = now;
			next_periodic = now + cli->interval_ms;
			pending = false;
			/* under an event storm keep scanning below ~20% of a CPU */
			gap = cli->interval_ms < MIN_EVENT_GAP_MS ? cli->interval_ms : MIN_EVENT_GAP_MS;
			if (took * 4 > gap)
				gap = took * 4 < cli->interval_ms ? took * 4 : cli->interval_ms;
			continue;
		}
		wake = due < end_ms ? due : end_ms;
		ts.tv_sec = (time_t)((wake - now) / 1000);
		ts.tv_nsec = (long)((wake - now) % 1000) * 1000000;
		n = ppoll(fds, (nfds_t)nfds, &ts, &orig);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pi_errno(-errno, "poll");
			w.trouble = true;
			break;
		}
		if (n > 0 && w.trace) {
			r = pi_trace_drain(w.trace, DRAIN_PAGES, on_event, &w, &w.ev_lost);
			if (r < 0) {
				pi_errno(r, "reading trace events");
				w.trouble = true;
				break;
			}
			if (r > 0)
				pending = true;
		}
	}
	if (w.trace)
		(void)pi_trace_drain(w.trace, DRAIN_PAGES, on_event, &w, &w.ev_lost);
	/* a last look, so nothing between the last rescan and the end goes unseen */
	if (!w.trouble && !ferror(stdout) && !all_gone(&w))
		rescan_all(&w, true);
	if (stop_signal && cli->verbose)
		fprintf(w.human, "stopped by signal %d\n", (int)stop_signal);
	print_summary(&w, (double)(mono_ms() - start_ms) / 1000.0);
	if (ferror(stdout)) {
		w.trouble = true;
	}
	rc = w.trouble ? PI_EXIT_TROUBLE : w.failed ? PI_EXIT_FINDINGS : PI_EXIT_OK;
out:
	/* the instance goes on every path out of here */
	watch_free(&w);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return rc;
}

/* ---- --save / --diff ---- */

static const struct { uint8_t bit; const char *name; } sp_flag_names[] = {
	{ PI_SP_PRESENT, "present" },
	{ PI_SP_SWAPPED, "swapped" },
	{ PI_SP_HOLDER, "holder" },
};

static void save_page(struct jsonwrt *j, const struct pi_snap_page *sp)
{
	jw_object_open(j, NULL);
	jw_hex(j, "addr", sp->addr);
	if (sp->flags & PI_SP_PFN_KNOWN)
		jw_u64(j, "pfn", sp->pfn);
	else
		jw_null(j, "pfn");
	jw_string(j, "verdict", pi_verdict_name((enum pi_verdict)sp->verdict));
	jw_string(j, "source", pi_source_name((enum pi_source)sp->source));
	if (sp->kind == PI_SP_KIND_UNKNOWN)
		jw_null(j, "kind");
	else
		jw_string(j, "kind", pi_kind_name((enum pi_kind)sp->kind));
	if (sp->pins < 0)
		jw_null(j, "pins");
	else
		jw_i64(j, "pins", sp->pins);
	if (sp->exclusive < 0)
		jw_null(j, "exclusive");
	else
		jw_bool(j, "exclusive", sp->exclusive);
	jw_hex(j, "pagemap", sp->pme);
	jw_array_open(j, "flags");
	for (size_t i = 0; i < ARRAY_SIZE(sp_flag_names); i++)
		if (sp->flags & sp_flag_names[i].bit)
			jw_string(j, NULL, sp_flag_names[i].name);
	if (sp->pme & PM_MMAP_EXCLUSIVE)
		jw_string(j, NULL, "mapped_once");
	jw_array_close(j);
	jw_object_close(j);
}

int pi_save_run(const struct pi_cli *cli, struct pi_sources *src)
{
	struct watch w = { .cli = cli, .src = src };
	_cleanup_free_ char *tmp = NULL;
	struct jsonwrt j;
	char ts[48];
	FILE *f;
	int fd, rc = PI_EXIT_OK;

	if (cli->bad_pid_arg)
		return PI_EXIT_TROUBLE;
	if (*src->degraded)
		pi_warn("%s", src->degraded);
	if (take_baselines(&w) < 0) {
		watch_free(&w);
		return PI_EXIT_TROUBLE;
	}
	/* temp file in the same directory, renamed over FILE: readers never see half */
	if (asprintf(&tmp, "%s.XXXXXX", cli->state_file) < 0) {
		watch_free(&w);
		return PI_EXIT_TROUBLE;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		pi_errno(-errno, "%s", cli->state_file);
		if (fd >= 0)
			close(fd);
		watch_free(&w);
		return PI_EXIT_TROUBLE;
	}
	(void)fchmod(fd, 0644);
	time_rfc3339(ts, sizeof(ts));
	jw_init(&j, f, false);
	jw_object_open(&j, NULL);
	jw_u64(&j, "schema", PI_JSON_SCHEMA);
	jw_string(&j, "type", "pininspect-save");
	jw_string(&j, "time", ts);
	jw_string(&j, "source", pi_source_name(src->source));
	jw_array_open(&j, "processes");
	for (size_t i = 0; i < w.nt; i++) {
		const struct target *t = &w.t[i];

		jw_object_open(&j, NULL);
		jw_i64(&j, "pid", t->pid);
		if (t->has_starttime)
			jw_u64(&j, "starttime", t->starttime);
		else
			jw_null(&j, "starttime");
		jw_string(&j, "comm", t->comm);
		jw_array_open(&j, "pages");
		for (size_t k = 0; k < t->base.n; k++)
			save_page(&j, &t->base.p[k]);
		jw_array_close(&j);
		jw_object_close(&j);
	}
	jw_array_close(&j);
	jw_object_close(&j);
	jw_end(&j);
	if (ferror(f) || fsync(fileno(f)) < 0) {
		pi_errno(-EIO, "%s", tmp);
		rc = PI_EXIT_TROUBLE;
	}
	if (fclose(f) != 0)
		rc = PI_EXIT_TROUBLE;
	if (rc == PI_EXIT_OK && rename(tmp, cli->state_file) < 0) {
		pi_errno(-errno, "rename %s", cli->state_file);
		rc = PI_EXIT_TROUBLE;
	}
	if (rc != PI_EXIT_OK)
		unlink(tmp);
	else
		for (size_t i = 0; i < w.nt; i++) {
			char *comm = pi_escape_text(w.t[i].comm);

			fprintf(cli->json ? stderr : stdout, "pid %d (%s): %zu pinned or maybe-pinned "
				"pages saved to %s\n", (int)w.t[i].pid, comm ? comm : "?",
				w.t[i].base.npinned, cli->state_file);
			free(comm);
		}
	watch_free(&w);
	return rc;
}

/*
 * A small JSON reader for exactly the --save format: unknown keys are
 * skipped, anything malformed is an error with its byte offset.
 */
struct jp {
	const char *s, *p, *end;
	char err[160];
};

static int jp_fail(struct jp *j, const char *what)
{
	if (!*j->err)
		snprintf(j->err, sizeof(j->err), "byte %zu: %s", (size_t)(j->p - j->s), what);
	return -EINVAL;
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool jp_peek(struct jp *j, char c)
{
	jp_ws(j);
	return j->p < j->end && *j->p == c;
}

static int jp_expect(struct jp *j, char c)
{
	char msg[32];

	if (!jp_peek(j, c)) {
		snprintf(msg, sizeof(msg), "expected '%c'", c);
		return jp_fail(j, msg);
	}
	j->p++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* a string into buf (truncated to len - 1); buf may be NULL to skip */
static int jp_string(struct jp *j, char *buf, size_t len)
{
	size_t o = 0;

	if (jp_expect(j, '"') < 0)
		return -EINVAL;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;

		if (c < 0x20)
			return jp_fail(j, "control byte in a string");
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			c = (unsigned char)*j->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned int v = 0;

				for (int i = 0; i < 4; i++) {
					int h = j->p < j->end ? hexval(*j->p) : -1;

					if (h < 0)
						return jp_fail(j, "bad \\u escape");
					v = v << 4 | (unsigned int)h;
					j->p++;
				}
				/* only our own \u00XX for control bytes matters here */
				c = v < 0x80 ? (unsigned char)v : '?';
				break;
			}
			default:
				return jp_fail(j, "bad escape");
			}
		}
		if (buf && o + 1 < len)
			buf[o++] = (char)c;
	}
	if (buf && len)
		buf[o] = '\0';
	return jp_expect(j, '"');
}

static int jp_u64(struct jp *j, uint64_t *ret)
{
	uint64_t v = 0;
	const char *start;

	jp_ws(j);
	start = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned int d = (unsigned int)(*j->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return jp_fail(j, "number out of range");
		v = v * 10 + d;
		j->p++;
	}
	if (j->p == start)
		return jp_fail(j, "expected a number");
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E' || *j->p == '-'))
		return jp_fail(j, "expected a whole number");
	*ret = v;
	return 0;
}

static bool jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	jp_ws(j);
	if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lit, n)) {
		j->p += n;
		return true;
	}
	return false;
}

/* true, false or null (-1) */
static int jp_tristate(struct jp *j, int *ret)
{
	if (jp_literal(j, "true"))
		*ret = 1;
	else if (jp_literal(j, "false"))
		*ret = 0;
	else if (jp_literal(j, "null"))
		*ret = -1;
	else
		return jp_fail(j, "expected true, false or null");
	return 0;
}

static int jp_hex(struct jp *j, uint64_t *ret)
{
	char buf[24];

	if (jp_string(j, buf, sizeof(buf)) < 0)
		return -EINVAL;
	if (strncmp(buf, "0x", 2) || pi_parse_u64(buf + 2, 16, ret) < 0)
		return jp_fail(j, "expected a \"0x...\" address");
	return 0;
}

static int jp_skip(struct jp *j, int depth)
{
	uint64_t v;
	int t;

	if (depth > 32)
		return jp_fail(j, "nested too deep");
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "unexpected end of file");
	switch (*j->p) {
	case '"':
		return jp_string(j, NULL, 0);
	case '{':
		j->p++;
		if (jp_peek(j, '}'))
			return jp_expect(j, '}');
		do {
			if (jp_string(j, NULL, 0) < 0 || jp_expect(j, ':') < 0 || jp_skip(j, depth + 1) < 0)
				return -EINVAL;
		} while (jp_peek(j, ',') && j->p++);
		return jp_expect(j, '}');
	case '[':
		j->p++;
		if (jp_peek(j, ']'))
			return jp_expect(j, ']');
		do {
			if (jp_skip(j, depth + 1) < 0)
				return -EINVAL;
		} while (jp_peek(j, ',') && j->p++);
		return jp_expect(j, ']');
	case '-':
		j->p++;
		return jp_u64(j, &v);
	default:
		if (*j->p >= '0' && *j->p <= '9') {
			/* tolerate fractions in fields we skip (timestamps) */
			if (jp_u64(j, &v) < 0) {
				*j->err = '\0';
				while (j->p < j->end && strchr("0123456789.eE+-", *j->p))
					j->p++;
			}
			return 0;
		}
		return jp_tristate(j, &t);
	}
}

/* iterate "key": value pairs of an object; fn parses the value */
typedef int (*jp_member_fn)(struct jp *j, const char *key, void *ud);

static int jp_object(struct jp *j, jp_member_fn fn, void *ud)
{
	if (jp_expect(j, '{') < 0)
		return -EINVAL;
	if (jp_peek(j, '}'))
		return jp_expect(j, '}');
	do {
		char key[32];

		if (jp_string(j, key, sizeof(key)) < 0 || jp_expect(j, ':') < 0)
			return -EINVAL;
		if (fn(j, key, ud) < 0)
			return -EINVAL;
	} while (jp_peek(j, ',') && j->p++);
	return jp_expect(j, '}');
}

typedef int (*jp_elem_fn)(struct jp *j, void *ud);

static int jp_array(struct jp *j, jp_elem_fn fn, void *ud)
{
	if (jp_expect(j, '[') < 0)
		return -EINVAL;
	if (jp_peek(j, ']'))
		return jp_expect(j, ']');
	do {
		if (fn(j, ud) < 0)
			return -EINVAL;
	} while (jp_peek(j, ',') && j->p++);
	return jp_expect(j, ']');
}

struct saved {
	struct pi_snapshot *s;
	size_t n, cap;
	uint64_t schema;
	bool have_schema;
	char type[32];
	char source[16];
};

struct page_seen {
	struct pi_snap_page sp;
	bool addr, verdict;
};

static int page_flag(struct jp *j, void *ud)
{
	struct pi_snap_page *sp = ud;
	char name[24];

	if (jp_string(j, name, sizeof(name)) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(sp_flag_names); i++)
		if (!strcmp(name, sp_flag_names[i].name))
			sp->flags |= sp_flag_names[i].bit;
	return 0;
}

static int page_member(struct jp *j, const char *key, void *ud)
{
	struct page_seen *ps = ud;
	struct pi_snap_page *sp = &ps->sp;

	if (!strcmp(key, "addr")) {
		ps->addr = true;
		if (jp_hex(j, &sp->addr) < 0)
			return -EINVAL;
		if (sp->addr & 4095)
			return jp_fail(j, "address not page aligned");
		return 0;
	}
	if (!strcmp(key, "pfn")) {
		if (jp_literal(j, "null"))
			return 0;
		if (jp_u64(j, &sp->pfn) < 0)
			return -EINVAL;
		sp->flags |= PI_SP_PFN_KNOWN;
		return 0;
	}
	if (!strcmp(key, "pins")) {
		uint64_t v;

		if (jp_literal(j, "null"))
			return 0;
		if (jp_u64(j, &v) < 0)
			return -EINVAL;
		sp->pins = v > INT32_MAX ? INT32_MAX : (int32_t)v;
		return 0;
	}
	if (!strcmp(key, "verdict") || !strcmp(key, "source")) {
		char name[24];

		if (jp_string(j, name, sizeof(name)) < 0)
			return -EINVAL;
		if (!strcmp(key, "source")) {
			enum pi_source s;

			if (pi_source_from_name(name, &s) < 0)
				return jp_fail(j, "unknown source");
			sp->source = (uint8_t)s;
			return 0;
		}
		for (int v = 0; v < PI_V__MAX; v++)
			if (!strcmp(name, pi_verdict_name((enum pi_verdict)v))) {
				sp->verdict = (uint8_t)v;
				ps->verdict = true;
				return 0;
			}
		return jp_fail(j, "unknown verdict");
	}
	if (!strcmp(key, "kind")) {
		char name[24];
		enum pi_kind k;

		if (jp_literal(j, "null"))
			return 0;
		if (jp_string(j, name, sizeof(name)) < 0)
			return -EINVAL;
		if (pi_kind_from_name(name, &k) < 0)
			return jp_fail(j, "unknown kind");
		sp->kind = (uint8_t)k;
		return 0;
	}
	if (!strcmp(key, "exclusive")) {
		int t;

		if (jp_tristate(j, &t) < 0)
			return -EINVAL;
		sp->exclusive = (int8_t)t;
		return 0;
	}
	if (!strcmp(key, "pagemap"))
		return jp_hex(j, &sp->pme);
	if (!strcmp(key, "flags"))
		return jp_array(j, page_flag, sp);
	return jp_skip(j, 0);
}

static int page_elem(struct jp *j, void *ud)
{
	struct pi_snapshot *s = ud;
	/* files written before kinds were recorded have none: unknown */
	struct page_seen ps = { .sp = { .pins = -1, .exclusive = -1, .kind = PI_SP_KIND_UNKNOWN } };

	if (jp_object(j, page_member, &ps) < 0)
		return -EINVAL;
	if (!ps.addr || !ps.verdict)
		return jp_fail(j, "page without \"addr\" or \"verdict\"");
	if (pi_snapshot_add(s, &ps.sp) < 0)
		return jp_fail(j, "out of memory");
	return 0;
}

static int proc_member(struct jp *j, const char *key, void *ud)
{
	struct pi_snapshot *s = ud;
	uint64_t v;

	if (!strcmp(key, "pid")) {
		if (jp_u64(j, &v) < 0)
			return -EINVAL;
		if (v == 0 || v > INT32_MAX)
			return jp_fail(j, "pid out of range");
		s->pid = (pid_t)v;
		return 0;
	}
	if (!strcmp(key, "starttime")) {
		if (jp_literal(j, "null"))
			return 0;
		if (jp_u64(j, &s->starttime) < 0)
			return -EINVAL;
		s->has_starttime = true;
		return 0;
	}
	if (!strcmp(key, "comm"))
		return jp_string(j, s->comm, sizeof(s->comm));
	if (!strcmp(key, "pages"))
		return jp_array(j, page_elem, s);
	return jp_skip(j, 0);
}

static int proc_elem(struct jp *j, void *ud)
{
	struct saved *sv = ud;
	struct pi_snapshot s = { 0 };

	if (jp_object(j, proc_member, &s) < 0) {
		pi_snapshot_free(&s);
		return -EINVAL;
	}
	if (!s.pid) {
		pi_snapshot_free(&s);
		return jp_fail(j, "process without \"pid\"");
	}
	if (pi_grow((void **)&sv->s, &sv->cap, sv->n + 1, sizeof(*sv->s)) < 0) {
		pi_snapshot_free(&s);
		return jp_fail(j, "out of memory");
	}
	pi_snapshot_sort(&s);
	sv->s[sv->n++] = s;
	return 0;
}

static int top_member(struct jp *j, const char *key, void *ud)
{
	struct saved *sv = ud;

	if (!strcmp(key, "schema")) {
		sv->have_schema = true;
		return jp_u64(j, &sv->schema);
	}
	if (!strcmp(key, "type"))
		return jp_string(j, sv->type, sizeof(sv->type));
	if (!strcmp(key, "source"))
		return jp_string(j, sv->source, sizeof(sv->source));
	if (!strcmp(key, "processes"))
		return jp_array(j, proc_elem, sv);
	return jp_skip(j, 0);
}

static void saved_free(struct saved *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		pi_snapshot_free(&sv->s[i]);
	free(sv->s);
}

static int load_saved(const char *path, struct saved *sv)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	struct jp j = { 0 };
	FILE *f = fopen(path, "re");

	memset(sv, 0, sizeof(*sv));
	if (!f) {
		pi_errno(-errno, "%s", path);
		return -errno;
	}
	for (;;) {
		size_t got;

		if (len + 65536 + 1 > cap) {
			char *n = realloc(buf, cap = (len + 65536) * 2 + 1);

			if (!n) {
				fclose(f);
				return -ENOMEM;
			}
			buf = n;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		pi_errno(-EIO, "%s", path);
		return -EIO;
	}
	fclose(f);
	j.s = j.p = buf;
	j.end = buf + len;
	if (jp_object(&j, top_member, sv) == 0) {
		jp_ws(&j);
		if (j.p != j.end)
			jp_fail(&j, "trailing data after the document");
	}
	if (!*j.err && (!sv->have_schema || strcmp(sv->type, "pininspect-save")))
		snprintf(j.err, sizeof(j.err), "not a pininspect --save file");
	else if (!*j.err && sv->schema != PI_JSON_SCHEMA)
		snprintf(j.err, sizeof(j.err), "schema %" PRIu64 ", this pininspect reads schema %d",
			 sv->schema, PI_JSON_SCHEMA);
	if (*j.err) {
		pi_warn("%s: not a valid pininspect --save file: %s", path, j.err);
		saved_free(sv);
		return -EINVAL;
	}
	return 0;
}

int pi_diff_run(const struct pi_cli *cli, struct pi_sources *src)
{
	struct watch w = { .cli = cli, .src = src };
	struct saved sv;
	uint64_t totals[PI_T__MAX] = { 0 };
	int rc = PI_EXIT_OK;

	if (parse_fail_on(cli, &w.fail_mask) < 0)
		return PI_EXIT_USAGE;
	if (load_saved(cli->state_file, &sv) < 0)
		return PI_EXIT_TROUBLE;
	if (cli->bad_pid_arg)
		rc = PI_EXIT_TROUBLE;
	w.human = cli->json ? stderr : stdout;
	jw_init(&w.jw, stdout, false);
	w.nswap = pi_swap_devices_count();
	if (*src->degraded)
		pi_warn("%s", src->degraded);
	if (*sv.source && strcmp(sv.source, pi_source_name(src->source)))
		pi_warn("%s was saved with source %s, now %s is used: pin states may differ",
			cli->state_file, sv.source, pi_source_name(src->source));
	w.t = calloc(cli->npids, sizeof(*w.t));
	if (!w.t) {
		saved_free(&sv);
		return PI_EXIT_TROUBLE;
	}

	for (size_t i = 0; i < cli->npids; i++) {
		struct pi_diff_opts opts = { .nr_swap_devices = w.nswap, .keep_preserved = cli->verbose };
		struct target *t = &w.t[w.nt];
		struct pi_snapshot *old = NULL, now;
		struct pi_diff d;
		const char *gone, *errmsg;
		int r;

		for (size_t k = 0; k < sv.n; k++)
			if (sv.s[k].pid == cli->pids[i])
				old = &sv.s[k];
		if (!old) {
			pi_warn("pid %d: not recorded in %s", (int)cli->pids[i], cli->state_file);
			rc = PI_EXIT_TROUBLE;
			continue;
		}
		memset(t, 0, sizeof(*t));
		w.nt++;
		t->pid = old->pid;
		t->starttime = old->starttime;
		t->has_starttime = old->has_starttime;
		snprintf(t->comm, sizeof(t->comm), "%s", old->comm);
		t->watched = old->npinned;
		r = snapshot_proc(&w, t->pid, old->has_starttime, old->starttime, old, NULL, &now, &gone,
				  &errmsg);
		if (r == 1) {
			/* a reused pid is another process: its pages say nothing */
			t->gone = gone;
			t->base.npinned = old->npinned;
			emit_gone(&w, t);
			continue;
		}
		if (r < 0) {
			if (errmsg)
				pi_warn("%s", errmsg);
			else
				pi_errno(r, "pid %d: scan failed", (int)t->pid);
			rc = PI_EXIT_TROUBLE;
			continue;
		}
		r = pi_diff_snapshots(old, &now, &opts, &d, NULL);
		pi_snapshot_free(&now);
		if (r < 0) {
			pi_errno(r, "pid %d: diff", (int)t->pid);
			rc = PI_EXIT_TROUBLE;
			continue;
		}
		t->scans = 1;
		for (int k = 0; k < PI_T__MAX; k++) {
			t->trans[k] = d.counts[k];
			totals[k] += d.counts[k];
			if (k != PI_T_PRESERVED && d.counts[k] && (w.fail_mask & (1U << k)))
				w.failed = true;
		}
		t->preserved_last = d.counts[PI_T_PRESERVED];
		for (size_t k = 0; k < d.n; k++)
			emit_run(&w, t, &d.r[k], false);
		pi_diff_free(&d);
	}

	if (cli->json) {
		struct jsonwrt *j = &w.jw;

		jw_object_open(j, NULL);
		jw_string(j, "type", "summary");
		json_counts(j, "transitions", totals);
		jw_array_open(j, "processes");
		for (size_t i = 0; i < w.nt; i++) {
			jw_object_open(j, NULL);
			jw_i64(j, "pid", w.t[i].pid);
			jw_string(j, "comm", w.t[i].comm);
			jw_u64(j, "pinned_pages", w.t[i].watched);
			jw_string_or_null(j, "gone", w.t[i].gone);
			json_counts(j, "transitions", w.t[i].trans);
			jw_object_close(j);
		}
		jw_array_close(j);
		jw_object_close(j);
		jw_end(j);
	}
	for (size_t i = 0; i < w.nt; i++) {
		const struct target *t = &w.t[i];
		char *comm = pi_escape_text(t->comm);
		bool first = true;

		fprintf(w.human, "pid %d (%s): %" PRIu64 " pinned pages recorded", (int)t->pid,
			comm ? comm : "?", t->watched);
		free(comm);
		if (t->gone) {
			fprintf(w.human, ", process gone (%s)\n", t->gone);
			continue;
		}
		for (int k = 0; k < PI_T__MAX; k++) {
			if (!t->trans[k])
				continue;
			fprintf(w.human, "%s %" PRIu64 " %s", first ? ":" : ",", t->trans[k],
				pi_transition_name((enum pi_transition)k));
			first = false;
		}
		fputc('\n', w.human);
	}
	fflush(w.human);
	if (ferror(stdout))
		rc = PI_EXIT_TROUBLE;
	if (rc == PI_EXIT_OK && w.failed)
		rc = PI_EXIT_FINDINGS;
	saved_free(&sv);
	free(w.t);
	return rc;
}
