// SPDX-License-Identifier: GPL-2.0
/*
 * guest-pin: runs inside the test VM as root, built static.
 *
 * Pins its own memory with io_uring registered buffers (raw syscalls, so no
 * liburing is needed in the guest), then checks what
 * /sys/kernel/debug/kpagepin/pages says about those PFNs against what the
 * kernel must have done: pinned 4k pages carry the pin bias, THP pins are
 * exact, unregistering drops the pins, bad reads fail with EINVAL.
 *
 * Prints TAP test lines without numbers ("ok - ...", "not ok - ..."); the
 * harness numbers them.
 *
 * "guest-pin move PID ADDR NPAGES" instead moves NPAGES pages of another
 * process from ADDR to the node other than the one of its first page, in
 * one move_pages() call, and prints the kernel's side for the caller to
 * check (guest-watch.sh): "target NODE ret RET", then one line per page,
 * "INDEX NODE_BEFORE NODE_AFTER SAME_PFN".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/io_uring.h>

#include "kpagepin_abi.h"

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define SMALL_PAGES	16
#define SMALL_PINNED	8
#define KPF_THP		22
#define KPF_ANON_EXCL	34	/* KPF_MAPPEDTODISK: PG_anon_exclusive on anon */
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define KPP_PAGES	"/sys/kernel/debug/kpagepin/pages"
#define KPP_STATS	"/sys/kernel/debug/kpagepin/stats"
#define KPP_VERSION	"/sys/kernel/debug/kpagepin/version"
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#define MPOL_MF_MOVE	(1 << 1)

/* The in-tree provider counts what the rmap users left mapped. */
static bool provider_patch;

static int failures;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static void skip(const char *what, const char *why)
{
	printf("ok - %s # SKIP %s\n", what, why);
	fflush(stdout);
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	printf("not ok - %s: %s\n", what, strerror(errno));
	printf("Bail out! guest-pin cannot continue\n");
	exit(1);
}

static int kpp_fd, pagemap_fd, kpageflags_fd;

static uint64_t stats_value(const char *name);

static uint64_t read_u64(int fd, uint64_t index, const char *what)
{
	uint64_t v;

	if (pread(fd, &v, sizeof(v), index * 8) != sizeof(v))
		die(what);
	return v;
}

static uint64_t pfn_of(void *addr)
{
	uint64_t pm = read_u64(pagemap_fd, (uintptr_t)addr / PAGE, "pagemap");

	if (!(pm & PM_PRESENT) || !(pm & PM_PFN_MASK)) {
		errno = ENXIO;
		die("page not present or PFN hidden in pagemap");
	}
	return pm & PM_PFN_MASK;
}

static int uring_setup(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 4, &p);
	if (fd < 0)
		die("io_uring_setup");
	return fd;
}

static int uring_register(int ring, void *addr, size_t len)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };

	return syscall(SYS_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		       &iov, 1);
}

static int uring_unregister(int ring)
{
	return syscall(SYS_io_uring_register, ring, IORING_UNREGISTER_BUFFERS,
		       NULL, 0);
}

/* Facts about a set of pages, counted so one TAP line covers the set. */
struct tally {
	int n, maybe, exact, anon, excl, large, head, pinnable, reserved;
	int nopage, pins_ge1, pins0, ref_ge_bias, ref_lt_bias, excl_kpf;
	uint64_t min_pins, max_pins, min_ref, max_ref;
};

