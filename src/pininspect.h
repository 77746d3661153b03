/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_CLI_H
#define PININSPECT_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "pininspect/scan.h"
#include "pininspect/probe.h"

/* DESIGN section 8 */
enum {
	PI_EXIT_OK = 0,
	PI_EXIT_FINDINGS = 1,
	PI_EXIT_TROUBLE = 2,
	PI_EXIT_USAGE = 64,
};

#define PI_JSON_SCHEMA 1

enum pi_mode {
	PI_MODE_REPORT,
	PI_MODE_PROBE,
	PI_MODE_LIST_COLUMNS,
	PI_MODE_WATCH,		/* src/watch.c */
	PI_MODE_SAVE,		/* src/watch.c: --save FILE */
	PI_MODE_DIFF,		/* src/watch.c: --diff FILE */
	PI_MODE_AUDIT,		/* src/audit.c */
	PI_MODE_LIST_CHECKS,	/* src/audit.c */
	PI_MODE_MAP,		/* src/map.c: system-wide pin map */
};

#define PI_MAX_COLUMNS 32

struct pi_sources;

struct pi_cli {
	enum pi_mode mode;
	bool json, raw, noheadings, bytes, pages;
	bool anon_only;
	bool no_pagemap_scan;
	bool source_forced;
	enum pi_source source;
	const char *columns;		/* -o */
	const char *root;
	const char **commands;		/* -C NAME, repeatable */
	size_t ncommands;
	pid_t *pids;
	size_t npids, pids_cap;
	bool bad_pid_arg;
	bool all;			/* --all: every process that can hold pins */
	bool verbose;
	/* watch */
	unsigned int interval_ms;	/* --watch[=SECS], default 1000 */
	double duration_s;		/* --duration, 0 = until signal or targets exit */
	const char *fail_on;		/* watch/diff: transitions; audit: severity */
	const char *state_file;		/* --save / --diff FILE */
	/* audit */
	const char *checks;		/* --check=ID,... */
	const char *skips;		/* --skip=ID,... */
	const char *format;		/* --format=table|json|prometheus */
	const char *output_file;	/* --output-file (atomic write) */
	int64_t memlock_headroom_kib;	/* --memlock-headroom, -1 = 10% of the limit or 1 MiB */
	/* map */
	const char *pfn_range;		/* --pfn-range=START-END */
	int node;			/* --node, -1 = all */
	const char *zone;		/* --zone=NAME */
	long memory_block;		/* --memory-block, -1 = all */
	bool cma;			/* --cma */
	/* kernel side */
	bool load_module;		/* --load-module[=PATH] */
	const char *module_path;	/* NULL: look kpagepin up by name */
};

/* Modes other than the one-shot report; each returns an exit status. */
int pi_watch_run(const struct pi_cli *cli, struct pi_sources *src);
int pi_save_run(const struct pi_cli *cli, struct pi_sources *src);
int pi_diff_run(const struct pi_cli *cli, struct pi_sources *src);
int pi_audit_run(const struct pi_cli *cli, struct pi_sources *src);
int pi_audit_list_checks(const struct pi_cli *cli, FILE *out);
int pi_map_run(const struct pi_cli *cli, struct pi_sources *src);
/* pids of every process, for --all (libproc2 on the host, a walk under --root) */
int pi_procsel_all(pid_t **pids, size_t *n, size_t *cap);

/* Sources opened once for the whole run */
struct pi_sources {
	struct pi_probe probe;
	enum pi_source source;		/* what verdicts come from */
	struct pi_pinsrc *pinsrc;	/* exact source or NULL */
	struct pi_kpage_file *kpageflags;
	bool pfn_visible;
	char degraded[512];		/* one line: what is missing and why */
};

int pi_sources_open(const struct pi_cli *cli, struct pi_sources *ret);
void pi_sources_close(struct pi_sources *s);
void pi_sources_names(const struct pi_sources *s, const char **names, size_t *n);
/* the verdict source reports KPP_F_LONGTERM_PINNABLE: kpagepin, bpf once it located the zone bits */
bool pi_sources_longterm_known(const struct pi_sources *s);

/* procsel.c: add the pids of processes named NAME (libproc2) */
int pi_procsel_by_command(const char *name, pid_t **pids, size_t *n, size_t *cap);

/* output.c */
struct pi_report;
struct pi_report *pi_report_new(const struct pi_cli *cli, const struct pi_sources *src);
int pi_report_begin_proc(struct pi_report *rep, const struct pi_proc *p);
int pi_report_page(const struct pi_page *pg, void *report);
int pi_report_run(const struct pi_page *first, uint64_t npages, void *report);
void pi_report_scan_mode(const struct pi_report *rep, struct pi_scan_ctx *ctx);
int pi_report_end_proc(struct pi_report *rep, const struct pi_proc *p, const struct pi_scan_ctx *ctx);
/*
 * The scan of the current process stopped early (exit, exec, a truncated
 * file): end_proc marks it incomplete, with why, so that counts of the part
 * read are not taken for the whole process.
 */
void pi_report_proc_incomplete(struct pi_report *rep, const char *why);
int pi_report_finish(struct pi_report *rep);
void pi_report_free(struct pi_report *rep);
int pi_list_columns(FILE *out);
int pi_probe_print(const struct pi_probe *pr, bool json, FILE *out);

/* one clear line for a process that pi_proc_open() could not open */
void pi_warn_proc_error(pid_t pid, int err, size_t bad_maps_line);
void pi_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pi_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
