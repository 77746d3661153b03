// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pininspect: which of a process's pages are pinned for DMA, and did the
 * kernel keep their mappings?
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pininspect.h"
#include "pininspect/module.h"
#include "pininspect/root.h"
#include "bpf/pinsrc-bpf.h"
#include "pininspect/util.h"

const char *argp_program_version = PACKAGE_NAME " " PACKAGE_VERSION;

enum {
	OPT_LIST_COLUMNS = 0x100,
	OPT_PAGES,
	OPT_ROOT,
	OPT_SOURCE,
	OPT_PROBE,
	OPT_NO_PAGEMAP_SCAN,
	OPT_ANON_ONLY,
	OPT_WATCH,
	OPT_DURATION,
	OPT_FAIL_ON,
	OPT_SAVE,
	OPT_DIFF,
	OPT_AUDIT,
	OPT_ALL,
	OPT_CHECK,
	OPT_SKIP,
	OPT_LIST_CHECKS,
	OPT_FORMAT,
	OPT_OUTPUT_FILE,
	OPT_MAP,
	OPT_PFN_RANGE,
	OPT_NODE,
	OPT_ZONE,
	OPT_MEMORY_BLOCK,
	OPT_CMA,
	OPT_MEMLOCK_HEADROOM,
	OPT_LOAD_MODULE,
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Selection:", 1 },
	{ "command", 'C', "NAME", 0, "inspect processes named NAME (repeatable)", 1 },
	{ "source", OPT_SOURCE, "NAME", 0,
	  "pin source: kpagepin, bpf, io_uring or none (default: best available)", 1 },
	{ "anon-only", OPT_ANON_ONLY, NULL, 0, "only anonymous pages (default: also shmem, hugetlb and private file pages)", 1 },
	{ "root", OPT_ROOT, "DIR", 0, "read /proc and /sys under DIR (fixture trees)", 1 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "pages", OPT_PAGES, NULL, 0, "list pages one by one instead of runs", 2 },
	{ "output", 'o', "LIST", 0, "columns to print; +LIST appends to the defaults", 2 },
	{ "json", 'J', NULL, 0, "JSON document (schema 1)", 2 },
	{ "raw", 'r', NULL, 0, "raw table, no alignment or summary", 2 },
	{ "noheadings", 'n', NULL, 0, "no table headings or summary", 2 },
	{ "bytes", 'b', NULL, 0, "sizes in bytes", 2 },
	{ "list-columns", OPT_LIST_COLUMNS, NULL, 0, "list the columns and exit", 2 },
	{ NULL, 0, NULL, 0, "Watch (mapping transitions of pinned pages):", 3 },
	{ "watch", OPT_WATCH, "SECS", OPTION_ARG_OPTIONAL,
	  "rescan on mm tracepoint events and every SECS (default 1)", 3 },
	{ "duration", OPT_DURATION, "SECS", 0, "end the watch after SECS", 3 },
	{ "fail-on", OPT_FAIL_ON, "LIST", 0,
	  "watch/diff: exit 1 if one of these transitions happened (desynced,unmapped,...); "
	  "audit: exit 1 on findings at or above this severity (default warning)", 3 },
	{ "save", OPT_SAVE, "FILE", 0, "record pinned pages to FILE (JSON)", 3 },
	{ "diff", OPT_DIFF, "FILE", 0, "classify the pages recorded in FILE now", 3 },
	{ "verbose", 'v', NULL, 0, "watch: also print rescans and preserved pages", 3 },
	{ NULL, 0, NULL, 0, "Audit:", 4 },
	{ "audit", OPT_AUDIT, NULL, 0, "run the named checks (see --list-checks)", 4 },
	{ "all", OPT_ALL, NULL, 0, "every process that can hold pins", 4 },
	{ "check", OPT_CHECK, "IDS", 0, "only these checks", 4 },
	{ "skip", OPT_SKIP, "IDS", 0, "not these checks", 4 },
	{ "list-checks", OPT_LIST_CHECKS, NULL, 0, "list the audit checks with a remediation hint and exit (-J: JSON)", 4 },
	{ "format", OPT_FORMAT, "FMT", 0, "audit and map output: table, json or prometheus", 4 },
	{ "output-file", OPT_OUTPUT_FILE, "FILE", 0,
	  "write the audit to FILE atomically (temp file + rename)", 4 },
	{ "memlock-headroom", OPT_MEMLOCK_HEADROOM, "KIB", 0,
	  "memlock-headroom check and --map warning: under KIB of RLIMIT_MEMLOCK left "
	  "(default 10% of the limit, at most 1 MiB)", 4 },
	{ NULL, 0, NULL, 0, "System-wide pin map:", 5 },
	{ "map", OPT_MAP, NULL, 0, "map pinned pages by PFN to their owners (needs an exact source)", 5 },
	{ "pfn-range", OPT_PFN_RANGE, "START-END", 0, "only PFNs in [START, END)", 5 },
	{ "node", OPT_NODE, "N", 0, "only NUMA node N", 5 },
	{ "zone", OPT_ZONE, "NAME", 0, "only zone NAME (dma, dma32, normal, highmem, movable, device)", 5 },
	{ "memory-block", OPT_MEMORY_BLOCK, "N", 0, "only memory block N (/sys/devices/system/memory)", 5 },
	{ "cma", OPT_CMA, NULL, 0, "only CMA areas (/sys/kernel/mm/cma)", 5 },
	{ NULL, 0, NULL, 0, "Other:", 6 },
	{ "probe", OPT_PROBE, NULL, 0, "report what this kernel offers and exit", 3 },
	{ "load-module", OPT_LOAD_MODULE, "PATH", OPTION_ARG_OPTIONAL,
	  "insert the kpagepin module (PATH, or the one installed for this kernel) first", 3 },
	{ "no-pagemap-scan", OPT_NO_PAGEMAP_SCAN, NULL, 0,
	  "read pagemap entry by entry even where PAGEMAP_SCAN exists", 3 },
	{ 0 }
};

