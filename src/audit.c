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
#include "jsonwrt.h"
#include "pininspect/audit.h"
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
};

struct audit_finding {
	size_t proc;		/* index in procs */
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
};

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int pi_audit_list_checks(FILE *out)
{
	struct libscols_table *tb = scols_new_table();
	int r = -ENOMEM;

	if (!tb)
		return -ENOMEM;
	scols_table_set_stream(tb, out);
	if (!scols_table_new_column(tb, "ID", 20, 0) ||
	    !scols_table_new_column(tb, "SEVERITY", 8, 0) ||
	    !scols_table_new_column(tb, "NEEDS", 10, 0) ||
	    !scols_table_new_column(tb, "DESCRIPTION", 40, 0))
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
		    scols_line_set_data(ln, 3, ci->description))
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
	caps->longterm_known = au->src->source == PI_SRC_KPAGEPIN ||
		(au->src->source == PI_SRC_BPF && pi_pinsrc_bpf_reports_pinnable(au->src->pinsrc) > 0);
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
	switch (r) {
	case -ENOENT:
	case -ESRCH:
		pi_warn("pid %d: no such process", (int)pid);
		break;
	case -EACCES:
	case -EPERM:
		pi_warn("pid %d: cannot read its maps or pagemap: %s (another user's "
			"process needs root or CAP_SYS_PTRACE)", (int)pid, strerror(-r));
		break;
	case -EINVAL:
		if (bad_line)
			pi_warn("pid %d: /proc/%d/maps line %zu: not a maps line", (int)pid,
				(int)pid, bad_line);
		else
			pi_warn("pid %d: /proc/%d/status: unexpected format", (int)pid, (int)pid);
		break;
	default:
		pi_errno(r, "pid %d", (int)pid);
	}
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
	r = pi_scan_proc(&p, &ctx, pi_audit_page, &a);
	if (r == 0)
		r = pi_audit_proc_finish(&a);
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
	if (r == -ENODATA) {
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
	for (size_t i = 0; i < a.n; i++) {
		struct audit_finding *af;

		if (pi_grow((void **)&au->finds, &au->finds_cap, au->nfinds + 1,
			    sizeof(*au->finds)) < 0) {
			r = -ENOMEM;
			goto out;
		}
		af = &au->finds[au->nfinds++];
		af->proc = pidx;
		af->f = a.f[i];
		au->count[a.f[i].check]++;
	}
out:
	pi_audit_proc_free(&a);
	pi_proc_close(&p);
	return r;
}

static int audit_walk(struct audit *au)
{
	const struct pi_cli *cli = au->cli;
	int r;

	for (size_t i = 0; i < cli->npids; i++) {
		pid_t pid = cli->pids[i];

		au->candidates++;
		if (cli->all) {
			r = can_hold_pins(pid);
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
	if (au->unreadable)
		pi_warn("%zu process(es) could not be checked for pins (their fd directory "
			"needs root or CAP_SYS_PTRACE)", au->unreadable);
	return 0;
}

/* ---- output ---- */

static enum pi_severity finding_severity(const struct audit_finding *af)
{
	return pi_check_info(af->f.check)->severity;
}

static size_t audited(const struct audit *au)
{
	return au->nprocs - au->ngone;
}

static int print_table(struct audit *au, FILE *out)
{
	static const char *const cols[] = { "PID", "COMM", "CHECK", "SEVERITY", "START", "END",
					    "PAGES", "MESSAGE" };
	static const int flags[] = { SCOLS_FL_RIGHT, 0, 0, 0, SCOLS_FL_RIGHT, SCOLS_FL_RIGHT,
				     SCOLS_FL_RIGHT, 0 };
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
			const struct audit_proc *ap = &au->procs[af->proc];
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			char buf[7][512];

			if (!ln) {
				r = -ENOMEM;
				break;
			}
			snprintf(buf[0], sizeof(buf[0]), "%d", (int)ap->pid);
			snprintf(buf[1], sizeof(buf[1]), "%s", ap->comm);
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
			/*
			 * No pi_escape_text() here: libsmartcols encodes control
			 * bytes, invalid UTF-8 and an ambiguous "\\x" itself, so
			 * escaping first would show a backslash as \x5cx5c.
			 */
			for (size_t c = 0; c < 7; c++)
				if (scols_line_set_data(ln, c, buf[c]))
					r = -ENOMEM;
			pi_finding_message(&af->f, buf[0], sizeof(buf[0]));
			if (scols_line_set_data(ln, 7, buf[0]))
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
		const struct audit_proc *ap = &au->procs[af->proc];
		char msg[512];

		jw_object_open(&w, NULL);
		jw_i64(&w, "pid", ap->pid);
		jw_string(&w, "comm", ap->comm);
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
		pi_finding_message(&af->f, msg, sizeof(msg));
		jw_string(&w, "message", msg);
		jw_string_or_null(&w, "holder", *af->f.holder ? af->f.holder : NULL);
		jw_string(&w, "hint", pi_check_info(af->f.check)->hint);
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
		jw_object_close(&w);
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
	jw_object_close(&w);
	jw_object_close(&w);
	jw_end(&w);
}

static void prom_family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* one sample per audited process; label values escaped for the exposition format */
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
	if (au.trouble)
		return PI_EXIT_TROUBLE;
	return failing ? PI_EXIT_FINDINGS : PI_EXIT_OK;
}
