// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PFN-indexed files (/proc/kpageflags, /proc/kpagecount, kpagepin/pages):
 * one u64 per PFN. The kernel's per-entry work dominates, so we read only
 * the PFNs asked for, sorted and merged into runs, one pread per run.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "pininspect/kpage.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

/* a gap this small is cheaper to read through than to split the run */
#define PI_KPAGE_GAP	8
#define PI_KPAGE_BUF	8192

const struct pi_flag_name pi_kpf_names[] = {
	{ KPF_LOCKED, "locked" }, { KPF_ERROR, "error" },
	{ KPF_REFERENCED, "referenced" }, { KPF_UPTODATE, "uptodate" },
	{ KPF_DIRTY, "dirty" }, { KPF_LRU, "lru" }, { KPF_ACTIVE, "active" },
	{ KPF_SLAB, "slab" }, { KPF_WRITEBACK, "writeback" },
	{ KPF_RECLAIM, "reclaim" }, { KPF_BUDDY, "buddy" }, { KPF_MMAP, "mmap" },
	{ KPF_ANON, "anon" }, { KPF_SWAPCACHE, "swapcache" },
	{ KPF_SWAPBACKED, "swapbacked" }, { KPF_COMPOUND_HEAD, "compound_head" },
	{ KPF_COMPOUND_TAIL, "compound_tail" }, { KPF_HUGE, "huge" },
	{ KPF_UNEVICTABLE, "unevictable" }, { KPF_HWPOISON, "hwpoison" },
	{ KPF_NOPAGE, "nopage" }, { KPF_KSM, "ksm" }, { KPF_THP, "thp" },
	{ KPF_OFFLINE, "offline" }, { KPF_ZERO_PAGE, "zero_page" },
	{ KPF_IDLE, "idle" }, { KPF_PGTABLE, "pgtable" },
	{ KPF_RESERVED, "reserved" }, { KPF_MLOCKED, "mlocked" },
	{ KPF_MAPPEDTODISK, "mappedtodisk" }, { KPF_PRIVATE, "private" },
	{ KPF_PRIVATE_2, "private_2" }, { KPF_OWNER_PRIVATE, "owner_private" },
	{ KPF_ARCH, "arch" }, { KPF_UNCACHED, "uncached" },
	{ KPF_SOFTDIRTY, "softdirty" }, { KPF_ARCH_2, "arch_2" },
	{ KPF_ARCH_3, "arch_3" },
};
const size_t pi_kpf_names_count = ARRAY_SIZE(pi_kpf_names);

struct pi_kpage_file {
	int fd;
	uint64_t buf[PI_KPAGE_BUF];
};

int pi_kpage_open(const char *relpath, struct pi_kpage_file **ret)
{
	struct pi_kpage_file *f;
	int fd = pi_root_open(relpath, O_RDONLY);

	if (fd < 0)
		return fd;
	f = malloc(sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	*ret = f;
	return 0;
}

void pi_kpage_close(struct pi_kpage_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}

void pi_le64_decode(const unsigned char *buf, size_t n, uint64_t *out)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;

		for (int b = 7; b >= 0; b--)
			v = v << 8 | buf[i * 8 + (size_t)b];
		out[i] = v;
	}
}

