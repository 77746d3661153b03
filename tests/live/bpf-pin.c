// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live test of the bpf pin source (issue 6), TAP output. Needs root and a
 * kernel with BTF; skips with a reason otherwise.
 *
 * Registers anonymous 4k pages and a THP as io_uring fixed buffers, then
 * checks what pi_pinsrc_bpf_open()'s reader says about them, against the
 * registered buffers, /proc/kpageflags and after compaction and unregister.
 * Also measures the cost per PFN (printed as TAP comments).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <liburing.h>
#include "pininspect/pinsrc.h"
#include "src/bpf/pinsrc-bpf.h"

#define NPAGES		64	/* 4k buffer; the first NREG are registered */
#define NREG		32
#define THP_SIZE	(2UL << 20)
#define THP_PAGES	512

#define KPF_ANON		12
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_THP			22
#define KPF_ANON_EXCLUSIVE	34	/* KPF_MAPPEDTODISK on an anon page */

static unsigned int test_no;
static int failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", cond ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		failed = 1;
}

static void skip(const char *what, const char *why)
{
	printf("ok %u - %s # SKIP %s\n", ++test_no, what, why);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int pfns_of(const void *addr, size_t npages, uint64_t *pfns)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t want = (ssize_t)(npages * 8);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, pfns, (size_t)want, (off_t)((uintptr_t)addr / 4096 * 8));
	close(fd);
	if (n != want)
		return -EIO;
	for (size_t i = 0; i < npages; i++)
		pfns[i] = (pfns[i] >> 63) ? pfns[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

static int kpageflags_of(const uint64_t *pfns, size_t n, uint64_t *out)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n; i++)
		if (pread(fd, &out[i], 8, (off_t)(pfns[i] * 8)) != 8)
			out[i] = 0;
	close(fd);
	return 0;
}

/*
 * malloc + fault in: a buffer first touched between reading two sources
 * would get fresh pages (THPs) allocated in between and make them differ
 */
static uint64_t *alloc_touched(size_t n)
{
	uint64_t *p = malloc(n * sizeof(*p));

	if (p)
		memset(p, 0xff, n * sizeof(*p));
	return p;
}

static int bit(uint64_t v, int b)
{
	return (v >> b) & 1;
}

static void dump(const char *what, uint64_t pfn, uint64_t e)
{
	printf("# %s pfn %#" PRIx64 ": refcount %llu pins %llu%s%s%s%s%s%s%s%s\n", what, pfn,
	       KPP_REFCOUNT(e), KPP_PINCOUNT(e),
	       e & KPP_F_MAYBE_PINNED ? " MAYBE_PINNED" : "", e & KPP_F_PIN_EXACT ? " PIN_EXACT" : "",
	       e & KPP_F_ANON ? " ANON" : "", e & KPP_F_ANON_EXCLUSIVE ? " ANON_EXCLUSIVE" : "",
	       e & KPP_F_LARGE ? " LARGE" : "", e & KPP_F_HEAD ? " HEAD" : "",
	       e & KPP_F_NOPAGE ? " NOPAGE" : "", e & KPP_F_LONGTERM_PINNABLE ? " LONGTERM_PINNABLE" : "");
}

/*
 * PFNs of [addr, addr + n pages) and their entries, read again until no
 * page moved in between (compaction run by other tests migrates the
 * unpinned ones)
 */
static int read_stable(struct pi_pinsrc *src, const void *addr, size_t n, uint64_t *pfns, uint64_t *ent)
{
	uint64_t *again = malloc(n * sizeof(*again));
	int r = -EAGAIN;

	if (!again)
		return -ENOMEM;
	for (int tries = 0; tries < 5 && r == -EAGAIN; tries++) {
		if (pfns_of(addr, n, pfns) < 0 || pi_pinsrc_read(src, pfns, n, ent) < 0 ||
		    pfns_of(addr, n, again) < 0)
			r = -EIO;
		else if (!memcmp(pfns, again, n * sizeof(*again)))
			r = 0;
	}
	free(again);
	return r;
}

/* count of entries i in [from, to) for which pred(e) fails */
#define COUNT_BAD(ent, from, to, pred) ({			\
	size_t _bad = 0;					\
	for (size_t i = (from); i < (to); i++) {		\
		uint64_t e = (ent)[i];				\
		if (!(pred)) {					\
			if (!_bad)				\
				dump("unexpected", 0, e);	\
			_bad++;					\
		}						\
	}							\
	_bad; })

