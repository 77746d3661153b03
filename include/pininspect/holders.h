/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_HOLDERS_H
#define PININSPECT_HOLDERS_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

/* Who holds a range pinned. IO_URING is 0: zeroed holders stay io_uring. */
enum pi_holder_kind {
	PI_HOLDER_IO_URING,	/* registered buffer, range from fdinfo */
	PI_HOLDER_RDMA_MR,	/* RDMA memory region, placed by iova or length (rdma.h) */
	PI_HOLDER_VFIO,		/* pinned pages VmLck (locked_vm) accounts for, not VmPin */
};
const char *pi_holder_kind_name(enum pi_holder_kind k);	/* "io_uring", "rdma_mr", "vfio" */

/* A range some holder pinned. */
struct pi_holder {
	uint64_t start, end;	/* [start, end) as registered, not page aligned */
	int fd;			/* io_uring ring fd; -1 for the other kinds */
	unsigned int index;	/* io_uring: buffer index in that ring; rdma: MR number */
	char desc[48];		/* "io_uring fd 5 buf 0", "rdma mr 3 (lkey 0x1a2b)", "vfio (VmLck)" */
	enum pi_holder_kind kind;
};

struct pi_holder_list {
	struct pi_holder *h;
	size_t n, cap;
	unsigned int rings;		/* io_uring fds seen */
	unsigned int rings_unreadable;	/* fdinfo without the io_uring section after retries */
	/*
	 * Lookup index (pi_holder_list_index), valid while n == idx_n: the
	 * page bounds where the set of holders over a page changes, sorted,
	 * and for each segment [bound[k], bound[k + 1]) the index in h of
	 * the holder pi_holder_find() returns there (SIZE_MAX: none).
	 */
	uint64_t *idx_bound;
	size_t *idx_holder;
	size_t idx_nbounds, idx_n;
};

/*
 * Parse one io_uring fdinfo text. Returns the number of buffers added,
 * -ENOENT when the text has no UserBufs section (a busy ring on 6.15+
 * prints its fdinfo without it), -EINVAL on garbage.
 */
int pi_iouring_fdinfo_parse(const char *buf, size_t len, int fd, struct pi_holder_list *l);
/* Walk /proc/PID/fd and fdinfo for io_uring rings. Missing fdinfo: 0 holders. */
int pi_holders_read(pid_t pid, struct pi_holder_list *ret);
void pi_holder_list_free(struct pi_holder_list *l);
/* the first holder whose range overlaps page [addr, addr + 4096) */
const struct pi_holder *pi_holder_find(const struct pi_holder_list *l, uint64_t addr);
/*
 * Build the lookup index, O(n log n): pi_holder_find() and
 * pi_holder_next_bound() are O(log n) then (a process may register
 * thousands of buffers per ring, and scans look up every page), until
 * holders are added. 0 or -ENOMEM (lookups stay linear).
 */
int pi_holder_list_index(struct pi_holder_list *l);
/* the first page bound above addr where the holders over a page change (UINT64_MAX: none) */
uint64_t pi_holder_next_bound(const struct pi_holder_list *l, uint64_t addr);

#endif
