// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/PID/pagemap reader (Documentation/admin-guide/mm/pagemap.rst):
 * large preads, and PAGEMAP_SCAN (6.7+) to find the present/swapped
 * ranges so empty address space is never read entry by entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/types.h>
#include <linux/fs.h>
#include "pininspect/pagemap.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#if !HAVE_DECL_PAGEMAP_SCAN
/* include/uapi/linux/fs.h, 6.7+: the build host's headers may be older */
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_HUGE		(1 << 6)
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};
struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#endif

#define PI_PAGE_SHIFT	12
#define PI_SCAN_VEC	512

struct pi_pagemap {
	int fd;
	bool scan_ok;		/* PAGEMAP_SCAN not yet known to fail */
	bool pfn_seen;		/* a present entry carried a non-zero PFN */
	bool pfn_zero_seen;	/* a present entry carried PFN 0 */
};

int pi_pagemap_open(pid_t pid, struct pi_pagemap **ret)
{
	struct pi_pagemap *pm;
	int fd;

	fd = pi_root_openf(O_RDONLY, "proc/%d/pagemap", (int)pid);
	if (fd < 0)
		return fd;
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		close(fd);
		return -ENOMEM;
	}
	pm->fd = fd;
	pm->scan_ok = true;
	*ret = pm;
	return 0;
}

int pi_pagemap_open_empty(struct pi_pagemap **ret)
{
	struct pi_pagemap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pm->fd = -1;
	*ret = pm;
	return 0;
}

void pi_pagemap_close(struct pi_pagemap *pm)
{
	if (!pm)
		return;
	if (pm->fd >= 0)
		close(pm->fd);
	free(pm);
}

/*
 * The kernel zeroes PFNs for openers without CAP_SYS_ADMIN; PFN 0 is never
 * a user page on the architectures we run on, so a present entry with PFN 0
 * and none with a real PFN means the PFNs are hidden.
 */
bool pi_pagemap_pfns_hidden(const struct pi_pagemap *pm)
{
	return pm->pfn_zero_seen && !pm->pfn_seen;
}

bool pi_pagemap_has_scan(const struct pi_pagemap *pm)
{
	return pm->scan_ok;
}

void pi_pagemap_disable_scan(struct pi_pagemap *pm)
{
	pm->scan_ok = false;
}

int pi_pagemap_alive(struct pi_pagemap *pm)
{
	uint64_t e;
	ssize_t r;

	do
		r = pread(pm->fd, &e, sizeof(e), 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ESRCH ? 0 : -errno;
	return r == (ssize_t)sizeof(e);
}

ssize_t pi_pagemap_read(struct pi_pagemap *pm, uint64_t vaddr, size_t n, uint64_t *out)
{
	off_t off = (off_t)((vaddr >> PI_PAGE_SHIFT) * sizeof(uint64_t));
	size_t want = n * sizeof(uint64_t), got = 0;

	while (got < want) {
		ssize_t r = pread(pm->fd, (char *)out + got, want - got, off + (off_t)got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (got)
				break;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	/* entries are little-endian u64 in host order on the hosts we support */
	for (size_t i = 0; i < got / sizeof(uint64_t); i++) {
		if (out[i] & PM_PRESENT) {
			if (out[i] & PM_PFN_MASK)
				pm->pfn_seen = true;
			else
				pm->pfn_zero_seen = true;
		}
	}
	return (ssize_t)(got / sizeof(uint64_t));
}

int pi_pagemap_scan(struct pi_pagemap *pm, uint64_t start, uint64_t end,
		    struct pi_vrange **ret, size_t *ret_n)
{
	struct page_region vec[PI_SCAN_VEC];
	struct pi_vrange *out = NULL;
	size_t n = 0, cap = 0;
	uint64_t pos = start;

	if (!pm->scan_ok)
		return -EOPNOTSUPP;
	while (pos < end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = pos,
			.end = end,
			.vec = (uintptr_t)vec,
			.vec_len = PI_SCAN_VEC,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE,
		};
		long r;

		/* valgrind does not know this ioctl: keep its output defined */
		memset(vec, 0, sizeof(vec));
		r = ioctl(pm->fd, PAGEMAP_SCAN, &arg);
		if (r < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(out);
			if (e == ENOTTY || e == EINVAL || e == EOPNOTSUPP) {
				pm->scan_ok = false;
				return -EOPNOTSUPP;
			}
			return -e;
		}
		for (long i = 0; i < r; i++) {
			bool huge = vec[i].categories & PAGE_IS_HUGE;

			if (n && out[n - 1].end == vec[i].start && out[n - 1].huge == huge) {
				out[n - 1].end = vec[i].end;
				continue;
			}
			if (pi_grow((void **)&out, &cap, n + 1, sizeof(*out)) < 0) {
				free(out);
				return -ENOMEM;
			}
			out[n++] = (struct pi_vrange){ vec[i].start, vec[i].end, huge };
		}
		if (arg.walk_end <= pos || arg.walk_end > end)
			break;	/* no progress: never spin on a confused kernel */
		pos = arg.walk_end;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