static void check_small(struct pi_pinsrc *src, const char *when, char *buf, int registered)
{
	uint64_t pfns[NPAGES], ent[NPAGES];
	size_t bad;

	if (read_stable(src, buf, NPAGES, pfns, ent) < 0) {
		ok(0, "%s: read 4k buffer", when);
		return;
	}
	dump(registered ? "registered" : "was registered", pfns[0], ent[0]);
	dump("not registered", pfns[NREG], ent[NREG]);
	if (registered)
		bad = COUNT_BAD(ent, 0, NREG, KPP_PINCOUNT(e) >= 1 && KPP_REFCOUNT(e) >= 1025 &&
				(e & KPP_F_MAYBE_PINNED) && !(e & (KPP_F_LARGE | KPP_F_NOPAGE)));
	else
		bad = COUNT_BAD(ent, 0, NREG, KPP_PINCOUNT(e) == 0 && KPP_REFCOUNT(e) < 1024 &&
				!(e & KPP_F_MAYBE_PINNED));
	ok(!bad, "%s: %d registered 4k pages %s (%zu wrong)", when, NREG,
	   registered ? "pins >= 1, refcount >= 1025, maybe-pinned, small" : "back to pins 0, refcount < 1024", bad);
	bad = COUNT_BAD(ent, 0, NREG, (e & KPP_F_ANON) && (e & KPP_F_ANON_EXCLUSIVE));
	ok(!bad, "%s: registered 4k pages are ANON and ANON_EXCLUSIVE (%zu wrong)", when, bad);
	bad = COUNT_BAD(ent, NREG, NPAGES, KPP_PINCOUNT(e) == 0 && !(e & KPP_F_MAYBE_PINNED) &&
			KPP_REFCOUNT(e) >= 1 && KPP_REFCOUNT(e) < 1024 &&
			(e & KPP_F_ANON) && (e & KPP_F_ANON_EXCLUSIVE));
	ok(!bad, "%s: %d other 4k pages: pins 0, not maybe-pinned, ANON, ANON_EXCLUSIVE (%zu wrong)",
	   when, NPAGES - NREG, bad);
}

/* returns -1 if the buffer is not one THP */
static int check_thp(struct pi_pinsrc *src, const char *when, char *thp, int registered)
{
	static uint64_t pfns[THP_PAGES], ent[THP_PAGES], kpf[THP_PAGES];
	size_t bad, heads = 0;

	if (pfns_of(thp, THP_PAGES, pfns) < 0 || kpageflags_of(pfns, 1, kpf) < 0)
		return -1;
	if (!bit(kpf[0], KPF_THP) || !bit(kpf[0], KPF_COMPOUND_HEAD))
		return -1;
	for (size_t i = 1; i < THP_PAGES; i++)
		if (pfns[i] != pfns[0] + i)
			return -1;
	if (read_stable(src, thp, THP_PAGES, pfns, ent) < 0) {
		ok(0, "%s: read THP", when);
		return 0;
	}
	dump("THP head", pfns[0], ent[0]);
	dump("THP tail", pfns[1], ent[1]);
	for (size_t i = 0; i < THP_PAGES; i++)
		heads += !!(ent[i] & KPP_F_HEAD);
	ok(heads == 1 && (ent[0] & KPP_F_HEAD), "%s: THP has one HEAD, at its first page", when);
	if (registered) {
		/* 6.18 coalesces whole folios (one pin), older kernels pin every page */
		uint64_t p = KPP_PINCOUNT(ent[0]);

		bad = COUNT_BAD(ent, 0, THP_PAGES, (e & KPP_F_LARGE) && (e & KPP_F_PIN_EXACT) &&
				(e & KPP_F_MAYBE_PINNED) && KPP_PINCOUNT(e) == p && (p == 1 || p == 512) &&
				(e & KPP_F_ANON) && (e & KPP_F_ANON_EXCLUSIVE));
		ok(!bad, "%s: THP pages LARGE, PIN_EXACT, pins %" PRIu64 " (1 or 512), ANON_EXCLUSIVE (%zu wrong)",
		   when, p, bad);
	} else {
		bad = COUNT_BAD(ent, 0, THP_PAGES, (e & KPP_F_LARGE) && (e & KPP_F_PIN_EXACT) &&
				!(e & KPP_F_MAYBE_PINNED) && KPP_PINCOUNT(e) == 0 && (e & KPP_F_ANON));
		ok(!bad, "%s: THP pages LARGE, PIN_EXACT, pins 0 (%zu wrong)", when, bad);
	}
	return 0;
}