static void tally_page(struct tally *t, void *addr)
{
	uint64_t pfn = pfn_of(addr);
	uint64_t e = read_u64(kpp_fd, pfn, "kpagepin pages");
	uint64_t kpf = read_u64(kpageflags_fd, pfn, "kpageflags");
	uint64_t pins = KPP_PINCOUNT(e), ref = KPP_REFCOUNT(e);

	if (!t->n) {
		t->min_pins = t->max_pins = pins;
		t->min_ref = t->max_ref = ref;
	}
	t->n++;
	t->maybe += !!(e & KPP_F_MAYBE_PINNED);
	t->exact += !!(e & KPP_F_PIN_EXACT);
	t->anon += !!(e & KPP_F_ANON);
	t->excl += !!(e & KPP_F_ANON_EXCLUSIVE);
	t->excl_kpf += !!(kpf & (1ULL << KPF_ANON_EXCL));
	t->large += !!(e & KPP_F_LARGE);
	t->head += !!(e & KPP_F_HEAD);
	t->pinnable += !!(e & KPP_F_LONGTERM_PINNABLE);
	t->nopage += !!(e & KPP_F_NOPAGE);
	t->reserved += !!(e & KPP_F_RESERVED_MASK);
	t->pins_ge1 += pins >= 1;
	t->pins0 += pins == 0;
	t->ref_ge_bias += ref >= KPP_PIN_BIAS + 1;
	t->ref_lt_bias += ref < KPP_PIN_BIAS;
	if (pins < t->min_pins)
		t->min_pins = pins;
	if (pins > t->max_pins)
		t->max_pins = pins;
	if (ref < t->min_ref)
		t->min_ref = ref;
	if (ref > t->max_ref)
		t->max_ref = ref;
}

static struct tally tally_range(char *addr, size_t npages)
{
	struct tally t = { 0 };
	size_t i;

