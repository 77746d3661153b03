// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pagemap and PFN-file decoders through the whole scan path, on a
 * fixture root written per input: maps, pagemap, kpageflags, kpagepin
 * pages and an io_uring fdinfo come from the input; the scan must never
 * crash and the pages and runs it gives must be consistent.
 *
 * Input: FLAGS-BYTE then sections separated by "@@@\n":
 *   maps text, pagemap bytes, kpageflags bytes, kpagepin pages bytes,
 *   fdinfo text (fd 3 is an io_uring ring).
 * FLAGS: bit 0 kpageflags readable, bit 1 kpagepin loaded, bit 2 anon only,
 *        bit 3 use PAGEMAP_SCAN (a regular file refuses it: fallback path),
 *        bit 4 sparse (read only what verdicts need).
 * Every input is scanned twice, page by page and by runs (ctx.run_fn): both
 * must give the same pages and verdict counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fuzz.h"
#include "pininspect/root.h"
#include "pininspect/scan.h"

enum { S_MAPS, S_PAGEMAP, S_KPF, S_KPP, S_FDINFO, S_NR };
static const char *const paths[S_NR] = {
	"proc/1/maps", "proc/1/pagemap", "proc/kpageflags",
	"sys/kernel/debug/kpagepin/pages", "proc/1/fdinfo/3",
};
/* tmpfs when there is one: a disk-backed /tmp makes every input cost I/O */
static char rootdir[64] = "/tmp/pi-fuzz-scan.XXXXXX";