/* a hugetlb page (if one is free): AnonExclusive lives on its head */
static void check_hugetlb(struct pi_pinsrc *src)
{
	static uint64_t pfns[THP_PAGES], ent[THP_PAGES];
	struct io_uring ring;
	struct iovec iov;
	size_t bad, heads = 0;
	char *m;
	int r;

	m = mmap(NULL, THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m == MAP_FAILED) {
		skip("hugetlb: entries", "no free 2 MiB hugetlb page (vm.nr_hugepages)");
		skip("hugetlb: registered", "no free 2 MiB hugetlb page (vm.nr_hugepages)");
		return;
	}
	memset(m, 0x3c, THP_SIZE);
	if (pfns_of(m, THP_PAGES, pfns) < 0 || pi_pinsrc_read(src, pfns, THP_PAGES, ent) < 0) {
		ok(0, "hugetlb: read");
		ok(0, "hugetlb: read");
		goto out;
	}
	for (size_t i = 0; i < THP_PAGES; i++)
		heads += !!(ent[i] & KPP_F_HEAD);
	dump("hugetlb tail", pfns[1], ent[1]);
	bad = COUNT_BAD(ent, 0, THP_PAGES, (e & KPP_F_LARGE) && (e & KPP_F_PIN_EXACT) && KPP_PINCOUNT(e) == 0 &&
			(e & KPP_F_ANON) && (e & KPP_F_ANON_EXCLUSIVE));
	ok(heads == 1 && !bad, "hugetlb: one HEAD, all LARGE, pins 0, ANON_EXCLUSIVE from the head (%zu wrong)", bad);
	r = io_uring_queue_init(2, &ring, 0);
	if (r == 0) {
		iov = (struct iovec){ .iov_base = m, .iov_len = THP_SIZE };
		r = io_uring_register_buffers(&ring, &iov, 1);
		if (r == 0 && pi_pinsrc_read(src, pfns, THP_PAGES, ent) == 0) {
			uint64_t p = KPP_PINCOUNT(ent[0]);

			bad = COUNT_BAD(ent, 0, THP_PAGES, (e & KPP_F_PIN_EXACT) && (e & KPP_F_MAYBE_PINNED) &&
					KPP_PINCOUNT(e) == p && (p == 1 || p == 512) &&
					(e & KPP_F_ANON_EXCLUSIVE));
			ok(!bad, "hugetlb registered: PIN_EXACT pins %" PRIu64 " (1 or 512) on every page (%zu wrong)",
			   p, bad);
		} else {
			ok(0, "hugetlb registered: register and read (%s)", strerror(-r));
		}
		io_uring_queue_exit(&ring);
	} else {
		skip("hugetlb registered", "io_uring_queue_init failed");
	}
out:
	munmap(m, THP_SIZE);
}

/* flags that /proc/kpageflags also shows must agree (racy: allow a few) */
static void check_vs_kpageflags(struct pi_pinsrc *src, uint64_t npfn)
{
	uint64_t *pfns = alloc_touched(npfn), *ent = alloc_touched(npfn), *kpf = alloc_touched(npfn);
	size_t cmp = 0, bad = 0;
	ssize_t rd;
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	if (!pfns || !ent || !kpf || fd < 0) {
		skip("bpf agrees with /proc/kpageflags", "cannot read /proc/kpageflags");
		goto out;
	}
	/* kpageflags ends at max_pfn: compare what it has */
	rd = pread(fd, kpf, npfn * 8, 0);
	if (rd < 8 * 1024) {
		ok(0, "bpf agrees with /proc/kpageflags: read (%zd)", rd);
		goto out;
	}
	npfn = (uint64_t)rd / 8;
	for (uint64_t i = 0; i < npfn; i++)
		pfns[i] = i;
	if (pi_pinsrc_read(src, pfns, npfn, ent) < 0) {
		ok(0, "bpf agrees with /proc/kpageflags: bpf read");
		goto out;
	}
	for (uint64_t i = 0; i < npfn; i++) {
		uint64_t e = ent[i], k = kpf[i];

		if ((e & KPP_F_NOPAGE) || !k)
			continue;
		cmp++;
		if (!!(e & KPP_F_ANON) != bit(k, KPF_ANON) ||
		    !!(e & KPP_F_HEAD) != bit(k, KPF_COMPOUND_HEAD) ||
		    !!(e & KPP_F_LARGE) != (bit(k, KPF_COMPOUND_HEAD) || bit(k, KPF_COMPOUND_TAIL)) ||
		    /* a PMD-mapped THP keeps AnonExclusive on its head only: not comparable on tails */
		    ((e & KPP_F_ANON) && !bit(k, KPF_COMPOUND_TAIL) &&
		     !!(e & KPP_F_ANON_EXCLUSIVE) != bit(k, KPF_ANON_EXCLUSIVE))) {
			if (bad < 3)
				printf("# pfn %#" PRIx64 " kpageflags %#" PRIx64 " vs bpf %#" PRIx64 "\n", i, k, e);
			bad++;
		}
	}
	ok(cmp > 1000 && bad * 1000 <= cmp, "bpf agrees with /proc/kpageflags on %zu of %zu PFNs",
	   cmp - bad, cmp);
out:
	if (fd >= 0)
		close(fd);
	free(pfns);
	free(ent);
	free(kpf);
}

