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

static const uint64_t *sort_keys;

static int cmp_idx(const void *a, const void *b)
{
	uint64_t x = sort_keys[*(const size_t *)a], y = sort_keys[*(const size_t *)b];

	return x < y ? -1 : x > y;
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

int pi_kpage_read(struct pi_kpage_file *f, const uint64_t *pfns, size_t n,
		  uint64_t *out, size_t *ret_missing)
{
	size_t *idx, missing = 0, i = 0;

	if (!n) {
		if (ret_missing)
			*ret_missing = 0;
		return 0;
	}
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		idx[k] = k;
	/* single-threaded library: a static key pointer is safe for qsort */
	sort_keys = pfns;
	qsort(idx, n, sizeof(*idx), cmp_idx);
	sort_keys = NULL;

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