	for (i = 0; i < npages; i++)
		tally_page(&t, addr + i * PAGE);
	diag("%d pages: refcount %" PRIu64 "..%" PRIu64 ", pins %" PRIu64
	     "..%" PRIu64 ", maybe %d exact %d anon %d excl %d (kpageflags %d) large %d head %d pinnable %d",
	     t.n, t.min_ref, t.max_ref, t.min_pins, t.max_pins, t.maybe,
	     t.exact, t.anon, t.excl, t.excl_kpf, t.large, t.head, t.pinnable);
	return t;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* Node of each page (move_pages with nodes == NULL), -errno if none. */
static void pages_nodes(void **pages, int n, int *status)
{
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
		die("move_pages (query)");
}

static bool have_node1(void)
{
	return access("/sys/devices/system/node/node1", F_OK) == 0;
}

/*
 * move_pages() of the first @npinned (pinned) and the rest (not pinned) of
 * @n pages to the other node: pinned pages keep PFN and mapping, the others
 * move.
 */
static void test_move(char *buf, int n, int npinned)
{
	void *pages[SMALL_PAGES];
	int nodes[SMALL_PAGES], status[SMALL_PAGES];
	uint64_t before[SMALL_PAGES], skipped = 0;
	int i, target, kept = 0, moved = 0, still_pinned = 0;
	long ret;

	if (!have_node1()) {
		skip("move_pages of pinned pages", "guest has one NUMA node");
		return;
	}
	for (i = 0; i < n; i++) {
		pages[i] = buf + i * PAGE;
		before[i] = pfn_of(pages[i]);
	}
	pages_nodes(pages, n, status);
	target = status[0] == 0 ? 1 : 0;
	for (i = 0; i < n; i++)
		nodes[i] = target;
	if (provider_patch)
		skipped = stats_value("pin_migrate_skipped");

	ret = syscall(SYS_move_pages, 0, n, pages, nodes, status, MPOL_MF_MOVE);
	/* The status array is not written for pages left behind: re-query. */
	pages_nodes(pages, n, status);
	for (i = 0; i < n; i++) {
		uint64_t now = pfn_of(pages[i]);

		if (i < npinned) {
			kept += now == before[i];
			still_pinned += !!(read_u64(kpp_fd, now, "pages") &
					   KPP_F_MAYBE_PINNED);
		} else {
			moved += now != before[i] && status[i] == target;
		}
	}
	diag("move_pages to node %d returned %ld; pinned kept %d/%d, unpinned moved %d/%d",
	     target, ret, kept, npinned, moved, n - npinned);
	tap(kept == npinned && still_pinned == npinned,
	    "move_pages: pinned pages keep their PFN and pin");
	tap(moved == n - npinned,
	    "move_pages: unpinned pages move to node %d", target);
	tap(buf[0] == 0x5a && buf[(n - 1) * PAGE] == 0x5a,
	    "move_pages: contents intact");
	if (provider_patch) {
		skipped = stats_value("pin_migrate_skipped") - skipped;
		tap(skipped >= (uint64_t)npinned,
		    "stats: pin_migrate_skipped grew by %" PRIu64 " (>= %d)",
		    skipped, npinned);
	}
}

/* MADV_PAGEOUT of pinned pages: reclaim must leave them mapped. */
static void test_pageout(char *buf, int npinned)
{
	uint64_t before[SMALL_PAGES], kept_ctr = 0;
	int i, kept = 0;

	for (i = 0; i < npinned; i++)
		before[i] = pfn_of(buf + i * PAGE);
	if (provider_patch)
		kept_ctr = stats_value("pin_vmscan_kept");
	if (madvise(buf, npinned * PAGE, MADV_PAGEOUT)) {
		skip("MADV_PAGEOUT of pinned pages", strerror(errno));
		return;
	}
	for (i = 0; i < npinned; i++)
		kept += pfn_of(buf + i * PAGE) == before[i];
	tap(kept == npinned, "MADV_PAGEOUT: pinned pages stay mapped at the same PFN");
	if (provider_patch) {
		kept_ctr = stats_value("pin_vmscan_kept") - kept_ctr;
		tap(kept_ctr >= (uint64_t)npinned,
		    "stats: pin_vmscan_kept grew by %" PRIu64 " (>= %d)",
		    kept_ctr, npinned);
	}
}

/*
 * fork: the parent keeps its pinned pages (same PFN, still exclusive), the
 * child gets copies that are not pinned.
 */
static void test_fork(char *buf, int npinned)
{
	uint64_t before[SMALL_PAGES], child[SMALL_PAGES], copied = 0;
	int i, fds[2], same = 0, excl = 0, child_pinned = 0, status;
	pid_t pid;

	for (i = 0; i < npinned; i++)
		before[i] = pfn_of(buf + i * PAGE);
	if (provider_patch)
		copied = stats_value("pin_fork_copied");
	if (pipe(fds))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* The inherited fd reads the parent's mm: open our own. */
		close(pagemap_fd);
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
		if (pagemap_fd < 0)
			_exit(1);
		for (i = 0; i < npinned; i++)
			child[i] = pfn_of(buf + i * PAGE);
		if (write(fds[1], child, npinned * sizeof(child[0])) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], child, npinned * sizeof(child[0])) !=
	    (ssize_t)(npinned * sizeof(child[0])))
		die("read child PFNs");
	close(fds[0]);
	waitpid(pid, &status, 0);

	for (i = 0; i < npinned; i++) {
		uint64_t now = pfn_of(buf + i * PAGE);
		uint64_t e = read_u64(kpp_fd, now, "pages");

		same += now == before[i];
		excl += !!(e & KPP_F_ANON_EXCLUSIVE);
		child_pinned += child[i] == before[i];
	}
	tap(same == npinned && excl == npinned,
	    "fork: parent keeps its pinned pages, still ANON_EXCLUSIVE");
	tap(child_pinned == 0, "fork: child maps copies, not the pinned pages");
	if (provider_patch) {
		copied = stats_value("pin_fork_copied") - copied;
		/* Nothing else in the guest forks with pinned pages. */
		tap(copied == (uint64_t)npinned,
		    "stats: pin_fork_copied grew by %" PRIu64 " (== %d)",
		    copied, npinned);
	}
}

static bool write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok;
}