static void measure(struct pi_pinsrc *src, const char *label)
{
	const size_t n = 1 << 20;
	uint64_t *pfns = alloc_touched(n), *ent = alloc_touched(n);
	uint64_t maxpfn = (uint64_t)sysconf(_SC_PHYS_PAGES);
	double t;
	size_t nopage = 0;

	if (!pfns || !ent)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t start = pass ? (maxpfn > 2 * n ? maxpfn - 2 * n : 0) : 0;

		for (size_t i = 0; i < n; i++)
			pfns[i] = start + i;
		t = now();
		ok(pi_pinsrc_read(src, pfns, n, ent) == 0, "%s: read 1M sequential PFNs from %#" PRIx64, label, start);
		t = now() - t;
		nopage = 0;
		for (size_t i = 0; i < n; i++)
			nopage += !!(ent[i] & KPP_F_NOPAGE);
		printf("# %s: 1M sequential PFNs from %#" PRIx64 ": %.1f ms, %.1f ns/PFN, %zu NOPAGE\n",
		       label, start, t * 1e3, t * 1e9 / n, nopage);
	}
	nopage = 0;
	srandom(1);
	for (size_t i = 0; i < n; i++)
		pfns[i] = (uint64_t)random() % maxpfn;
	t = now();
	ok(pi_pinsrc_read(src, pfns, n, ent) == 0, "%s: read 1M random PFNs", label);
	t = now() - t;
	for (size_t i = 0; i < n; i++)
		nopage += !!(ent[i] & KPP_F_NOPAGE);
	printf("# %s: 1M random PFNs below %" PRIu64 ": %.1f ms, %.1f ns/PFN, %zu NOPAGE\n",
	       label, maxpfn, t * 1e3, t * 1e9 / n, nopage);
out:
	free(pfns);
	free(ent);
}

