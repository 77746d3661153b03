// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Output: libsmartcols tables driven by one column table (lsblk style),
 * and the streaming JSON document of DESIGN section 9. Never reads /proc.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libsmartcols.h>
#include "pininspect.h"
#include "jsonwrt.h"
#include "pininspect/util.h"

enum {
	COL_PID, COL_COMM, COL_START, COL_END, COL_PAGES, COL_SIZE, COL_VERDICT,
	COL_SOURCE, COL_PINS, COL_EXACT, COL_EXCL, COL_ONCE, COL_PRESENT,
	COL_KIND, COL_PFN, COL_FLAGS, COL_MAPPING, COL_HOLDER,
};

struct colinfo {
	const char *name;
	double whint;
	int flags;
	const char *help;
};

static const struct colinfo infos[] = {
	[COL_PID] = { "PID", 6, SCOLS_FL_RIGHT, "process ID" },
	[COL_COMM] = { "COMM", 12, 0, "process name" },
	[COL_START] = { "START", 14, SCOLS_FL_RIGHT, "first virtual address (page address with --pages)" },
	[COL_END] = { "END", 14, SCOLS_FL_RIGHT, "end virtual address (exclusive)" },
	[COL_PAGES] = { "PAGES", 6, SCOLS_FL_RIGHT, "number of 4 KiB pages" },
	[COL_SIZE] = { "SIZE", 6, SCOLS_FL_RIGHT, "size of the run" },
	[COL_VERDICT] = { "VERDICT", 12, 0, "pinned, maybe-pinned, not-pinned or unknown" },
	[COL_SOURCE] = { "SOURCE", 8, 0, "what decided the verdict: kpagepin, bpf, io_uring or none" },
	[COL_PINS] = { "PINS", 5, SCOLS_FL_RIGHT, "pins per page; ~N when estimated from the refcount bias, - when unknown" },
	[COL_EXACT] = { "EXACT", 5, 0, "pin count is exact (_pincount) rather than estimated" },
	[COL_EXCL] = { "EXCL", 4, 0, "PageAnonExclusive: yes, no, or - when unknown (needs root)" },
	[COL_ONCE] = { "ONCE", 4, 0, "mapped exactly once (pagemap bit 56); not the same as exclusive" },
	[COL_PRESENT] = { "PRESENT", 7, 0, "page present, swapped, or none" },
	[COL_KIND] = { "KIND", 5, 0, "anon, shmem, hugetlb or file" },
	[COL_PFN] = { "PFN", 10, SCOLS_FL_RIGHT, "page frame number (first of the run); - without privilege" },
	[COL_FLAGS] = { "FLAGS", 20, SCOLS_FL_WRAP, "pagemap and kpageflags flags" },
	[COL_MAPPING] = { "MAPPING", 20, SCOLS_FL_TRUNC, "VMA path or [heap], [stack], [anon]" },
	[COL_HOLDER] = { "HOLDER", 16, 0, "who pinned it, e.g. io_uring fd 5 buf 0" },
};

static const int default_run_cols[] = {
	COL_START, COL_END, COL_SIZE, COL_VERDICT, COL_SOURCE, COL_PINS,
	COL_EXCL, COL_ONCE, COL_KIND, COL_MAPPING, COL_HOLDER,
};
static const int default_page_cols[] = {
	COL_START, COL_PFN, COL_VERDICT, COL_SOURCE, COL_PINS, COL_EXCL,
	COL_ONCE, COL_FLAGS, COL_MAPPING, COL_HOLDER,
};

/*
 * --pages --json: after "pfn", a page object depends only on these facts.
 * Pages mostly repeat a few combinations, so the text is rendered once
 * per combination and copied after that.
 */
struct page_key {
	const struct pi_vma *vma;
	const struct pi_holder *holder;
	uint64_t pme_flags;
	uint64_t kpf;
	int64_t pins;
	int verdict, source, kind;
	int exclusive, longterm;
	bool pin_exact, mapped_once, present, swapped, kpf_known;
};

#define PAGE_CACHE	16

struct page_text {
	struct page_key key;
	char *text;
	size_t len;
	struct jsonwrt after;	/* the writer's state after the text */
};

struct pi_report {
	const struct pi_cli *cli;
	const struct pi_sources *src;
	int cols[PI_MAX_COLUMNS];
	size_t ncols;
	struct jsonwrt jw;
	bool json_started;
	size_t nprocs;
	struct pi_runs runs;
	struct pi_summary sum;		/* --pages: summary while streaming */
	struct libscols_table *tb;	/* --pages table */
	const struct pi_proc *proc;
	int err;
	struct page_text cache[PAGE_CACHE];
	size_t cache_next;
	bool batched;			/* --pages table: batches printed already */
	bool longterm_known;		/* the source reports LONGTERM_PINNABLE */
	const char *incomplete;		/* why the current process's scan stopped early */
};