static uint64_t vmstat_value(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	uint64_t v;

	if (!f)
		return 0;
	while (fscanf(f, "%63s %" SCNu64, key, &v) == 2)
		if (!strcmp(key, name)) {
			fclose(f);
			return v;
		}
	fclose(f);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int same_pfns(char *buf, int n, const uint64_t *before)
{
	int i, same = 0;

	for (i = 0; i < n; i++)
		same += pfn_of(buf + i * PAGE) == before[i];
	return same;
}

/*
 * Full compaction: pinned pages must not move.  Whether the migrate
 * scanner reaches them before the scanners meet is up to the layout, so
 * the counter is only reported.
 */
static void test_compact(char *buf, int n, const char *what)
{
	uint64_t *before = calloc(n, sizeof(*before)), ctr = 0;
	int i;

	for (i = 0; i < n; i++)
		before[i] = pfn_of(buf + i * PAGE);
	if (provider_patch)
		ctr = stats_value("pin_compact_skipped");
	if (!write_file("/proc/sys/vm/compact_memory", "1")) {
		skip("compaction of pinned pages", "no /proc/sys/vm/compact_memory");
		free(before);
		return;
	}
	tap(same_pfns(buf, n, before) == n,
	    "compact_memory: pinned %s pages keep their PFN", what);
	if (provider_patch)
		diag("pin_compact_skipped grew by %" PRIu64,
		     stats_value("pin_compact_skipped") - ctr);
	free(before);
}

/*
 * NUMA hinting: with the scan delay at 0 the scanner runs from this task's
 * tick within a few hundred ms of CPU time; wait for numa_pte_updates (or
 * numa_huge_pte_updates) to move, then check the pinned pages.  The patched
 * kernel must count them as skipped (for a THP, a gap in 6.1).
 */
static void test_numa(char *buf, int n, const char *what)
{
	uint64_t *before = calloc(n, sizeof(*before)), ctr = 0, upd;
	/*
	 * Unpinned memory touched along: its hinting faults keep the scan
	 * period short and move numa_pte_updates on an unpatched kernel.
	 */
	static char scratch[64 * PAGE];
	volatile char sink = 0;
	double t0;
	bool ran = false;
	int i;

	if (!have_node1() ||
	    !write_file("/proc/sys/kernel/numa_balancing", "1")) {
		skip("NUMA hinting of pinned pages", "no NUMA balancing");
		free(before);
		return;
	}
	write_file("/sys/kernel/debug/sched/numa_balancing/scan_delay_ms", "0");
	write_file("/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms", "10");
	write_file("/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms", "100");
	for (i = 0; i < n; i++)
		before[i] = pfn_of(buf + i * PAGE);
	if (provider_patch)
		ctr = stats_value("pin_numa_skipped");
	upd = vmstat_value("numa_pte_updates") +
	      vmstat_value("numa_huge_pte_updates");
	t0 = now_s();
	while (now_s() - t0 < 10) {
		for (i = 0; i < n; i++)
			sink += buf[i * PAGE];
		for (i = 0; i < 64; i++)
			scratch[i * PAGE]++;
		if (provider_patch) {
			if (stats_value("pin_numa_skipped") > ctr) {
				ran = true;
				break;
			}
		} else if (vmstat_value("numa_pte_updates") +
			   vmstat_value("numa_huge_pte_updates") > upd) {
			ran = true;
			break;
		}
	}
	(void)sink;
	diag("NUMA scanner %s after %.1f s", ran ? "ran" : "did not run",
	     now_s() - t0);
	if (!ran && !provider_patch) {
		skip("NUMA hinting of pinned pages", "the scanner did not run in 10 s");
		free(before);
		return;
	}
	tap(same_pfns(buf, n, before) == n,
	    "NUMA hinting: pinned %s pages keep their PFN", what);
	if (provider_patch) {
		ctr = stats_value("pin_numa_skipped") - ctr;
		tap(ctr > 0, "stats: pin_numa_skipped grew by %" PRIu64
		    " for pinned %s pages", ctr, what);
	}
	write_file("/proc/sys/kernel/numa_balancing", "0");
	free(before);
}

static void test_small(int ring)
{
	char *buf = map_anon(SMALL_PAGES * PAGE);
	struct tally t;
	int n = SMALL_PINNED;

	/* Before the first fault: the 4k tests want no THP here. */
	madvise(buf, SMALL_PAGES * PAGE, MADV_NOHUGEPAGE);
	/* Fault all pages in: registering would fault only the pinned ones. */
	memset(buf, 0x5a, SMALL_PAGES * PAGE);

	if (uring_register(ring, buf, SMALL_PINNED * PAGE))
		die("IORING_REGISTER_BUFFERS (4k)");

	diag("4k registered");
	t = tally_range(buf, SMALL_PINNED);
	tap(t.maybe == n, "4k registered: MAYBE_PINNED on all %d pages", n);
	tap(t.pins_ge1 == n, "4k registered: pin count >= 1");
	tap(t.ref_ge_bias == n, "4k registered: refcount >= 1025");
	tap(t.exact == 0 && t.large == 0 && t.head == 0,
	    "4k registered: not LARGE, not HEAD, PIN_EXACT clear (estimate)");
	tap(t.anon == n && t.excl == n, "4k registered: ANON and ANON_EXCLUSIVE");
	tap(t.excl_kpf == t.excl,
	    "4k registered: ANON_EXCLUSIVE agrees with kpageflags bit 34");
	tap(t.pinnable == n, "4k registered: LONGTERM_PINNABLE (FOLL_LONGTERM pinned them)");
	tap(t.reserved == 0 && t.nopage == 0, "4k registered: reserved bits and NOPAGE clear");

	diag("4k not registered");
	t = tally_range(buf + SMALL_PINNED * PAGE, SMALL_PAGES - SMALL_PINNED);
	n = SMALL_PAGES - SMALL_PINNED;
	tap(t.maybe == 0 && t.pins0 == n,
	    "4k unregistered: MAYBE_PINNED clear, pin count 0");
	tap(t.ref_lt_bias == n && t.min_ref >= 1,
	    "4k unregistered: refcount between 1 and 1023");
	tap(t.anon == n, "4k unregistered: ANON");

	test_move(buf, SMALL_PAGES, SMALL_PINNED);
	test_pageout(buf, SMALL_PINNED);
	test_fork(buf, SMALL_PINNED);
	test_compact(buf, SMALL_PINNED, "4k");
	test_numa(buf, SMALL_PINNED, "4k");

	if (uring_unregister(ring))
		die("IORING_UNREGISTER_BUFFERS (4k)");
	diag("4k after unregister");
	t = tally_range(buf, SMALL_PINNED);
	n = SMALL_PINNED;
	tap(t.maybe == 0 && t.pins0 == n && t.ref_lt_bias == n,
	    "4k after unregister: pins 0, MAYBE_PINNED clear, refcount < 1024");
	munmap(buf, SMALL_PAGES * PAGE);
}

static void test_thp(int ring)
{
	char *raw = map_anon(2 * HPAGE);
	char *buf = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	size_t np = HPAGE / PAGE;
	struct tally t;
	uint64_t kpf;

	if (madvise(buf, HPAGE, MADV_HUGEPAGE))
		diag("MADV_HUGEPAGE: %s", strerror(errno));
	memset(buf, 0x3c, HPAGE);

	kpf = read_u64(kpageflags_fd, pfn_of(buf), "kpageflags");
	if (!(kpf & (1ULL << KPF_THP))) {
		skip("THP registered buffer", "no THP for the 2 MiB buffer");
		munmap(raw, 2 * HPAGE);
		return;
	}
	tap(true, "THP: 2 MiB aligned buffer is a THP (kpageflags)");

	t = tally_range(buf, np);
	tap(t.large == (int)np && t.head == 1 && t.exact == (int)np,
	    "THP before register: LARGE and PIN_EXACT on all, one HEAD");
	tap(t.maybe == 0 && t.pins0 == (int)np,
	    "THP before register: pin count 0, MAYBE_PINNED clear");

	if (uring_register(ring, buf, HPAGE))
		die("IORING_REGISTER_BUFFERS (THP)");
	t = tally_range(buf, np);
	tap(t.large == (int)np && t.exact == (int)np && t.head == 1,
	    "THP registered: LARGE and PIN_EXACT on all %zu pages, one HEAD", np);
	tap(t.maybe == (int)np && t.pins_ge1 == (int)np &&
	    t.min_pins == t.max_pins,
	    "THP registered: MAYBE_PINNED, same exact pin count %" PRIu64 " on all",
	    t.max_pins);
	/* A pin on a large folio adds 1 to the refcount, not the bias. */
	tap(t.min_ref >= t.min_pins + 1,
	    "THP registered: refcount %" PRIu64 " >= pins + mapping",
	    t.min_ref);
	tap(t.anon == (int)np, "THP registered: ANON");
	/*
	 * A PMD-mapped THP keeps PG_anon_exclusive on its head page only;
	 * kpagepin reports it for every page.  kpageflags bit 34 shows it on
	 * the head (6.1) or, from the folio, on every page (6.12).
	 */
	tap(t.excl == (int)np && t.excl_kpf >= 1,
	    "THP registered: ANON_EXCLUSIVE on all %zu pages (kpageflags: %d)",
	    np, t.excl_kpf);

	if (have_node1()) {
		void *page = buf;
		uint64_t pfn = pfn_of(buf);
		int node, target;

		pages_nodes(&page, 1, &node);
		target = node == 0 ? 1 : 0;
		syscall(SYS_move_pages, 0, 1, &page, &target, &node,
			MPOL_MF_MOVE);
		tap(pfn_of(buf) == pfn, "move_pages: pinned THP keeps its PFN");
	}
	test_compact(buf, np, "THP");
	test_numa(buf, np, "THP");

	if (uring_unregister(ring))
		die("IORING_UNREGISTER_BUFFERS (THP)");
	t = tally_range(buf, np);
	tap(t.maybe == 0 && t.pins0 == (int)np,
	    "THP after unregister: pin count 0, MAYBE_PINNED clear");
	munmap(raw, 2 * HPAGE);
}

/* Highest zone end PFN from /proc/zoneinfo: the module's bound, found apart. */
static uint64_t zoneinfo_bound(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	uint64_t start = 0, spanned = 0, end = 0, v;
	char line[256];

	if (!f)
		die("/proc/zoneinfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " spanned %" SCNu64, &v) == 1)
			spanned = v;
		else if (sscanf(line, " start_pfn: %" SCNu64, &v) == 1) {
			start = v;
			if (spanned && start + spanned > end)
				end = start + spanned;
		}
	}
	fclose(f);
	return end;
}

static uint64_t stats_value(const char *name)
{
	FILE *f = fopen(KPP_STATS, "r");
	char key[64];
	uint64_t v;

	if (!f)
		die(KPP_STATS);
	while (fscanf(f, "%63s %" SCNu64, key, &v) == 2)
		if (!strcmp(key, name)) {
			fclose(f);
			return v;
		}
	fclose(f);
	return UINT64_MAX;
}

static bool read_einval(off_t off, size_t len)
{
	uint64_t b[4];

	errno = 0;
	return pread(kpp_fd, b, len, off) < 0 && errno == EINVAL;
}

static void test_bad_input(void)
{
	uint64_t bound = zoneinfo_bound(), got = stats_value("pfn_bound");
	uint64_t b[4];
	ssize_t r;

	diag("PFN bound: zoneinfo %" PRIu64 ", stats %" PRIu64, bound, got);
	tap(bound && got == bound, "stats pfn_bound equals the zoneinfo end PFN");
	tap(read_einval(4, 8), "read at misaligned offset 4 -> EINVAL");
	tap(read_einval(8, 12), "read of misaligned count 12 -> EINVAL");
	tap(read_einval(bound * 8, 8), "read at the bound -> EINVAL");
	tap(read_einval((bound + 7) * 8, 8), "read past the bound -> EINVAL");
	r = pread(kpp_fd, b, sizeof(b), (bound - 2) * 8);
	tap(r == 16, "read crossing the bound is shortened to 16 bytes (got %zd)", r);
	r = pread(kpp_fd, b, 0, 0);
	tap(r == 0, "read of 0 bytes returns 0");
}

/* Whole-file read: every PFN answers, reserved bits stay zero. */
static void test_full_scan(void)
{
	static uint64_t b[1 << 17];
	uint64_t total = 0, reserved = 0, nopage = 0, maybe = 0;
	uint64_t bound = stats_value("pfn_bound");
	ssize_t r, i;

	if (lseek(kpp_fd, 0, SEEK_SET))
		die("lseek pages");
	for (;;) {
		r = read(kpp_fd, b, sizeof(b));
		if (r <= 0)
			break;
		for (i = 0; i < r / 8; i++) {
			reserved += !!(b[i] & KPP_F_RESERVED_MASK);
			nopage += !!(b[i] & KPP_F_NOPAGE);
			maybe += !!(b[i] & KPP_F_MAYBE_PINNED);
		}
		total += r / 8;
	}
	diag("full scan: %" PRIu64 " PFNs, %" PRIu64 " NOPAGE, %" PRIu64
	     " maybe pinned, read ended with %zd (%s)", total, nopage, maybe, r,
	     r < 0 ? strerror(errno) : "eof");
	tap(total == bound, "sequential read covers exactly pfn_bound PFNs");
	tap(r < 0 && errno == EINVAL, "sequential read ends with EINVAL at the bound");
	tap(reserved == 0, "reserved bits 56-63 are zero in every entry");
}

/* guest-pin move PID ADDR NPAGES: see the header. */
static int move_other(int argc, char **argv)
{
	int pid, n, i, target, fd, *before, *after, *nodes;
	uintptr_t addr;
	uint64_t *pfn;
	void **pages;
	char path[64];
	long ret;

	if (argc != 5) {
		fprintf(stderr, "usage: guest-pin move PID ADDR NPAGES\n");
		return 2;
	}
	pid = atoi(argv[2]);
	addr = strtoull(argv[3], NULL, 0);
	n = atoi(argv[4]);
	if (pid <= 0 || !addr || n <= 0) {
		fprintf(stderr, "guest-pin move: bad arguments\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	pages = calloc(n, sizeof(*pages));
	before = calloc(n, sizeof(*before));
	after = calloc(n, sizeof(*after));
	nodes = calloc(n, sizeof(*nodes));
	pfn = calloc(n, sizeof(*pfn));
	if (!pages || !before || !after || !nodes || !pfn) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < n; i++) {
		pages[i] = (void *)(addr + i * PAGE);
		pfn[i] = read_u64(fd, addr / PAGE + i, "pagemap") & PM_PFN_MASK;
	}
	if (syscall(SYS_move_pages, pid, n, pages, NULL, before, 0)) {
		perror("move_pages (query)");
		return 1;
	}
	target = before[0] == 0 ? 1 : 0;
	for (i = 0; i < n; i++)
		nodes[i] = target;
	ret = syscall(SYS_move_pages, pid, n, pages, nodes, after, MPOL_MF_MOVE);
	printf("target %d ret %ld\n", target, ret);
	/* The status array is not written for pages left behind: re-query. */
	if (syscall(SYS_move_pages, pid, n, pages, NULL, after, 0)) {
		perror("move_pages (query after)");
		return 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t now = read_u64(fd, addr / PAGE + i, "pagemap") & PM_PFN_MASK;

		printf("%d %d %d %d\n", i, before[i], after[i], now == pfn[i]);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int ring;

	if (argc > 1 && !strcmp(argv[1], "move"))
		return move_other(argc, argv);

	FILE *vf = fopen(KPP_VERSION, "r");
	char ver[64] = "";

	if (!vf || !fgets(ver, sizeof(ver), vf))
		die(KPP_VERSION);
	fclose(vf);
	provider_patch = !strcmp(ver, "kpagepin 1 patch\n");
	diag("provider: %s", provider_patch ? "patch" : "module");

	kpp_fd = open(KPP_PAGES, O_RDONLY);
	if (kpp_fd < 0)
		die(KPP_PAGES);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		die("/proc/self/pagemap");
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (kpageflags_fd < 0)
		die("/proc/kpageflags");

	ring = uring_setup();
	test_small(ring);
	test_thp(ring);
	close(ring);
	test_bad_input();
	test_full_scan();
	return failures ? 1 : 0;
}