/* the probe_read reader and the one open() chose agree (racy: allow a few) */
static void compare_readers(struct pi_pinsrc *src, struct pi_pinsrc *probe, uint64_t npfn)
{
	uint64_t *pfns = alloc_touched(npfn), *a = alloc_touched(npfn), *b = alloc_touched(npfn);
	size_t bad = 0, pages = 0;

	if (!pfns || !a || !b) {
		ok(0, "readers agree: out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < npfn; i++)
		pfns[i] = i;
	if (pi_pinsrc_read(src, pfns, npfn, a) < 0 || pi_pinsrc_read(probe, pfns, npfn, b) < 0) {
		ok(0, "readers agree: read");
		goto out;
	}
	for (uint64_t i = 0; i < npfn; i++) {
		pages += !(b[i] & KPP_F_NOPAGE);
		if (a[i] != b[i]) {
			if (bad < 3)
				printf("# pfn %#" PRIx64 ": %#" PRIx64 " vs probe %#" PRIx64 "\n", i, a[i], b[i]);
			bad++;
		}
	}
	ok(pages > 1000 && bad * 1000 <= npfn, "readers agree on %zu of %" PRIu64 " PFNs (%zu pages)",
	   (size_t)npfn - bad, npfn, pages);
out:
	free(pfns);
	free(a);
	free(b);
}

#define KPAGEPIN_PAGES	"/sys/kernel/debug/" KPAGEPIN_DIR "/pages"

/*
 * The kpagepin module (if loaded, e.g. in the 6.1 guest) and bpf must give
 * the same entries. LONGTERM_PINNABLE is not reported by bpf; NOPAGE
 * differs on purpose for PFNs in memory holes that have a struct page
 * (bpf reads them, kpagepin reports no online page); refcounts of other
 * processes' pages change under us, so outside our own buffers only the
 * pin fields and flags are compared, and a few races are allowed.
 */
static void check_vs_kpagepin(struct pi_pinsrc *src, const char *when, const uint64_t *pfns,
			      size_t n, int own)
{
	const uint64_t ignore = (pi_pinsrc_bpf_reports_pinnable(src) ? 0 : KPP_F_LONGTERM_PINNABLE) |
		(own ? 0 : KPP_REFCOUNT_MASK << KPP_REFCOUNT_SHIFT);
	uint64_t *a = alloc_touched(n), *k = alloc_touched(n);
	size_t cmp = 0, bad = 0, ae_tail = 0;
	int fd = open(KPAGEPIN_PAGES, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		skip(when, "kpagepin module not loaded");
		goto out;
	}
	if (!a || !k || pi_pinsrc_read(src, pfns, n, a) < 0) {
		ok(0, "%s: bpf read", when);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (pread(fd, &k[i], 8, (off_t)(pfns[i] * 8)) != 8)
			k[i] = KPP_F_NOPAGE;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = a[i] & ~ignore, y = k[i] & ~ignore;

		if ((a[i] | k[i]) & KPP_F_NOPAGE)
			continue;
		cmp++;
		/*
		 * bpf reports a PMD-mapped THP's AnonExclusive (kept on the
		 * head) on every page; kpagepin reports the page's own bit
		 */
		if ((x & KPP_F_LARGE) && !(x & KPP_F_HEAD) && (x ^ y) == KPP_F_ANON_EXCLUSIVE) {
			ae_tail++;
			continue;
		}
		if (x != y) {
			if (bad < 3)
				printf("# pfn %#" PRIx64 ": bpf %#" PRIx64 " kpagepin %#" PRIx64 "\n",
				       pfns[i], a[i], k[i]);
			bad++;
		}
	}
	if (ae_tail)
		printf("# %s: %zu THP tail pages differ only in ANON_EXCLUSIVE (head bit shared by bpf)\n",
		       when, ae_tail);
	ok(cmp && (own ? bad == 0 : bad * 1000 <= cmp), "%s: bpf agrees with kpagepin on %zu of %zu pages",
	   when, cmp - bad, cmp);
out:
	if (fd >= 0)
		close(fd);
	free(a);
	free(k);
}

static void check_buffers_vs_kpagepin(struct pi_pinsrc *src, const char *when, char *buf, char *thp)
{
	static uint64_t pfns[NPAGES + THP_PAGES];

	if (pfns_of(buf, NPAGES, pfns) < 0 || pfns_of(thp, THP_PAGES, pfns + NPAGES) < 0) {
		ok(0, "%s: pagemap", when);
		return;
	}
	check_vs_kpagepin(src, when, pfns, NPAGES + THP_PAGES, 1);
}

static void check_all_vs_kpagepin(struct pi_pinsrc *src, uint64_t npfn)
{
	uint64_t *pfns = alloc_touched(npfn);

	if (!pfns) {
		ok(0, "all PFNs vs kpagepin: out of memory");
		return;
	}
	for (uint64_t i = 0; i < npfn; i++)
		pfns[i] = i;
	check_vs_kpagepin(src, "PFNs 0-1M", pfns, npfn, 0);
	free(pfns);
}

int main(void)
{
	struct io_uring ring;
	struct pi_pinsrc *src = NULL;
	char why[256];
	char *buf, *thpmem, *thp;
	struct iovec iov[2];
	uint64_t before[NREG], after[NREG], hole = 1ULL << 39, ent;
	double t;
	int r, nbuf, have_thp;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (BPF tracing and PFNs)\n");
		return 0;
	}
	t = now();
	r = pi_pinsrc_bpf_open(&src, why, sizeof(why));
	t = now() - t;
	if (r < 0) {
		printf("1..0 # SKIP bpf source unavailable: %s (%s)\n", why, strerror(-r));
		return 0;
	}
	r = io_uring_queue_init(4, &ring, 0);
	if (r < 0) {
		printf("1..0 # SKIP io_uring unavailable: %s\n", strerror(-r));
		return 0;
	}
	printf("1..32\n");
	printf("# pi_pinsrc_bpf_open: %.1f ms, reader %s\n", t * 1e3,
	       pi_pinsrc_bpf_reader(src) == PI_BPF_READER_FAST ? "bpf_rdonly_cast" : "bpf_probe_read_kernel");
	ok(src->kind == PI_SRC_BPF, "source kind is bpf");

	buf = mmap(NULL, NPAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	thpmem = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || thpmem == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	madvise(buf, NPAGES * 4096, MADV_NOHUGEPAGE);
	memset(buf, 0x5a, NPAGES * 4096);
	thp = (char *)(((uintptr_t)thpmem + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(thp, THP_SIZE, MADV_HUGEPAGE);
	memset(thp, 0xa5, THP_SIZE);

	iov[0] = (struct iovec){ .iov_base = buf, .iov_len = NREG * 4096 };
	iov[1] = (struct iovec){ .iov_base = thp, .iov_len = THP_SIZE };
	nbuf = 2;
	r = io_uring_register_buffers(&ring, iov, nbuf);
	if (r < 0) {
		printf("Bail out! io_uring_register_buffers: %s\n", strerror(-r));
		return 1;
	}

	check_small(src, "registered", buf, 1);
	if (pi_pinsrc_bpf_reports_pinnable(src)) {
		uint64_t pfns[NREG], e[NREG];
		size_t bad = 0;

		if (pfns_of(buf, NREG, pfns) < 0 || pi_pinsrc_read(src, pfns, NREG, e) < 0)
			bad = NREG;
		else
			for (size_t i = 0; i < NREG; i++)
				bad += !(e[i] & KPP_F_LONGTERM_PINNABLE);
		ok(!bad, "registered pages are LONGTERM_PINNABLE (FOLL_LONGTERM keeps them out of "
		   "MOVABLE and CMA; %zu wrong)", bad);
	} else {
		skip("registered pages are LONGTERM_PINNABLE", "bpf cannot tell the zone here (CMA or unknown layout)");
	}
	have_thp = check_thp(src, "registered", thp, 1) == 0;
	check_buffers_vs_kpagepin(src, "registered buffers", buf, thp);
	if (!have_thp) {
		skip("registered: THP has one HEAD", "no THP for the buffer");
		skip("registered: THP pins", "no THP for the buffer");
	}

	pfns_of(buf, NREG, before);
	if (access("/proc/sys/vm/compact_memory", W_OK) == 0) {
		int fd = open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC);

		r = fd >= 0 && write(fd, "1\n", 2) == 2;
		if (fd >= 0)
			close(fd);
		pfns_of(buf, NREG, after);
		ok(r && !memcmp(before, after, sizeof(before)), "registered 4k pages keep their PFNs across compaction");
		check_small(src, "after compaction", buf, 1);
	} else {
		for (int i = 0; i < 4; i++)
			skip("compaction", "/proc/sys/vm/compact_memory not writable");
	}

	r = io_uring_unregister_buffers(&ring);
	ok(r == 0, "unregister buffers");
	check_small(src, "unregistered", buf, 0);
	check_buffers_vs_kpagepin(src, "unregistered buffers", buf, thp);
	if (!have_thp || check_thp(src, "unregistered", thp, 0) < 0) {
		skip("unregistered: THP has one HEAD", "no THP for the buffer");
		skip("unregistered: THP pins", "no THP for the buffer");
	}

	check_hugetlb(src);

	r = pi_pinsrc_read(src, &hole, 1, &ent);
	ok(r == 0 && (ent & KPP_F_NOPAGE), "PFN 2^39 (no memory there) reads as NOPAGE");

	check_vs_kpageflags(src, 1 << 20);
	check_all_vs_kpagepin(src, 1 << 20);
	measure(src, pi_pinsrc_bpf_reader(src) == PI_BPF_READER_FAST ? "rdonly_cast" : "probe_read");
	if (pi_pinsrc_bpf_reader(src) == PI_BPF_READER_FAST) {
		struct pi_pinsrc *probe;

		r = pi_pinsrc_bpf_open_reader(&probe, PI_BPF_READER_PROBE, why, sizeof(why));
		ok(r == 0, "open the probe_read reader too (%s)", r ? why : "ok");
		if (r == 0) {
			compare_readers(src, probe, 1 << 20);
			measure(probe, "probe_read");
			probe->close(probe);
		} else {
			for (int i = 0; i < 4; i++)
				skip("probe_read reader", "cannot open it");
		}
	} else {
		for (int i = 0; i < 5; i++)
			skip("probe_read reader compared with rdonly_cast", "kernel without bpf_rdonly_cast");
	}

	src->close(src);
	io_uring_queue_exit(&ring);
	return failed;
}