/* read entries [first, first + count) into f->buf; returns entries read */
static ssize_t read_span(struct pi_kpage_file *f, uint64_t first, size_t count)
{
	size_t want = count * 8, got = 0;

	if (first > (uint64_t)INT64_MAX / 8)
		return 0;
	while (got < want) {
		ssize_t r = pread(f->fd, (char *)f->buf + got, want - got,
				  (off_t)(first * 8 + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* kpagepin and kpageflags fail reads past their bound: treat as EOF */
			if (errno == EINVAL && got == 0)
				return 0;
			return got ? (ssize_t)(got / 8) : -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)(got / 8);
}

struct pfn_idx {
	uint64_t pfn;
	size_t idx;
};

static int cmp_pfn_idx(const void *a, const void *b)
{
	const struct pfn_idx *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* PFNs too far apart to pack with their index (garbage entries): qsort */
static int sort_order_wide(const uint64_t *pfns, size_t n, size_t *order)
{
	struct pfn_idx *v = malloc(n * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct pfn_idx){ pfns[i], i };
	qsort(v, n, sizeof(*v), cmp_pfn_idx);
	for (size_t i = 0; i < n; i++)
		order[i] = v[i].idx;
	free(v);
	return 0;
}

/*
 * order[] = indices of pfns[] by ascending PFN. Keys (pfn - min) << ibits
 * | index, LSD radix sort, 11 bits a pass over the bits in use: PFNs of a
 * chunk of 4k pages are scattered over memory, and qsort with an indirect
 * compare cost more than the reads it merges.
 */
#define RADIX_BITS	11
#define RADIX		(1U << RADIX_BITS)

static int sort_order(const uint64_t *pfns, size_t n, size_t *order)
{
	uint64_t min = UINT64_MAX, max = 0, top = 0, imask, *keys, *tmp;
	unsigned int ibits = 0, bits = 0;
	uint32_t *count;
	bool sorted = true;

	for (size_t i = 0; i < n; i++) {
		if (pfns[i] < min)
			min = pfns[i];
		if (pfns[i] > max)
			max = pfns[i];
		if (i && pfns[i] < pfns[i - 1])
			sorted = false;
	}
	if (sorted) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		return 0;
	}
	while (((uint64_t)1 << ibits) < n)
		ibits++;
	if ((max - min) > (UINT64_MAX >> ibits))
		return sort_order_wide(pfns, n, order);
	imask = ((uint64_t)1 << ibits) - 1;
	keys = malloc(n * sizeof(*keys));
	tmp = malloc(n * sizeof(*tmp));
	count = malloc(RADIX * sizeof(*count));
	if (!keys || !tmp || !count) {
		free(keys);
		free(tmp);
		free(count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = (pfns[i] - min) << ibits | i;
		top |= keys[i];
	}
	while (bits < 64 && (top >> bits))
		bits++;
	for (unsigned int shift = 0; shift < bits; shift += RADIX_BITS) {
		uint32_t sum = 0;

		memset(count, 0, RADIX * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(keys[i] >> shift) & (RADIX - 1)]++;
		for (size_t d = 0; d < RADIX; d++) {
			uint32_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(keys[i] >> shift) & (RADIX - 1)]++] = keys[i];
		memcpy(keys, tmp, n * sizeof(*keys));
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (size_t)(keys[i] & imask);
	free(keys);
	free(tmp);
	free(count);
	return 0;
}

int pi_kpage_read(struct pi_kpage_file *f, const uint64_t *pfns, size_t n,
		  uint64_t *out, size_t *ret_missing)
{
	size_t *idx, missing = 0, i = 0;
	int r;

	if (ret_missing)
		*ret_missing = 0;
	if (!n)
		return 0;
	if (n > UINT32_MAX)
		return -E2BIG;
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	r = sort_order(pfns, n, idx);
	if (r < 0) {
		free(idx);
		return r;
	}

	while (i < n) {
		uint64_t first = pfns[idx[i]], last = first;
		size_t j = i + 1;
		ssize_t got;

		while (j < n && pfns[idx[j]] - last <= PI_KPAGE_GAP &&
		       pfns[idx[j]] - first < PI_KPAGE_BUF) {
			last = pfns[idx[j]];
			j++;
		}
		got = read_span(f, first, (size_t)(last - first + 1));
		if (got < 0) {
			free(idx);
			return (int)got;
		}
		for (size_t k = i; k < j; k++) {
			uint64_t off = pfns[idx[k]] - first;

			if (off < (uint64_t)got) {
				out[idx[k]] = f->buf[off];
			} else {
				out[idx[k]] = 0;
				missing++;
			}
		}
		i = j;
	}
	free(idx);
	if (ret_missing)
		*ret_missing = missing;
	return 0;
}
