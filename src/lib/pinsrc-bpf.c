// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bpf pin source (DESIGN sections 2 and 4, issue 6): per PFN, the same u64
 * as the kpagepin debugfs file, read from struct page by a BPF program on a
 * stock kernel with BTF, without any module.
 *
 * Method
 *  1. Load src/bpf/pinsrc.bpf.c (libbpf skeleton, CO-RE against
 *     /sys/kernel/btf/vmlinux).
 *  2. Locate the struct page array. x86_64 randomises vmemmap_base and it is
 *     neither a BTF variable nor always in kallsyms, so: attach a
 *     tp_btf/mm_page_alloc program that records the struct page pointers of
 *     order-0 allocations made by this process, fault in a few fresh private
 *     pages (THP off for the range), read their PFNs from /proc/self/pagemap,
 *     detach. For every (pointer, PFN) pair, base = pointer - PFN *
 *     sizeof(struct page); the base that most of our pages agree on wins,
 *     and is then checked by reading our own pages through it (they must
 *     read back as anon, with a refcount).
 *  3. read(): copy PFNs into the program's mmap'ed .bss, BPF_PROG_TEST_RUN a
 *     SEC("syscall") program that loops (bpf_loop) over the batch and copies
 *     struct page (and, for large folios, the head and page[1]) with
 *     bpf_probe_read_kernel, then copy the entries out. On 6.17+ a second
 *     program does the same with direct loads through bpf_rdonly_cast(p, 0)
 *     (about twice as fast); open() uses it when it loads, else the first.
 *  4. LONGTERM_PINNABLE: the zone bits of page->flags are located from BTF
 *     constants and checked on our own pages against /proc/zoneinfo.
 *
 * Why this is safe
 *  - Nothing is written to kernel memory: the programs only call
 *    bpf_probe_read_kernel, bpf_get_current_pid_tgid, a hash map update of
 *    their own map, bpf_loop and bpf_rdonly_cast (whose result the verifier
 *    lets us read, never write); the verifier enforces that.
 *  - Both ways of reading are fault-tolerant: a PFN in a hole of the memory
 *    map, past the end of memory, or a bogus compound_head, makes
 *    bpf_probe_read_kernel fail with -EFAULT, and a direct load through
 *    untrusted memory read 0 (both through the exception table), which we
 *    report as KPP_F_NOPAGE; neither oopses. The head pointer taken from
 *    compound_head is checked to lie in the same array, before the page,
 *    within 2^22 pages, before it is used.
 *  - Loops are bounded: bpf_loop over at most PI_BPF_BATCH PFNs per run.
 *  - The tracepoint program runs only while we fault in our own pages and
 *    only records pointers of our own allocations; it changes no kernel
 *    state and is detached before open returns.
 *  - The reads are racy snapshots, exactly like /proc/kpageflags: a folio
 *    can be split, freed or reused between reading a tail and its head.
 *    Entries may then be stale or inconsistent, never dangerous.
 *
 * One source is not thread-safe: its reads share the program's .bss.
 *
 * Semantics of an entry: see kernel/kpagepin/kpagepin_abi.h. Refcount is
 * the folio's; for large folios the pin count is _pincount (PIN_EXACT); for
 * small folios (refcount - mapcount) / 1024 when refcount >= 1024 (not
 * exact: 1024 plain references look like a pin). LONGTERM_PINNABLE (zone
 * neither MOVABLE nor DEVICE) is reported only where the zone bits of
 * page->flags could be located and checked, and without CMA memory: see
 * setup_pinnable() and pi_pinsrc_bpf_reports_pinnable().
 * ANON_EXCLUSIVE differs from the kpagepin module on one point: on the tail
 * pages of a PMD-mapped THP it is the head's bit, which is what the kernel
 * keeps and checks for a PMD mapping (__folio_add_anon_rmap() sets only the
 * head for RMAP_LEVEL_PMD; GUP tests the head); the module and
 * /proc/kpageflags report the tail's own bit, 0. PTE-mapped THP tails and
 * small pages report their own bit, hugetlb pages the head's, in both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pininspect/pinsrc.h"
#include "src/bpf/pinsrc-bpf.h"

__attribute__((format(printf, 3, 4)))
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

#ifndef HAVE_BPF