#define PI_PAGES_BATCH	16384

void pi_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("pininspect: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pi_errno(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("pininspect: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err < 0 ? -err : err));
}

static int column_name_to_id(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		if (strlen(infos[i].name) == len && !strncasecmp(infos[i].name, name, len))
			return (int)i;
	return -1;
}

/* "-o LIST" replaces the defaults, "-o +LIST" appends to them (util-linux) */
static int parse_columns(struct pi_report *rep, const char *list)
{
	const char *p = list;

	if (*p == '+')
		p++;
	else
		rep->ncols = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int id = column_name_to_id(p, len);

		if (id < 0) {
			pi_warn("unknown column: %.*s (see --list-columns)", (int)len, p);
			return -EINVAL;
		}
		if (rep->ncols >= PI_MAX_COLUMNS)
			return -E2BIG;
		rep->cols[rep->ncols++] = id;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

struct pi_report *pi_report_new(const struct pi_cli *cli, const struct pi_sources *src)
{
	struct pi_report *rep = calloc(1, sizeof(*rep));
	const int *def = cli->pages ? default_page_cols : default_run_cols;
	size_t ndef = cli->pages ? ARRAY_SIZE(default_page_cols) : ARRAY_SIZE(default_run_cols);

	if (!rep)
		return NULL;
	rep->cli = cli;
	rep->src = src;
	rep->longterm_known = pi_sources_longterm_known(src);
	if (cli->npids > 1)
		rep->cols[rep->ncols++] = COL_PID;
	for (size_t i = 0; i < ndef; i++)
		rep->cols[rep->ncols++] = def[i];
	if (cli->columns && parse_columns(rep, cli->columns) < 0) {
		free(rep);
		return NULL;
	}
	jw_init(&rep->jw, stdout, true);
	return rep;
}

int pi_list_columns(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(infos); i++)
		fprintf(out, "%10s  %s\n", infos[i].name, infos[i].help);
	return 0;
}

static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned int u = 0;
	uint64_t whole = bytes, frac = 0;

	while (whole >= 1024 && u < sizeof(units) - 2) {
		frac = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (u == 0 || frac == 0 || whole >= 100)
		snprintf(buf, len, "%" PRIu64 "%c", whole, u ? units[u] : 'B');
	else
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", whole, frac * 10 / 1024, units[u]);
}

static const char *tristate(int v)
{
	return v < 0 ? "-" : v ? "yes" : "no";
}

static const char *present_name(const struct pi_page *pg)
{
	return pg->present ? "present" : pg->swapped ? "swapped" : "none";
}

/* pagemap and kpageflags flags as one comma list */
/* LONGTERM_PINNABLE of a page: 1, 0, -1 unknown (no entry, or a source that does not tell) */
static int longterm_of(const struct pi_report *rep, const struct pi_page *pg)
{
	return rep->longterm_known ? pg->longterm_pinnable : -1;
}