/*
 * Options that mean something in some modes only. Given in another mode they
 * would be ignored without a word, so they are a usage error there.
 */
#define MODE(m) (1u << (m))
static const struct mode_opt {
	int key;
	const char *name;
	unsigned int modes;
	const char *needs;
} mode_opts[] = {
	{ OPT_ALL, "--all", MODE(PI_MODE_AUDIT), "--audit" },
	{ OPT_CHECK, "--check", MODE(PI_MODE_AUDIT), "--audit" },
	{ OPT_SKIP, "--skip", MODE(PI_MODE_AUDIT), "--audit" },
	{ OPT_OUTPUT_FILE, "--output-file", MODE(PI_MODE_AUDIT), "--audit" },
	{ OPT_MEMLOCK_HEADROOM, "--memlock-headroom", MODE(PI_MODE_AUDIT) | MODE(PI_MODE_MAP),
	  "--audit or --map" },
	{ OPT_FORMAT, "--format", MODE(PI_MODE_AUDIT) | MODE(PI_MODE_MAP), "--audit or --map" },
	{ OPT_FAIL_ON, "--fail-on", MODE(PI_MODE_AUDIT) | MODE(PI_MODE_WATCH) | MODE(PI_MODE_DIFF),
	  "--audit, --watch or --diff" },
	{ OPT_DURATION, "--duration", MODE(PI_MODE_WATCH), "--watch" },
	{ OPT_PFN_RANGE, "--pfn-range", MODE(PI_MODE_MAP), "--map" },
	{ OPT_NODE, "--node", MODE(PI_MODE_MAP), "--map" },
	{ OPT_ZONE, "--zone", MODE(PI_MODE_MAP), "--map" },
	{ OPT_MEMORY_BLOCK, "--memory-block", MODE(PI_MODE_MAP), "--map" },
	{ OPT_CMA, "--cma", MODE(PI_MODE_MAP), "--map" },
};
static unsigned int mode_opt_seen[ARRAY_SIZE(mode_opts)];	/* order given, 0 = not */
static unsigned int mode_opts_given;