int pi_pinsrc_bpf_open_reader(struct pi_pinsrc **ret, enum pi_bpf_reader reader,
			      char *why, size_t whylen)
{
	(void)ret;
	(void)reader;
	set_why(why, whylen, "built without bpf support");
	return -EOPNOTSUPP;
}

enum pi_bpf_reader pi_pinsrc_bpf_reader(const struct pi_pinsrc *src)
{
	(void)src;
	return PI_BPF_READER_AUTO;
}

int pi_pinsrc_bpf_reports_pinnable(const struct pi_pinsrc *src)
{
	(void)src;
	return 0;
}

int pi_pinsrc_bpf_open(struct pi_pinsrc **ret, char *why, size_t whylen)
{
	return pi_pinsrc_bpf_open_reader(ret, PI_BPF_READER_AUTO, why, whylen);
}

#else /* HAVE_BPF */

#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <sys/utsname.h>
#include "pinsrc.skel.h"

#define PROBE_PAGES	64
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_PRESENT	(1ULL << 63)

struct bpf_src {
	struct pinsrc_bpf *skel;
	int prog_fd;
	enum pi_bpf_reader reader;
};

/* libbpf's messages: the library never prints; keep the first warning for why */
static char libbpf_last[160];

/* libbpf hands us its own format strings */
__attribute__((format(printf, 2, 0)))
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(libbpf_last)];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n && !libbpf_last[0])
		memcpy(libbpf_last, line, n + 1);
	return 0;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int have_cap(unsigned int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {{ 0 }};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	return cap < 64 && (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* a one-line reason for a failed load */
static void explain_load(int err, char *why, size_t whylen)
{
	char lock[128];

	/* confidentiality takes bpf_probe_read_kernel away: the verifier says EINVAL */
	if (read_text("/sys/kernel/security/lockdown", lock, sizeof(lock)) == 0 &&
	    strstr(lock, "[confidentiality]")) {
		set_why(why, whylen, "kernel lockdown (confidentiality) forbids BPF reads of kernel memory");
		return;
	}
	if ((err == -EPERM || err == -EACCES) && !have_cap(CAP_SYS_ADMIN)) {
		set_why(why, whylen, "the bpf source needs CAP_SYS_ADMIN (BPF tracing, kernel BTF objects, PFNs)");
		return;
	}
	if (libbpf_last[0])
		set_why(why, whylen, "loading the BPF program failed: %s", libbpf_last);
	else
		set_why(why, whylen, "loading the BPF program failed: %s", strerror(-err));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int run_batch(struct bpf_src *b, const uint64_t *pfns, size_t n, uint64_t *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int r;

	memcpy(b->skel->bss->pfns, pfns, n * sizeof(*pfns));
	b->skel->bss->batch_count = (uint32_t)n;
	r = bpf_prog_test_run_opts(b->prog_fd, &opts);
	if (r < 0)
		return -errno;
	if (opts.retval)
		return (int)opts.retval < 0 ? (int)opts.retval : -EIO;
	memcpy(out, b->skel->bss->out, n * sizeof(*out));
	return 0;
}

static int bpf_read(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	struct bpf_src *b = src->priv;

	while (n) {
		size_t k = n < PI_BPF_BATCH ? n : PI_BPF_BATCH;
		int r = run_batch(b, pfns, k, out);

		if (r < 0)
			return r;
		pfns += k;
		out += k;
		n -= k;
	}
	return 0;
}

static void bpf_close(struct pi_pinsrc *src)
{
	struct bpf_src *b;

	if (!src)
		return;
	b = src->priv;
	if (b) {
		pinsrc_bpf__destroy(b->skel);
		free(b);
	}
	free(src);
}

/*
 * Fault in PROBE_PAGES fresh pages with the tracepoint attached; fill pfns[]
 * with their PFNs (0 when not present).
 */
static int fault_probe_pages(struct pinsrc_bpf *skel, void **ret_mem, uint64_t *pfns,
			     char *why, size_t whylen)
{
	long psz = sysconf(_SC_PAGESIZE);
	size_t len = PROBE_PAGES * (size_t)psz;
	struct bpf_link *link;
	uint64_t pm[PROBE_PAGES];
	volatile char *mem;
	ssize_t rd;
	int fd, r;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		set_why(why, whylen, "cannot map probe pages: %s", strerror(-r));
		return r;
	}
	*ret_mem = (void *)mem;
	madvise((void *)mem, len, MADV_NOHUGEPAGE);

	link = bpf_program__attach(skel->progs.pi_page_alloc);
	if (!link) {
		r = -errno;
		set_why(why, whylen, "cannot attach tp_btf/mm_page_alloc: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < PROBE_PAGES; i++)
		mem[i * (size_t)psz] = 1;
	bpf_link__destroy(link);

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_why(why, whylen, "cannot open /proc/self/pagemap: %s", strerror(-r));
		return r;
	}
	rd = pread(fd, pm, sizeof(pm), (off_t)((uintptr_t)mem / (size_t)psz * sizeof(uint64_t)));
	r = rd < 0 ? -errno : 0;
	close(fd);
	if (rd != (ssize_t)sizeof(pm)) {
		set_why(why, whylen, "cannot read /proc/self/pagemap");
		return r ? r : -EIO;
	}
	for (size_t i = 0; i < PROBE_PAGES; i++)
		pfns[i] = (pm[i] & PM_PRESENT) ? pm[i] & PM_PFN_MASK : 0;
	return 0;
}

/* majority vote over ptr - pfn * size for all pairs */
static int vote_base(int map_fd, const uint64_t *pfns, size_t page_size, uint64_t *ret_base,
		     char *why, size_t whylen)
{
	uint64_t ptrs[PI_BPF_MAX_ALLOCS], key = 0, next, *cand;
	size_t nptr = 0, npfn = 0, nc = 0, best = 0, run;
	uint64_t best_base = 0;

	/* 0 is no struct page: get_next_key of a missing key gives the first one */
	while (nptr < PI_BPF_MAX_ALLOCS && bpf_map_get_next_key(map_fd, &key, &next) == 0) {
		ptrs[nptr++] = next;
		key = next;
	}
	for (size_t i = 0; i < PROBE_PAGES; i++)
		npfn += pfns[i] != 0;
	if (!npfn) {
		set_why(why, whylen, "no PFNs in /proc/self/pagemap (needs CAP_SYS_ADMIN)");
		return -EPERM;
	}
	if (!nptr) {
		set_why(why, whylen, "tracepoint mm_page_alloc recorded no allocation");
		return -ENXIO;
	}
	cand = calloc(nptr * PROBE_PAGES, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	for (size_t i = 0; i < nptr; i++)
		for (size_t j = 0; j < PROBE_PAGES; j++)
			if (pfns[j] && ptrs[i] > pfns[j] * page_size)
				cand[nc++] = ptrs[i] - pfns[j] * page_size;
	qsort(cand, nc, sizeof(*cand), cmp_u64);
	for (size_t i = 0; i < nc; i += run) {
		for (run = 1; i + run < nc && cand[i + run] == cand[i]; run++)
			;
		if (run > best) {
			best = run;
			best_base = cand[i];
		}
	}
	free(cand);
	/* most of our pages must agree; other allocations (page tables) do not */
	if (best < 8 || best * 2 < npfn) {
		set_why(why, whylen, "could not locate the struct page array (no base agreed on)");
		return -ENXIO;
	}
	*ret_base = best_base;
	return 0;
}

/*
 * LONGTERM_PINNABLE needs the zone of a page, kept in the top bits of
 * page->flags below the node id (include/linux/page-flags-layout.h:
 * | [SECTION] | [NODE] | ZONE | ..., no SECTION with SPARSEMEM_VMEMMAP),
 * which BTF does not describe. NODES_SHIFT follows from the size of
 * zonelist->_zonerefs (MAX_NUMNODES * MAX_NR_ZONES + 1), ZONES_SHIFT from
 * MAX_NR_ZONES. The result is checked against /proc/zoneinfo on our own
 * pages; on any doubt (or CMA memory, whose pageblocks we cannot see) the
 * flag is left out.
 */
struct zspan {
	char name[16];
	uint64_t start, end;
};

static size_t read_zoneinfo(struct zspan *z, size_t max)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256], name[16] = "";
	unsigned long long spanned = 0, start;
	size_t n = 0;
	int node;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %15s", &node, name) == 2)
			spanned = 0;
		else if (sscanf(line, " spanned %llu", &spanned) == 1)
			;
		else if (sscanf(line, " start_pfn: %llu", &start) == 1 && n < max && name[0]) {
			snprintf(z[n].name, sizeof(z[n].name), "%s", name);
			z[n].start = start;
			z[n].end = start + spanned;
			n++;
		}
	}
	fclose(f);
	return n;
}

static bool cma_memory(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kb = 1;
	bool found = false;

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CmaTotal: %llu", &kb) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return !found || kb > 0;
}

static void setup_pinnable(struct pi_pinsrc *src, const uint64_t *pfns, size_t npfn)
{
	static const char *const names[] = { "DMA", "DMA32", "Normal", "Movable", "Device" };
	struct bpf_src *b = src->priv;
	struct pinsrc_bpf__bss *bss = b->skel->bss;
	int max = bss->zone_ids[5];
	unsigned int nodes, nodes_shift = 0, zones_shift, checked = 0;
	uint64_t flags[PROBE_PAGES];
	struct zspan z[64];
	size_t nz;

	bss->pinnable_on = 0;
	if (max < 2 || max > 8 || bss->zonerefs < 2 || (bss->zonerefs - 1) % max)
		return;
	if (bss->has_cma && cma_memory())
		return;
	nodes = (bss->zonerefs - 1) / max;
	if (nodes & (nodes - 1))
		return;
	while ((1U << nodes_shift) < nodes)
		nodes_shift++;
	zones_shift = max <= 2 ? 1 : max <= 4 ? 2 : 3;
	bss->zone_shift = 64 - nodes_shift - zones_shift;
	bss->zone_mask = (1ULL << zones_shift) - 1;

	nz = read_zoneinfo(z, sizeof(z) / sizeof(z[0]));
	if (!nz || npfn > PROBE_PAGES)
		return;
	bss->raw_flags = 1;
	if (bpf_read(src, pfns, npfn, flags) < 0)
		npfn = 0;
	bss->raw_flags = 0;
	for (size_t i = 0; i < npfn; i++) {
		int zone = (int)((flags[i] >> bss->zone_shift) & bss->zone_mask);
		const char *name = NULL;
		bool in = false;

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (bss->zone_ids[k] == zone)
				name = names[k];
		if (!name)
			return;
		for (size_t k = 0; k < nz; k++)
			in |= !strcmp(z[k].name, name) && pfns[i] >= z[k].start && pfns[i] < z[k].end;
		if (!in)
			return;
		checked++;
	}
	if (checked >= 8)
		bss->pinnable_on = 1;
}

/*
 * bpf_rdonly_cast() exists from 6.2, but casting to void (btf_id 0, which
 * gives untrusted read-only memory and scalar loads) only from 6.17
 * (commit f2362a57aeff); older kernels would refuse the fast program and
 * cost a second load.
 */
static bool kernel_has_rdonly_cast(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 17);
}