static void page_flags(const struct pi_report *rep, const struct pi_page *pg, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } pm[] = {
		{ PM_PRESENT, "present" }, { PM_SWAP, "swap" }, { PM_FILE, "file" },
		{ PM_MMAP_EXCLUSIVE, "mapped_once" }, { PM_SOFT_DIRTY, "soft_dirty" },
		{ PM_UFFD_WP, "uffd_wp" }, { PM_GUARD_REGION, "guard" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(pm); i++)
		if (pg->pme & pm[i].bit)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "," : "", pm[i].name);
	if (pg->kpf_known)
		for (size_t i = 0; i < pi_kpf_names_count; i++) {
			const char *name = pi_kpf_names[i].name;

			if (!(pg->kpf & KPF_BIT(pi_kpf_names[i].bit)))
				continue;
			/* bit 34 on an anon page is PG_anon_exclusive */
			if (pi_kpf_names[i].bit == KPF_MAPPEDTODISK && (pg->kpf & KPF_BIT(KPF_ANON)))
				name = "anon_exclusive";
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "," : "", name);
		}
	/* from the exact source: not in ZONE_MOVABLE, ZONE_DEVICE or CMA */
	if (longterm_of(rep, pg) == 1)
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
					off ? "," : "", "longterm_pinnable");
	if (off >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

/* libsmartcols escapes control bytes and invalid multibyte text itself */
static void set_cell(struct libscols_line *ln, size_t col, const char *text)
{
	scols_line_set_data(ln, col, text);
}

static void fill_line(struct pi_report *rep, struct libscols_line *ln, const struct pi_proc *p,
		      const struct pi_page *pg, uint64_t start, uint64_t end, uint64_t pages)
{
	char buf[512];

	for (size_t i = 0; i < rep->ncols; i++) {
		buf[0] = '\0';
		switch (rep->cols[i]) {
		case COL_PID:
			snprintf(buf, sizeof(buf), "%d", (int)p->pid);
			break;
		case COL_COMM:
			snprintf(buf, sizeof(buf), "%s", p->status.name);
			break;
		case COL_START:
			snprintf(buf, sizeof(buf), "0x%" PRIx64, start);
			break;
		case COL_END:
			snprintf(buf, sizeof(buf), "0x%" PRIx64, end);
			break;
		case COL_PAGES:
			snprintf(buf, sizeof(buf), "%" PRIu64, pages);
			break;
		case COL_SIZE:
			if (rep->cli->bytes)
				snprintf(buf, sizeof(buf), "%" PRIu64, pages * 4096);
			else
				human_size(pages * 4096, buf, sizeof(buf));
			break;
		case COL_VERDICT:
			snprintf(buf, sizeof(buf), "%s", pi_verdict_name(pg->verdict));
			break;
		case COL_SOURCE:
			snprintf(buf, sizeof(buf), "%s", pi_source_name(pg->source));
			break;
		case COL_PINS:
			if (pg->pins < 0)
				snprintf(buf, sizeof(buf), "-");
			else
				snprintf(buf, sizeof(buf), "%s%" PRId64,
					 pg->pin_exact || !pg->pins ? "" : "~", pg->pins);
			break;
		case COL_EXACT:
			snprintf(buf, sizeof(buf), "%s", pg->pins < 0 ? "-" : pg->pin_exact ? "yes" : "no");
			break;
		case COL_EXCL:
			snprintf(buf, sizeof(buf), "%s", tristate(pg->exclusive));
			break;
		case COL_ONCE:
			snprintf(buf, sizeof(buf), "%s", pg->present ? tristate(pg->mapped_once) : "-");
			break;
		case COL_PRESENT:
			snprintf(buf, sizeof(buf), "%s", present_name(pg));
			break;
		case COL_KIND:
			snprintf(buf, sizeof(buf), "%s", pi_kind_name(pg->kind));
			break;
		case COL_PFN:
			if (pg->pfn_known)
				snprintf(buf, sizeof(buf), "0x%" PRIx64, pg->pfn);
			else
				snprintf(buf, sizeof(buf), "-");
			break;
		case COL_FLAGS:
			page_flags(rep, pg, buf, sizeof(buf));
			break;
		case COL_MAPPING:
			snprintf(buf, sizeof(buf), "%s", pi_vma_display_name(pg->vma));
			break;
		case COL_HOLDER:
			snprintf(buf, sizeof(buf), "%s", pg->holder ? pg->holder->desc : "-");
			break;
		}
		set_cell(ln, i, buf);
	}
}

static struct libscols_table *new_table(struct pi_report *rep)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_enable_raw(tb, rep->cli->raw);
	scols_table_enable_noheadings(tb, rep->cli->noheadings);
	for (size_t i = 0; i < rep->ncols; i++) {
		const struct colinfo *ci = &infos[rep->cols[i]];
		int fl = ci->flags;

		if (rep->cli->raw)
			fl &= ~(SCOLS_FL_TRUNC | SCOLS_FL_WRAP);
		if (!scols_table_new_column(tb, ci->name, ci->whint, fl)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

/* ---- JSON document (DESIGN section 9) ---- */

static void json_begin(struct pi_report *rep)
{
	struct jsonwrt *w = &rep->jw;
	const char *names[16];
	size_t n = 0;

	if (rep->json_started)
		return;
	rep->json_started = true;
	jw_object_open(w, NULL);
	jw_u64(w, "schema", PI_JSON_SCHEMA);
	jw_object_open(w, "kernel");
	jw_string(w, "release", rep->src->probe.release);
	pi_sources_names(rep->src, names, &n);
	jw_array_open(w, "sources");
	for (size_t i = 0; i < n; i++)
		jw_string(w, NULL, names[i]);
	jw_array_close(w);
	jw_object_close(w);
	jw_array_open(w, "processes");
}

static void json_verdict_fields(const struct pi_report *rep, struct jsonwrt *w,
				const struct pi_page *pg)
{
	int lt = longterm_of(rep, pg);

	jw_string(w, "verdict", pi_verdict_name(pg->verdict));
	jw_string(w, "source", pi_source_name(pg->source));
	if (pg->pins < 0)
		jw_null(w, "pins");
	else
		jw_i64(w, "pins", pg->pins);
	jw_bool(w, "pin_exact", pg->pin_exact);
	if (pg->exclusive < 0)
		jw_null(w, "exclusive");
	else
		jw_bool(w, "exclusive", pg->exclusive);
	jw_bool(w, "mapped_once", pg->mapped_once);
	if (lt < 0)
		jw_null(w, "longterm_pinnable");
	else
		jw_bool(w, "longterm_pinnable", lt);
	jw_string(w, "kind", pi_kind_name(pg->kind));
	jw_bool(w, "present", pg->present);
	jw_bool(w, "swapped", pg->swapped);
	jw_string(w, "mapping", pi_vma_display_name(pg->vma));
	jw_string_or_null(w, "holder", pg->holder ? pg->holder->desc : NULL);
}

static uint64_t found_kib(const struct pi_summary *s)
{
	return (s->counts[PI_V_PINNED] + s->counts[PI_V_MAYBE]) * 4;
}

void pi_report_proc_incomplete(struct pi_report *rep, const char *why)
{
	rep->incomplete = why;
}

static void json_summary(struct jsonwrt *w, const struct pi_proc *p, const struct pi_summary *s)
{
	jw_object_open(w, "summary");
	jw_u64(w, "pinned", s->counts[PI_V_PINNED]);
	jw_u64(w, "maybe_pinned", s->counts[PI_V_MAYBE]);
	jw_u64(w, "not_pinned", s->counts[PI_V_NOT]);
	jw_u64(w, "unknown", s->counts[PI_V_UNKNOWN]);
	jw_u64(w, "pinned_kib", found_kib(s));
	jw_u64(w, "pinned_not_exclusive", s->pinned_not_exclusive);
	jw_u64(w, "pinned_not_present", s->pinned_not_present);
	jw_u64(w, "holder_pages_not_pinned", s->holder_pages_not_pinned);
	if (p->status.has_vmpin)
		jw_bool(w, "vmpin_accounted", found_kib(s) == p->status.vmpin_kib);
	else
		jw_null(w, "vmpin_accounted");
	jw_object_close(w);
}

static void page_cache_clear(struct pi_report *rep)
{
	for (size_t i = 0; i < PAGE_CACHE; i++) {
		free(rep->cache[i].text);
		rep->cache[i].text = NULL;
	}
	rep->cache_next = 0;
}

int pi_report_begin_proc(struct pi_report *rep, const struct pi_proc *p)
{
	struct jsonwrt *w = &rep->jw;

	rep->proc = p;
	rep->incomplete = NULL;
	page_cache_clear(rep);	/* keys hold VMA and holder pointers of the last process */
	memset(&rep->sum, 0, sizeof(rep->sum));
	pi_runs_free(&rep->runs);
	if (rep->cli->json) {
		json_begin(rep);
		jw_object_open(w, NULL);
		jw_i64(w, "pid", p->pid);
		jw_string(w, "comm", p->status.name);
		if (p->has_starttime)
			jw_u64(w, "starttime", p->starttime);
		if (p->status.has_vmpin)
			jw_u64(w, "vmpin_kib", p->status.vmpin_kib);
		else
			jw_null(w, "vmpin_kib");
		if (rep->cli->pages)
			jw_array_open(w, "pages");
	} else if (rep->cli->pages) {
		rep->tb = new_table(rep);
		if (!rep->tb)
			return -ENOMEM;
	}
	return 0;
}

/* a page object from "verdict" to its closing brace */
static int json_page_rest(struct pi_report *rep, const struct pi_page *pg)
{
	struct jsonwrt *w = &rep->jw, tmp;
	struct page_key k;
	struct page_text *t;
	char flags[512], *p, *save = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f;

	memset(&k, 0, sizeof(k));	/* padding too: keys are compared with memcmp */
	k.vma = pg->vma;
	k.holder = pg->holder;
	k.pme_flags = pg->pme & (PM_PRESENT | PM_SWAP | PM_FILE | PM_MMAP_EXCLUSIVE |
				 PM_SOFT_DIRTY | PM_UFFD_WP | PM_GUARD_REGION);
	k.kpf_known = pg->kpf_known;
	k.kpf = pg->kpf_known ? pg->kpf : 0;
	k.pins = pg->pins;
	k.verdict = pg->verdict;
	k.source = pg->source;
	k.kind = pg->kind;
	k.exclusive = pg->exclusive;
	k.longterm = longterm_of(rep, pg);
	k.pin_exact = pg->pin_exact;
	k.mapped_once = pg->mapped_once;
	k.present = pg->present;
	k.swapped = pg->swapped;
	for (size_t i = 0; i < PAGE_CACHE; i++) {
		t = &rep->cache[i];
		if (t->text && !memcmp(&t->key, &k, sizeof(k))) {
			FILE *out = w->out;

			fwrite_unlocked(t->text, 1, t->len, out);
			*w = t->after;
			w->out = out;
			return 0;
		}
	}

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	tmp = *w;
	tmp.out = f;
	json_verdict_fields(rep, &tmp, pg);
	page_flags(rep, pg, flags, sizeof(flags));
	jw_array_open(&tmp, "flags");
	for (p = strtok_r(flags, ",", &save); p; p = strtok_r(NULL, ",", &save))
		jw_string(&tmp, NULL, p);
	jw_array_close(&tmp);
	jw_object_close(&tmp);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	tmp.out = w->out;
	fwrite_unlocked(buf, 1, len, w->out);
	*w = tmp;

	t = &rep->cache[rep->cache_next];
	rep->cache_next = (rep->cache_next + 1) % PAGE_CACHE;
	free(t->text);
	t->key = k;
	t->text = buf;
	t->len = len;
	t->after = tmp;
	return 0;
}

int pi_report_run(const struct pi_page *first, uint64_t npages, void *userdata)
{
	struct pi_report *rep = userdata;

	return pi_runs_add_n(&rep->runs, first, npages);
}

/* default report: runs (pi_report_run), read sparsely unless FLAGS shows raw entries */
void pi_report_scan_mode(const struct pi_report *rep, struct pi_scan_ctx *ctx)
{
	if (rep->cli->pages)
		return;
	ctx->run_fn = pi_report_run;
	ctx->sparse = true;
	/* FLAGS shows a run's first page's raw flags, kpageflags included */
	for (size_t i = 0; i < rep->ncols; i++)
		if (rep->cols[i] == COL_FLAGS)
			ctx->sparse = false;
}

static void print_sources_line(struct pi_report *rep);

static void print_preamble(struct pi_report *rep)
{
	if (rep->nprocs)
		putchar('\n');
	else
		print_sources_line(rep);
}

/*
 * --pages table: libsmartcols keeps every line until it prints, ~1 KiB a
 * page, so a big process prints in batches of PI_PAGES_BATCH lines (flat
 * memory) and its summary comes after the table. Each batch is laid out
 * on its own: column widths may change from one batch to the next (fixing
 * them with whint and SCOLS_FL_STRICTWIDTH wrapped the header, 2.38).
 */
static void pages_table_flush(struct pi_report *rep)
{
	bool first = !rep->batched;

	if (first && !rep->cli->raw && !rep->cli->noheadings)
		print_preamble(rep);
	rep->batched = true;
	scols_print_table(rep->tb);
	scols_table_enable_noheadings(rep->tb, 1);
	scols_table_remove_lines(rep->tb);
}

int pi_report_page(const struct pi_page *pg, void *userdata)
{
	struct pi_report *rep = userdata;

	if (!rep->cli->pages)
		return pi_runs_add(&rep->runs, pg);

	pi_summary_add(&rep->sum, pg);
	if (rep->cli->json) {
		struct jsonwrt *w = &rep->jw;

		jw_object_open(w, NULL);
		jw_hex(w, "addr", pg->addr);
		if (pg->pfn_known)
			jw_u64(w, "pfn", pg->pfn);
		else
			jw_null(w, "pfn");
		return json_page_rest(rep, pg);
	} else {
		struct libscols_line *ln = scols_table_new_line(rep->tb, NULL);

		if (!ln)
			return -ENOMEM;
		fill_line(rep, ln, rep->proc, pg, pg->addr, pg->addr + 4096, 1);
		if (scols_table_get_nlines(rep->tb) >= PI_PAGES_BATCH)
			pages_table_flush(rep);
	}
	return 0;
}

/* which of the probed interfaces this report used (DESIGN section 7) */
static void print_sources_line(struct pi_report *rep)
{
	const char *names[16];
	size_t n = 0;

	pi_sources_names(rep->src, names, &n);
	printf("sources:");
	for (size_t i = 0; i < n; i++)
		printf("%s %s", i ? "," : "", names[i]);
	printf(" (kernel %s)\n", *rep->src->probe.release ? rep->src->probe.release : "unknown");
}

static void print_summary_line(struct pi_report *rep, const struct pi_proc *p,
			       const struct pi_summary *s)
{
	char *comm = pi_escape_text(p->status.name);
	uint64_t found = found_kib(s);

	printf("pid %d (%s): %" PRIu64 " pinned, %" PRIu64 " maybe-pinned, %" PRIu64
	       " not-pinned, %" PRIu64 " unknown pages\n", (int)p->pid, comm ? comm : "?",
	       s->counts[PI_V_PINNED], s->counts[PI_V_MAYBE], s->counts[PI_V_NOT],
	       s->counts[PI_V_UNKNOWN]);
	free(comm);
	if (s->holder_pages_not_pinned)
		printf("desync: %" PRIu64 " page(s) of registered buffers are mapped but not pinned:"
		       " the pinned pages are elsewhere, device and CPU see different memory\n",
		       s->holder_pages_not_pinned);
	if (s->pinned_not_present)
		printf("not mapped: %" PRIu64 " pinned or maybe-pinned page(s) of registered buffers"
		       " are not present (swapped, migrating or unmapped)\n", s->pinned_not_present);
	if (s->pinned_not_exclusive)
		printf("COW hazard: %" PRIu64 " pinned or maybe-pinned page(s) are not AnonExclusive\n",
		       s->pinned_not_exclusive);
	if (!p->status.has_vmpin) {
		printf("VmPin: not reported by this kernel\n");
	} else if (found == p->status.vmpin_kib) {
		printf("VmPin: %" PRIu64 " KiB, accounted for by the %" PRIu64
		       " KiB of pinned and maybe-pinned pages found\n", p->status.vmpin_kib, found);
	} else if (found < p->status.vmpin_kib) {
		printf("VmPin: %" PRIu64 " KiB, %" PRIu64 " KiB more than the pinned pages found"
		       " (another holder, a pin on pages no longer mapped, or io_uring charging"
		       " whole folios)\n", p->status.vmpin_kib, p->status.vmpin_kib - found);
	} else {
		printf("VmPin: %" PRIu64 " KiB, %" PRIu64 " KiB less than the pinned pages found"
		       " (holders that charge VmLck or nothing, e.g. VFIO)\n",
		       p->status.vmpin_kib, found - p->status.vmpin_kib);
	}
}

/* RDMA MRs of the process and the VFIO class (src/lib/holders-rdma.c) */
static const char *rdma_holder_desc(const struct pi_proc *p, const struct pi_rdma_mr *m)
{
	for (size_t i = 0; i < p->holders.n; i++)
		if (p->holders.h[i].kind == PI_HOLDER_RDMA_MR && p->holders.h[i].index == m->mrn)
			return p->holders.h[i].desc;
	return NULL;
}

static void json_holder_classes(struct jsonwrt *w, const struct pi_proc *p)
{
	if (p->rdma.n) {
		jw_array_open(w, "rdma_mrs");
		for (size_t i = 0; i < p->rdma.n; i++) {
			const struct pi_rdma_mr *m = &p->rdma.m[i];

			jw_object_open(w, NULL);
			jw_string(w, "device", m->dev);
			jw_u64(w, "mrn", m->mrn);
			if (m->has_keys) {
				jw_u64(w, "lkey", m->lkey);
				jw_u64(w, "rkey", m->rkey);
			} else {
				jw_null(w, "lkey");
				jw_null(w, "rkey");
			}
			jw_u64(w, "len", m->len);
			jw_i64(w, "pid", m->pid);
			jw_string(w, "placement", pi_rdma_place_name(m->place));
			jw_bool(w, "ambiguous", m->ambiguous);
			if (m->place != PI_RDMA_UNPLACED) {
				jw_hex(w, "start", m->start);
				jw_hex(w, "end", m->end);
			} else {
				jw_null(w, "start");
				jw_null(w, "end");
			}
			jw_string_or_null(w, "holder", m->place != PI_RDMA_UNPLACED ?
					  rdma_holder_desc(p, m) : NULL);
			jw_object_close(w);
		}
		jw_array_close(w);
	}
	if (p->has_vfio) {
		jw_object_open(w, "vfio");
		jw_u64(w, "vmlck_kib", p->status.vmlck_kib);
		jw_u64(w, "lock_kib", p->vfio.lock_kib);
		jw_u64(w, "unexplained_kib", p->vfio.unexplained_kib);
		jw_bool(w, "vfio", p->vfio.vfio);
		jw_u64(w, "attributed_kib", p->vfio_kib);
		jw_object_close(w);
	}
}

static void print_holder_classes(const struct pi_proc *p, const struct pi_scan_ctx *ctx)
{
	for (size_t i = 0; i < p->rdma.n; i++) {
		const struct pi_rdma_mr *m = &p->rdma.m[i];
		char *dev = pi_escape_text(m->dev);

		printf("RDMA MR %u on %s (%" PRIu64 " bytes", m->mrn, dev ? dev : "?", m->len);
		if (m->has_keys)
			printf(", lkey 0x%x", m->lkey);
		free(dev);
		if (m->place == PI_RDMA_UNPLACED)
			printf("): not placed (%s)\n", ctx->pinsrc ?
			       "no run of unattributed pinned pages of its length" :
			       "the kernel gives no address; placing it by length needs "
			       "page-level pins: kpagepin or bpf");
		else
			printf("): 0x%" PRIx64 "-0x%" PRIx64 " (by %s%s)\n", m->start, m->end,
			       pi_rdma_place_name(m->place), m->ambiguous ? ", ambiguous" : "");
	}
	if (p->has_vfio && p->vfio.vfio)
		printf("VFIO: %" PRIu64 " KiB of pinned pages no io_uring or RDMA holder explains"
		       " and VmPin does not cover; VmLck has %" PRIu64 " KiB not from mlock"
		       " (VFIO type1 charges locked_vm, not VmPin)%s\n", p->vfio.unexplained_kib,
		       p->vfio.lock_kib, p->vfio.whole ? "" : "; not attributed per page");
	else if (p->has_vfio && p->vfio.unexplained_kib)
		printf("VFIO: not the explanation for %" PRIu64 " KiB of pinned pages no holder or"
		       " VmPin explains: VmLck has only %" PRIu64 " KiB not from mlock\n",
		       p->vfio.unexplained_kib, p->vfio.lock_kib);
}

int pi_report_end_proc(struct pi_report *rep, const struct pi_proc *p, const struct pi_scan_ctx *ctx)
{
	const struct pi_summary *s = rep->cli->pages ? &rep->sum : &rep->runs.sum;
	struct jsonwrt *w = &rep->jw;
	int r = 0;

	if (rep->cli->json) {
		if (rep->cli->pages) {
			jw_array_close(w);
		} else {
			jw_array_open(w, "ranges");
			for (size_t i = 0; i < rep->runs.n; i++) {
				const struct pi_run *run = &rep->runs.r[i];

				jw_object_open(w, NULL);
				jw_hex(w, "start", run->start);
				jw_hex(w, "end", run->end);
				jw_u64(w, "pages", run->pages);
				json_verdict_fields(rep, w, &run->first);
				jw_object_close(w);
			}
			jw_array_close(w);
		}
		json_summary(w, p, s);
		json_holder_classes(w, p);
		jw_bool(w, "complete", !rep->incomplete);
		if (rep->incomplete)
			jw_string(w, "error", rep->incomplete);
		jw_object_close(w);
		rep->nprocs++;
		return 0;
	}

	if (rep->batched) {
		/* the table is half printed: the rest, then the summary */
		if (scols_table_get_nlines(rep->tb) > 0)
			scols_print_table(rep->tb);
		scols_unref_table(rep->tb);
		rep->tb = NULL;
		rep->batched = false;
	} else if (!rep->cli->raw && !rep->cli->noheadings) {
		print_preamble(rep);
	}
	if (!rep->cli->raw && !rep->cli->noheadings) {
		if (rep->incomplete)
			printf("pid %d: INCOMPLETE, %s: the counts and rows below cover only the part "
			       "read\n", (int)p->pid, rep->incomplete);
		print_summary_line(rep, p, s);
		print_holder_classes(p, ctx);
	}
	if (!rep->cli->pages) {
		rep->tb = new_table(rep);
		if (!rep->tb)
			return -ENOMEM;
		for (size_t i = 0; i < rep->runs.n; i++) {
			const struct pi_run *run = &rep->runs.r[i];
			struct libscols_line *ln = scols_table_new_line(rep->tb, NULL);

			if (!ln) {
				r = -ENOMEM;
				break;
			}
			fill_line(rep, ln, p, &run->first, run->start, run->end, run->pages);
		}
	}
	if (rep->tb) {
		if (r == 0 && scols_table_get_nlines(rep->tb) > 0)
			scols_print_table(rep->tb);
		scols_unref_table(rep->tb);
		rep->tb = NULL;
	}
	rep->nprocs++;
	fflush(stdout);
	(void)ctx;
	return r;
}

int pi_report_finish(struct pi_report *rep)
{
	if (rep->cli->json) {
		json_begin(rep);
		jw_array_close(&rep->jw);
		jw_object_close(&rep->jw);
		jw_end(&rep->jw);
	}
	return ferror(stdout) ? -EIO : 0;
}

void pi_report_free(struct pi_report *rep)
{
	if (!rep)
		return;
	pi_runs_free(&rep->runs);
	page_cache_clear(rep);
	if (rep->tb)
		scols_unref_table(rep->tb);
	free(rep);
}

static const char *kpp_state_name(int st)
{
	switch (st) {
	case PI_KPP_LOADED: return "loaded";
	case PI_KPP_BUILTIN: return "builtin";
	case PI_KPP_LOADABLE: return "loadable";
	case PI_KPP_BAD_ABI: return "unsupported-abi";
	default: return "absent";
	}
}

int pi_probe_print(const struct pi_probe *pr, bool json, FILE *out)
{
	if (json) {
		struct jsonwrt w;

		jw_init(&w, out, true);
		jw_object_open(&w, NULL);
		jw_u64(&w, "schema", PI_JSON_SCHEMA);
		jw_string(&w, "release", pr->release);
		jw_bool(&w, "pagemap_scan", pr->pagemap_scan);
		jw_bool(&w, "pfn_visible", pr->pfn_visible);
		jw_bool(&w, "kpageflags", pr->kpageflags);
		jw_bool(&w, "kpagecount", pr->kpagecount);
		jw_bool(&w, "tracefs", pr->tracefs);
		jw_string(&w, "kpagepin", kpp_state_name(pr->kpagepin));
		if (pr->kpagepin == PI_KPP_LOADED || pr->kpagepin == PI_KPP_BAD_ABI) {
			jw_u64(&w, "kpagepin_abi", pr->kpagepin_info.abi);
			jw_string(&w, "kpagepin_provider", pr->kpagepin_info.provider);
		}
		if (pr->host_root)
			jw_bool(&w, "bpf_built", pr->bpf_built);
		if (pr->bpf_tried) {
			jw_bool(&w, "bpf_usable", pr->bpf_usable);
			jw_string_or_null(&w, "bpf_why", pr->bpf_usable ? NULL : pr->bpf_why);
		}
		jw_bool(&w, "btf", pr->btf);
		jw_bool(&w, "io_uring", pr->io_uring);
		jw_object_close(&w);
		jw_end(&w);
		return 0;
	}
	fprintf(out, "kernel:        %s\n", *pr->release ? pr->release : "unknown");
	fprintf(out, "pagemap:       PFN, present, swap, soft-dirty, mapped-once (56), file (61)%s\n",
		pr->pagemap_scan ? "; PAGEMAP_SCAN" : "; no PAGEMAP_SCAN (6.7+)");
	fprintf(out, "PFNs:          %s\n", pr->pfn_visible ? "visible" :
		"hidden (needs CAP_SYS_ADMIN)");
	fprintf(out, "kpageflags:    %s\n", pr->kpageflags ? "readable" : strerror(-pr->kpageflags_err));
	fprintf(out, "kpagecount:    %s\n", pr->kpagecount ? "readable" : "not readable");
	fprintf(out, "tracefs:       %s\n", pr->tracefs ? pr->tracefs_path :
		"not mounted (mount -t tracefs nodev /sys/kernel/tracing)");
	fprintf(out, "kpagepin:      %s", kpp_state_name(pr->kpagepin));
	if (pr->kpagepin == PI_KPP_LOADED || pr->kpagepin == PI_KPP_BAD_ABI)
		fprintf(out, " (abi %u, %s)", pr->kpagepin_info.abi, pr->kpagepin_info.provider);
	else if (pr->kpagepin == PI_KPP_ABSENT)
		fprintf(out, " (%s)", pr->debugfs ? "no module, no patched kernel" :
			"debugfs not mounted: mount -t debugfs none /sys/kernel/debug");
	fputc('\n', out);
	if (!pr->host_root)
		fprintf(out, "bpf:           not used under --root, BTF %s", pr->btf ? "present" : "absent");
	else
		fprintf(out, "bpf:           %s, BTF %s", pr->bpf_built ? "built" : "not built",
			pr->btf ? "present" : "absent");
	if (pr->bpf_tried && pr->host_root)
		fprintf(out, pr->bpf_usable ? "; usable" : "; not usable: %s", pr->bpf_why);
	fputc('\n', out);
	fprintf(out, "io_uring:      %s\n", pr->io_uring ? "enabled" : "disabled by sysctl");
	return 0;
}