static void rm_tree(void)
{
	char cmd[sizeof(rootdir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rootdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", rootdir);
}

static void put(const char *rel, const void *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", rootdir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(path);
		abort();
	}
	close(fd);
}

static void mk(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", rootdir, rel);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char status[] = "Name:\tfuzz\nTgid:\t1\nUid:\t0\t0\t0\t0\nVmPin:\t       0 kB\n";
	static const char *const dirs[] = {
		"proc", "proc/1", "proc/1/fd", "proc/1/fdinfo", "sys", "sys/kernel",
		"sys/kernel/debug", "sys/kernel/debug/kpagepin",
	};
	char link[256];

	(void)argc;
	(void)argv;
	if (access("/dev/shm", W_OK) == 0)
		snprintf(rootdir, sizeof(rootdir), "/dev/shm/pi-fuzz-scan.XXXXXX");
	if (!mkdtemp(rootdir))
		abort();
	atexit(rm_tree);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mk(dirs[i]);
	put("proc/1/status", status, sizeof(status) - 1);
	put("proc/1/stat", "1 (fuzz) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1000 0 0\n", 55);
	put("proc/1/comm", "fuzz\n", 5);
	snprintf(link, sizeof(link), "%s/proc/1/fd/3", rootdir);
	if (symlink("anon_inode:[io_uring]", link))
		abort();
	if (pi_root_set(rootdir) < 0)
		abort();
	return 0;
}

struct state {
	struct pi_runs runs;
	uint64_t last_addr;
	bool any;
	uint64_t pages;
};

static int on_page(const struct pi_page *pg, void *ud)
{
	struct state *s = ud;

	FZ_ASSERT(!(pg->addr & 0xfff));
	FZ_ASSERT(!s->any || pg->addr > s->last_addr);
	FZ_ASSERT(pg->vma && pg->addr >= pg->vma->start && pg->addr < pg->vma->end);
	FZ_ASSERT((unsigned int)pg->verdict < PI_V__MAX);
	FZ_ASSERT(pg->exclusive >= -1 && pg->exclusive <= 1);
	FZ_ASSERT(pg->present || pg->holder);
	FZ_ASSERT(pg->present == !!(pg->pme & PM_PRESENT));
	if (pg->pfn_known)
		FZ_ASSERT(pg->pfn && pg->pfn == (pg->pme & PM_PFN_MASK));
	if (pg->verdict == PI_V_PINNED)
		FZ_ASSERT(pg->pins > 0 && pg->pin_known);
	if (pg->verdict == PI_V_NOT)
		FZ_ASSERT(pg->pins == 0 && pg->pin_known);
	if (pg->verdict == PI_V_MAYBE)
		FZ_ASSERT(pg->holder || pg->pin_known);
	if (pg->holder)
		FZ_ASSERT(pg->holder->start < pg->addr + 4096 && pg->addr < pg->holder->end);
	FZ_ASSERT(strcmp(pi_verdict_name(pg->verdict), "") && pi_source_name(pg->source));
	s->last_addr = pg->addr;
	s->any = true;
	s->pages++;
	return pi_runs_add(&s->runs, pg);
}

static int on_run(const struct pi_page *first, uint64_t npages, void *ud)
{
	struct state *s = ud;

	FZ_ASSERT(npages > 0);
	FZ_ASSERT(!(first->addr & 0xfff));
	FZ_ASSERT(!s->any || first->addr > s->last_addr);
	FZ_ASSERT(first->vma && first->addr >= first->vma->start &&
		  first->addr + npages * 4096 <= first->vma->end);
	FZ_ASSERT((unsigned int)first->verdict < PI_V__MAX);
	s->last_addr = first->addr + (npages - 1) * 4096;
	s->any = true;
	s->pages += npages;
	return pi_runs_add_n(&s->runs, first, npages);
}

static void check_le64(const uint8_t *data, size_t size)
{
	size_t n = size / 8;
	uint64_t *out = malloc((n ? n : 1) * sizeof(*out));

	FZ_ASSERT(out);
	pi_le64_decode(data, n, out);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;

		for (int b = 0; b < 8; b++)
			v |= (uint64_t)data[i * 8 + (size_t)b] << (8 * b);
		FZ_ASSERT(out[i] == v);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sec[S_NR] = { 0 }, *p, *end = data + size;
	size_t len[S_NR] = { 0 };
	unsigned int flags;
	struct pi_scan_ctx ctx = { 0 };
	struct state st = { 0 };
	struct pi_proc proc;
	size_t bad = 0;
	int r, i = 0;

	if (!size)
		return 0;
	check_le64(data, size);
	flags = data[0];
	p = data + 1;
	while (i < S_NR) {
		const uint8_t *q = (const uint8_t *)memmem(p, (size_t)(end - p), "@@@\n", 4);

		sec[i] = p;
		len[i] = (size_t)((q ? q : end) - p);
		i++;
		if (!q)
			break;
		p = q + 4;
	}
	for (i = 0; i < S_NR; i++)
		put(paths[i], sec[i] ? sec[i] : (const uint8_t *)"", len[i]);
	put("sys/kernel/debug/kpagepin/version",
	    flags & 2 ? "kpagepin 1 module\n" : "kpagepin 99 module\n", flags & 2 ? 18 : 19);

	r = pi_proc_open(1, &proc, &bad);
	if (r < 0) {
		FZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		return 0;
	}
	ctx.anon_only = flags & 4;
	ctx.use_pagemap_scan = flags & 8;
	ctx.sparse = flags & 16;
	ctx.source = PI_SRC_IOURING;
	if (flags & 1)
		FZ_ASSERT(pi_kpage_open("proc/kpageflags", &ctx.kpageflags) == 0);
	if (flags & 2) {
		struct pi_kpagepin_info info;

		FZ_ASSERT(pi_pinsrc_kpagepin_open(&ctx.pinsrc, &info) == 0);
		ctx.source = PI_SRC_KPAGEPIN;
	} else {
		struct pi_kpagepin_info info;
		struct pi_pinsrc *src = NULL;

		FZ_ASSERT(pi_pinsrc_kpagepin_open(&src, &info) == -EPROTO && !src);
	}
	r = pi_scan_proc(&proc, &ctx, on_page, &st);
	FZ_ASSERT(r == 0 || r == -ENODATA || r == -ENOMEM);
	if (r == 0) {
		uint64_t sum = 0;

		FZ_ASSERT(st.runs.sum.pages == st.pages);
		for (size_t k = 0; k < st.runs.n; k++) {
			const struct pi_run *run = &st.runs.r[k];

			FZ_ASSERT(run->start < run->end);
			FZ_ASSERT((run->end - run->start) / 4096 == run->pages);
			FZ_ASSERT(k == 0 || st.runs.r[k - 1].end <= run->start);
			sum += run->pages;
		}
		FZ_ASSERT(sum == st.pages);
	}
	/* the same scan by runs: the same pages, the same verdicts */
	{
		struct state st2 = { 0 };
		int r2;

		ctx.run_fn = on_run;
		r2 = pi_scan_proc(&proc, &ctx, on_page, &st2);
		FZ_ASSERT(r2 == r);
		if (r == 0) {
			FZ_ASSERT(st2.pages == st.pages);
			FZ_ASSERT(st2.runs.sum.pages == st.runs.sum.pages);
			for (int v = 0; v < PI_V__MAX; v++)
				FZ_ASSERT(st2.runs.sum.counts[v] == st.runs.sum.counts[v]);
		}
		pi_runs_free(&st2.runs);
	}
	pi_runs_free(&st.runs);
	pi_pinsrc_close(ctx.pinsrc);
	pi_kpage_close(ctx.kpageflags);
	pi_proc_close(&proc);
	return 0;
}