static int load_skel(struct pinsrc_bpf **ret, bool fast)
{
	struct pinsrc_bpf *skel;
	int r;

	skel = pinsrc_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->target_tgid = (uint32_t)getpid();
	/* verify only the reader used */
	bpf_program__set_autoload(skel->progs.pi_read_fast, fast);
	bpf_program__set_autoload(skel->progs.pi_read, !fast);
	r = pinsrc_bpf__load(skel);
	if (r < 0) {
		pinsrc_bpf__destroy(skel);
		return r;
	}
	*ret = skel;
	return 0;
}

enum pi_bpf_reader pi_pinsrc_bpf_reader(const struct pi_pinsrc *src)
{
	const struct bpf_src *b = src && src->kind == PI_SRC_BPF ? src->priv : NULL;

	return b ? b->reader : PI_BPF_READER_AUTO;
}

int pi_pinsrc_bpf_reports_pinnable(const struct pi_pinsrc *src)
{
	const struct bpf_src *b = src && src->kind == PI_SRC_BPF ? src->priv : NULL;

	return b && b->skel->bss->pinnable_on;
}

int pi_pinsrc_bpf_open_reader(struct pi_pinsrc **ret, enum pi_bpf_reader reader,
			      char *why, size_t whylen)
{
	libbpf_print_fn_t old_print;
	struct pinsrc_bpf *skel = NULL;
	struct bpf_src *b = NULL;
	struct pi_pinsrc *src = NULL;
	uint64_t pfns[PROBE_PAGES], ent[PROBE_PAGES], base = 0;
	void *mem = NULL;
	size_t page_size, good = 0, npfn = 0;
	bool fast;
	int r, prog_fd;

	if (why && whylen)
		why[0] = '\0';
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		r = -errno;
		set_why(why, whylen, "kernel has no BTF (/sys/kernel/btf/vmlinux: %s)", strerror(-r));
		return r == -ENOENT ? -EOPNOTSUPP : r;
	}

	libbpf_last[0] = '\0';
	old_print = libbpf_set_print(libbpf_quiet);

	fast = reader == PI_BPF_READER_FAST ||
	       (reader == PI_BPF_READER_AUTO && kernel_has_rdonly_cast());
	r = load_skel(&skel, fast);
	if (r < 0 && fast && reader == PI_BPF_READER_AUTO) {
		/* a kernel without bpf_rdonly_cast() for syscall programs */
		fast = false;
		libbpf_last[0] = '\0';
		r = load_skel(&skel, false);
	}
	if (r < 0) {
		explain_load(r, why, whylen);
		goto out;
	}
	prog_fd = bpf_program__fd(fast ? skel->progs.pi_read_fast : skel->progs.pi_read);

	/* sizeof(struct page) of this kernel (CO-RE): run the reader on nothing */
	skel->bss->batch_count = 0;
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		if (bpf_prog_test_run_opts(prog_fd, &opts) < 0) {
			r = -errno;
			set_why(why, whylen, "BPF_PROG_TEST_RUN of a syscall program failed: %s", strerror(-r));
			goto out;
		}
	}
	page_size = skel->bss->page_struct_size;
	if (page_size < 32 || page_size > PI_BPF_MAX_PAGE_SIZE) {
		set_why(why, whylen, "unexpected sizeof(struct page) in the kernel BTF");
		r = -ENOTSUP;
		goto out;
	}

	r = fault_probe_pages(skel, &mem, pfns, why, whylen);
	if (r < 0)
		goto out;
	r = vote_base(bpf_map__fd(skel->maps.pi_allocs), pfns, page_size, &base, why, whylen);
	if (r < 0)
		goto out;

	b = calloc(1, sizeof(*b));
	src = calloc(1, sizeof(*src));
	if (!b || !src) {
		r = -ENOMEM;
		goto out;
	}
	b->skel = skel;
	b->prog_fd = prog_fd;
	b->reader = fast ? PI_BPF_READER_FAST : PI_BPF_READER_PROBE;
	skel->bss->vmemmap_base = base;
	src->kind = PI_SRC_BPF;
	src->priv = b;
	src->read = bpf_read;
	src->close = bpf_close;

	/* check the base on our own pages, still mapped */
	for (size_t i = 0; i < PROBE_PAGES; i++)
		if (pfns[i])
			pfns[npfn++] = pfns[i];
	r = bpf_read(src, pfns, npfn, ent);
	if (r < 0) {
		set_why(why, whylen, "running the BPF reader failed: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < npfn; i++)
		good += !(ent[i] & KPP_F_NOPAGE) && (ent[i] & KPP_F_ANON) && KPP_REFCOUNT(ent[i]) >= 1;
	if (good * 2 <= npfn) {
		set_why(why, whylen, "the struct page array found does not match our own pages");
		r = -ENXIO;
		goto out;
	}
	setup_pinnable(src, pfns, npfn);
	skel = NULL;
	b = NULL;
	*ret = src;
	src = NULL;
	r = 0;
out:
	if (mem)
		munmap(mem, PROBE_PAGES * (size_t)sysconf(_SC_PAGESIZE));
	free(src);
	free(b);
	pinsrc_bpf__destroy(skel);
	libbpf_set_print(old_print);
	return r;
}

int pi_pinsrc_bpf_open(struct pi_pinsrc **ret, char *why, size_t whylen)
{
	return pi_pinsrc_bpf_open_reader(ret, PI_BPF_READER_AUTO, why, whylen);
}

#endif /* HAVE_BPF */