static const char *mode_desc(enum pi_mode mode)
{
	switch (mode) {
	case PI_MODE_REPORT: return "the process report (no mode option)";
	case PI_MODE_PROBE: return "--probe";
	case PI_MODE_LIST_COLUMNS: return "--list-columns";
	case PI_MODE_WATCH: return "--watch";
	case PI_MODE_SAVE: return "--save";
	case PI_MODE_DIFF: return "--diff";
	case PI_MODE_AUDIT: return "--audit";
	case PI_MODE_LIST_CHECKS: return "--list-checks";
	case PI_MODE_MAP: return "--map";
	}
	return "this mode";
}

static void mode_opts_check(const struct pi_cli *cli, struct argp_state *state)
{
	const struct mode_opt *bad = NULL;
	unsigned int first = 0;

	/* name the first one given on the command line */
	for (size_t i = 0; i < ARRAY_SIZE(mode_opts); i++)
		if (mode_opt_seen[i] && !(mode_opts[i].modes & MODE(cli->mode)) &&
		    (!bad || mode_opt_seen[i] < first)) {
			bad = &mode_opts[i];
			first = mode_opt_seen[i];
		}
	if (bad)
		argp_error(state, "%s works only with %s, not with %s", bad->name, bad->needs,
			   mode_desc(cli->mode));
}

static int add_pid_arg(struct pi_cli *cli, const char *arg, struct argp_state *state)
{
	int pid, r = pi_parse_pid(arg, &pid);

	if (r == -EINVAL)
		argp_error(state, "not a process ID: '%s'", arg);
	if (r < 0) {
		/* numeric but out of range: a PID that cannot exist (exit 2) */
		pi_warn("pid %s: out of range", arg);
		cli->bad_pid_arg = true;
		return 0;
	}
	if (pi_grow((void **)&cli->pids, &cli->pids_cap, cli->npids + 1, sizeof(*cli->pids)) < 0)
		return ENOMEM;
	cli->pids[cli->npids++] = pid;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pi_cli *cli = state->input;

	for (size_t i = 0; i < ARRAY_SIZE(mode_opts); i++)
		if (mode_opts[i].key == key && !mode_opt_seen[i])
			mode_opt_seen[i] = ++mode_opts_given;
	switch (key) {
	case 'C': {
		const char **n = realloc(cli->commands, (cli->ncommands + 1) * sizeof(*n));

		if (!n)
			return ENOMEM;
		n[cli->ncommands++] = arg;
		cli->commands = n;
		break;
	}
	case 'o': cli->columns = arg; break;
	case 'J': cli->json = true; break;
	case 'r': cli->raw = true; break;
	case 'n': cli->noheadings = true; break;
	case 'b': cli->bytes = true; break;
	case OPT_PAGES: cli->pages = true; break;
	case OPT_ROOT: cli->root = arg; break;
	case OPT_ANON_ONLY: cli->anon_only = true; break;
	case OPT_NO_PAGEMAP_SCAN: cli->no_pagemap_scan = true; break;
	case OPT_LIST_COLUMNS: cli->mode = PI_MODE_LIST_COLUMNS; break;
	case OPT_PROBE: cli->mode = PI_MODE_PROBE; break;
	case OPT_WATCH:
		cli->mode = PI_MODE_WATCH;
		if (arg) {
			char *end;
			double secs = strtod(arg, &end);

			if (*end || !(secs >= 0.01 && secs <= 86400))
				argp_error(state, "bad --watch interval '%s'", arg);
			cli->interval_ms = (unsigned int)(secs * 1000);
		}
		break;
	case OPT_DURATION: {
		char *end;

		cli->duration_s = strtod(arg, &end);
		if (*end || !(cli->duration_s > 0 && cli->duration_s <= 1e7))
			argp_error(state, "bad --duration '%s'", arg);
		break;
	}
	case OPT_FAIL_ON: cli->fail_on = arg; break;
	case OPT_SAVE: cli->mode = PI_MODE_SAVE; cli->state_file = arg; break;
	case OPT_DIFF: cli->mode = PI_MODE_DIFF; cli->state_file = arg; break;
	case 'v': cli->verbose = true; break;
	case OPT_AUDIT: cli->mode = PI_MODE_AUDIT; break;
	case OPT_ALL: cli->all = true; break;
	case OPT_CHECK: cli->checks = arg; break;
	case OPT_SKIP: cli->skips = arg; break;
	case OPT_LIST_CHECKS: cli->mode = PI_MODE_LIST_CHECKS; break;
	case OPT_FORMAT: cli->format = arg; break;
	case OPT_OUTPUT_FILE: cli->output_file = arg; break;
	case OPT_MEMLOCK_HEADROOM: {
		uint64_t v;

		if (pi_parse_u64(arg, 10, &v) < 0 || v > (UINT64_C(1) << 40))
			argp_error(state, "bad --memlock-headroom '%s' (KiB)", arg);
		cli->memlock_headroom_kib = (int64_t)v;
		break;
	}
	case OPT_MAP: cli->mode = PI_MODE_MAP; break;
	case OPT_PFN_RANGE: cli->pfn_range = arg; break;
	case OPT_NODE: {
		uint64_t v;

		if (pi_parse_u64(arg, 10, &v) < 0 || v > 4096)
			argp_error(state, "bad --node '%s'", arg);
		cli->node = (int)v;
		break;
	}
	case OPT_ZONE: cli->zone = arg; break;
	case OPT_MEMORY_BLOCK: {
		uint64_t v;

		if (pi_parse_u64(arg, 10, &v) < 0 || v > (1u << 30))
			argp_error(state, "bad --memory-block '%s'", arg);
		cli->memory_block = (long)v;
		break;
	}
	case OPT_CMA: cli->cma = true; break;
	case OPT_LOAD_MODULE: cli->load_module = true; cli->module_path = arg; break;
	case OPT_SOURCE:
		if (pi_source_from_name(arg, &cli->source) < 0)
			argp_error(state, "unknown source '%s' (kpagepin, bpf, io_uring, none)", arg);
		cli->source_forced = true;
		break;
	case ARGP_KEY_ARG:
		return add_pid_arg(cli, arg, state);
	case ARGP_KEY_END:
		mode_opts_check(cli, state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "[PID...]",
	.doc = "Report which pages of processes are pinned (maybe for DMA) and whether their "
	"mappings are intact: anonymous, shmem, hugetlb and private file pages "
	"(--anon-only: anonymous only).\vExit status: 0 ok, 1 findings, 2 trouble (also: "
	"a PID or -C NAME that matches no process), 64 usage."
};

void pi_sources_names(const struct pi_sources *s, const char **names, size_t *n)
{
	*n = 0;
	names[(*n)++] = "pagemap";
	if (s->kpageflags)
		names[(*n)++] = "kpageflags";
	if (s->source == PI_SRC_KPAGEPIN || s->source == PI_SRC_BPF)
		names[(*n)++] = pi_source_name(s->source);
	if (s->source != PI_SRC_NONE)
		names[(*n)++] = "io_uring";
}

bool pi_sources_longterm_known(const struct pi_sources *s)
{
	return s->source == PI_SRC_KPAGEPIN ||
	       (s->source == PI_SRC_BPF && pi_pinsrc_bpf_reports_pinnable(s->pinsrc) > 0);
}

/*
 * The source to use, given the kpagepin source the probe opened (NULL when
 * it failed with s->probe.kpagepin_err): taken into s->pinsrc when used.
 */
static int sources_pick(const struct pi_cli *cli, struct pi_sources *s, struct pi_pinsrc *kpagepin)
{
	const struct pi_kpagepin_info *info = &s->probe.kpagepin_info;
	int kpp_err = s->probe.kpagepin_err;
	char why[256] = "";
	char kpp_why[128] = "";
	int r;

	if (cli->source_forced) {
		s->source = cli->source;
		if (cli->source == PI_SRC_KPAGEPIN) {
			if (kpp_err == -EPROTO) {
				pi_warn("kpagepin: ABI %u, this pininspect understands ABI %d",
					info->abi, KPAGEPIN_ABI_VERSION);
				return kpp_err;
			}
			if (kpp_err < 0) {
				pi_errno(kpp_err, "kpagepin: cannot open /sys/kernel/debug/%s "
					 "(load the module or boot the patched kernel; mount debugfs)",
					 KPAGEPIN_DIR);
				return kpp_err;
			}
			s->pinsrc = kpagepin;
		} else if (cli->source == PI_SRC_BPF) {
			r = pi_root_is_host() ? pi_pinsrc_bpf_open(&s->pinsrc, why, sizeof(why)) : -EOPNOTSUPP;
			if (r < 0) {
				pi_warn("bpf source unavailable: %s", *why ? why : strerror(-r));
				return r;
			}
		}
		if (s->pinsrc && !s->pfn_visible) {
			pi_warn("source %s needs PFNs, which need CAP_SYS_ADMIN", pi_source_name(s->source));
			return -EPERM;
		}
		return 0;
	}

	s->source = PI_SRC_IOURING;
	if (!s->pfn_visible) {
		snprintf(s->degraded, sizeof(s->degraded),
			 "not privileged: PFNs, /proc/kpageflags and exact pin sources need "
			 "CAP_SYS_ADMIN; reporting pagemap and io_uring fdinfo only "
			 "(mapped-once instead of AnonExclusive)");
		return 0;
	}
	if (kpagepin) {
		s->pinsrc = kpagepin;
		s->source = PI_SRC_KPAGEPIN;
		return 0;
	}
	if (kpp_err == -EPROTO)
		snprintf(kpp_why, sizeof(kpp_why), "kpagepin ABI %u not understood", info->abi);
	else
		snprintf(kpp_why, sizeof(kpp_why), "kpagepin %s",
			 s->probe.debugfs ? "absent" : "absent (debugfs not mounted)");
	if (pi_root_is_host()) {
		r = pi_pinsrc_bpf_open(&s->pinsrc, why, sizeof(why));
		if (r == 0) {
			s->source = PI_SRC_BPF;
			return 0;
		}
	} else {
		snprintf(why, sizeof(why), "not used under --root");
	}
	snprintf(s->degraded, sizeof(s->degraded),
		 "no exact pin source (%s; bpf: %s): verdicts come from io_uring registered "
		 "buffers only, other pages are unknown", kpp_why, *why ? why : "unavailable");
	return 0;
}

int pi_sources_open(const struct pi_cli *cli, struct pi_sources *s)
{
	struct pi_pinsrc *kpagepin;
	int r;

	memset(s, 0, sizeof(*s));
	/* the probe opens kpagepin: use that, not a second open */
	pi_probe_run(&s->probe, &kpagepin);
	s->pfn_visible = s->probe.pfn_visible;
	if (s->pfn_visible && s->probe.kpageflags)
		(void)pi_kpage_open("proc/kpageflags", &s->kpageflags);
	r = sources_pick(cli, s, kpagepin);
	if (kpagepin && s->pinsrc != kpagepin)
		pi_pinsrc_close(kpagepin);
	return r;
}

void pi_sources_close(struct pi_sources *s)
{
	pi_pinsrc_close(s->pinsrc);
	pi_kpage_close(s->kpageflags);
	s->pinsrc = NULL;
	s->kpageflags = NULL;
}

void pi_warn_proc_error(pid_t pid, int r, size_t bad_line)
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
}

static int inspect(const struct pi_cli *cli, struct pi_sources *src)
{
	struct pi_report *rep = pi_report_new(cli, src);
	bool hidden_warned = false;
	int rc = cli->bad_pid_arg ? PI_EXIT_TROUBLE : PI_EXIT_OK;

	if (!rep)
		return PI_EXIT_USAGE;
	if (*src->degraded)
		pi_warn("%s", src->degraded);
	pi_rdma_snapshot_begin();
	for (size_t i = 0; i < cli->npids; i++) {
		struct pi_scan_ctx ctx = {
			.source = src->source,
			.pinsrc = src->pinsrc,
			.kpageflags = src->kpageflags,
			.anon_only = cli->anon_only,
			.use_pagemap_scan = !cli->no_pagemap_scan,
		};
		struct pi_proc p;
		size_t bad_line = 0;
		int r;

		r = pi_proc_open(cli->pids[i], &p, &bad_line);
		if (r < 0) {
			rc = PI_EXIT_TROUBLE;
			pi_warn_proc_error(cli->pids[i], r, bad_line);
			continue;
		}
		if (p.holders.rings_unreadable)
			pi_warn("pid %d: %u io_uring ring(s) did not list their buffers "
				"(busy ring or unknown fdinfo format)", (int)p.pid,
				p.holders.rings_unreadable);
		pi_report_scan_mode(rep, &ctx);
		r = pi_report_begin_proc(rep, &p);
		if (r == 0)
			r = pi_scan_proc(&p, &ctx, pi_report_page, rep);
		if (r == -ENODATA || r == -ESRCH) {
			struct pi_status st;
			const char *why;

			/* on the host a pagemap read fails or ends early only once the mm is gone */
			if (pi_root_is_host() || pi_status_read(p.pid, &st) < 0)
				why = "process exited or exec'd during the scan";
			else
				why = "pagemap ends before its VMAs do (truncated file)";
			pi_warn("pid %d: %s", (int)p.pid, why);
			pi_report_proc_incomplete(rep, why);
			rc = PI_EXIT_TROUBLE;
		} else if (r < 0) {
			pi_errno(r, "pid %d: scan failed", (int)p.pid);
			pi_report_proc_incomplete(rep, strerror(-r));
			rc = PI_EXIT_TROUBLE;
		}
		if (ctx.pfns_hidden && !hidden_warned && src->pfn_visible) {
			pi_warn("PFNs read as zero: not privileged to see them (CAP_SYS_ADMIN)");
			hidden_warned = true;
		}
		r = pi_report_end_proc(rep, &p, &ctx);
		if (r < 0)
			rc = PI_EXIT_TROUBLE;
		pi_proc_close(&p);
	}
	pi_rdma_snapshot_end();
	if (pi_report_finish(rep) < 0)
		rc = PI_EXIT_TROUBLE;
	pi_report_free(rep);
	return rc;
}

/*
 * --load-module: insert kpagepin, then check that its debugfs files are
 * there with an ABI we read, so that what follows can use it.
 */
static int load_module(const struct pi_cli *cli, FILE *out)
{
	struct pi_kpagepin_info info = { 0 };
	struct pi_pinsrc *src = NULL;
	const char *state;
	char why[512];
	int r;

	/* built in by the patch, or loaded before: nothing to insert */
	r = pi_pinsrc_kpagepin_open(&src, &info);
	if (r == 0 || r == -EPROTO) {
		state = "already present";
	} else {
		r = pi_module_load(cli->module_path, why, sizeof(why));
		if (r < 0) {
			pi_warn("cannot load kpagepin: %s", why);
			return r;
		}
		state = r == 0 ? "inserted" : "already loaded";
		r = pi_pinsrc_kpagepin_open(&src, &info);
	}
	if (r == -EPROTO) {
		pi_warn("kpagepin %s, but its ABI is %u: this pininspect understands ABI %d",
			state, info.abi, KPAGEPIN_ABI_VERSION);
		return r;
	}
	if (r < 0) {
		pi_errno(r, "kpagepin %s, but /sys/kernel/debug/%s cannot be read%s", state,
			 KPAGEPIN_DIR, pi_root_access("sys/kernel/debug/tracing") == 0 ? "" :
			 " (mount debugfs: mount -t debugfs none /sys/kernel/debug)");
		return r;
	}
	pi_pinsrc_close(src);
	fprintf(out, "kpagepin: %s (provider %s, ABI %u)\n", state, info.provider, info.abi);
	return 0;
}

/* every return of main() frees the argument arrays (leak-free under ASan) */
static void cli_free(struct pi_cli *cli)
{
	free(cli->pids);
	free(cli->commands);
}

int main(int argc, char **argv)
{
	struct pi_cli cli __attribute__((cleanup(cli_free))) = {
		.mode = PI_MODE_REPORT, .interval_ms = 1000, .node = -1, .memory_block = -1,
		.memlock_headroom_kib = -1 };
	struct pi_sources src;
	int rc, r;

	setlocale(LC_ALL, "");
	argp_err_exit_status = PI_EXIT_USAGE;
	/* Reading other processes' page tables must never be granted by a setuid bit. */
	if (getuid() != geteuid() || getgid() != getegid()) {
		pi_warn("refusing to run setuid or setgid");
		return PI_EXIT_TROUBLE;
	}
	if (argp_parse(&argp, argc, argv, 0, NULL, &cli) != 0)
		return PI_EXIT_USAGE;

	if (cli.root) {
		r = pi_root_set(cli.root);
		if (r < 0) {
			pi_errno(r, "--root %s", cli.root);
			return PI_EXIT_TROUBLE;
		}
	}
	if (cli.load_module) {
		bool alone = cli.mode == PI_MODE_REPORT && !cli.npids && !cli.ncommands &&
			     !cli.all && !cli.bad_pid_arg;

		if (cli.root) {
			pi_warn("--load-module inserts into the running kernel: not with --root");
			return PI_EXIT_USAGE;
		}
		if (load_module(&cli, alone ? stdout : stderr) < 0)
			return PI_EXIT_TROUBLE;
		if (alone)
			return PI_EXIT_OK;
	}
	if (cli.mode == PI_MODE_LIST_COLUMNS)
		return pi_list_columns(stdout) < 0 ? PI_EXIT_TROUBLE : PI_EXIT_OK;
	if (cli.mode == PI_MODE_LIST_CHECKS)
		return pi_audit_list_checks(&cli, stdout) < 0 ? PI_EXIT_TROUBLE : PI_EXIT_OK;
	if (cli.mode == PI_MODE_PROBE) {
		struct pi_probe pr;

		pi_probe_run(&pr, NULL);
		pi_probe_thorough(&pr);
		return pi_probe_print(&pr, cli.json, stdout) < 0 ? PI_EXIT_TROUBLE : PI_EXIT_OK;
	}

	for (size_t i = 0; i < cli.ncommands; i++) {
		size_t before = cli.npids;

		r = pi_procsel_by_command(cli.commands[i], &cli.pids, &cli.npids, &cli.pids_cap);
		if (r < 0) {
			pi_errno(r, "cannot list processes");
			return PI_EXIT_TROUBLE;
		}
		if (cli.npids == before) {
			pi_warn("no process named '%s'", cli.commands[i]);
			cli.bad_pid_arg = true;
		}
	}
	if (cli.all) {
		r = pi_procsel_all(&cli.pids, &cli.npids, &cli.pids_cap);
		if (r < 0) {
			pi_errno(r, "cannot list processes");
			return PI_EXIT_TROUBLE;
		}
	}
	if (!cli.npids && !(cli.all && cli.mode == PI_MODE_AUDIT) && cli.mode != PI_MODE_MAP) {
		if (cli.bad_pid_arg)
			return PI_EXIT_TROUBLE;
		fprintf(stderr, "pininspect: no process given\n"
			"Try 'pininspect --help' for more information.\n");
		return PI_EXIT_USAGE;
	}

	if (pi_sources_open(&cli, &src) < 0) {
		pi_sources_close(&src);	/* a forced source failed after kpageflags opened */
		return PI_EXIT_TROUBLE;
	}
	switch (cli.mode) {
	case PI_MODE_WATCH: rc = pi_watch_run(&cli, &src); break;
	case PI_MODE_SAVE: rc = pi_save_run(&cli, &src); break;
	case PI_MODE_DIFF: rc = pi_diff_run(&cli, &src); break;
	case PI_MODE_AUDIT: rc = pi_audit_run(&cli, &src); break;
	case PI_MODE_MAP: rc = pi_map_run(&cli, &src); break;
	default: rc = inspect(&cli, &src); break;
	}
	pi_sources_close(&src);
	return rc;
}
