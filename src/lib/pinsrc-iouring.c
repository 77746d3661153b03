// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_uring registered buffers, the holder pin source: the kernel lists
 * them in the ring's fdinfo (io_uring/fdinfo.c) as
 *   UserBufs:\t<n>
 *   <idx>: 0x<addr>/<len>
 * Since 6.15 a busy ring (trylock failed) prints no io_uring section at
 * all, and 6.1 prints the count without the entries: both are retried.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pininspect/holders.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define PI_FDINFO_TRIES	20

static int add_holder(struct pi_holder_list *l, int fd, unsigned int idx,
		      uint64_t addr, uint64_t len)
{
	struct pi_holder *h;
	int r;

	if (!len || addr + len < addr)
		return -EINVAL;
	r = pi_grow((void **)&l->h, &l->cap, l->n + 1, sizeof(*l->h));
	if (r < 0)
		return r;
	h = &l->h[l->n++];
	h->start = addr;
	h->end = addr + len;
	h->fd = fd;
	h->index = idx;
	h->kind = PI_HOLDER_IO_URING;
	snprintf(h->desc, sizeof(h->desc), "io_uring fd %d buf %u", fd, idx);
	return 0;
}

/* "%5u: 0x%llx/%u" */
static int parse_buf_line(const char *p, const char *le, unsigned int *idx,
			  uint64_t *addr, uint64_t *len)
{
	char tmp[64];
	size_t n = (size_t)(le - p);
	char *s, *colon, *slash;
	uint64_t v;

	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	s = tmp;
	while (*s == ' ')
		s++;
	colon = strchr(s, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (pi_parse_u64(s, 10, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*idx = (unsigned int)v;
	s = colon + 1;
	while (*s == ' ')
		s++;
	if (strncmp(s, "0x", 2))
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (pi_parse_u64(s + 2, 16, addr) < 0)
		return -EINVAL;
	if (pi_parse_u64(slash + 1, 10, len) < 0)
		return -EINVAL;
	return 0;
}

int pi_iouring_fdinfo_parse(const char *buf, size_t len, int fd, struct pi_holder_list *l)
{
	const char *p = buf, *end = buf + len;
	uint64_t announced = 0;
	size_t found = 0, before = l->n;
	bool in_bufs = false, seen = false;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (le - p >= 9 && !memcmp(p, "UserBufs:", 9)) {
			char tmp[24];
			const char *v = p + 9;
			size_t n;

			while (v < le && (*v == '\t' || *v == ' '))
				v++;
			n = (size_t)(le - v);
			if (!n || n >= sizeof(tmp))
				goto garbage;
			memcpy(tmp, v, n);
			tmp[n] = '\0';
			if (pi_parse_u64(tmp, 10, &announced) < 0 || announced > (1u << 20))
				goto garbage;
			in_bufs = seen = true;
		} else if (in_bufs) {
			unsigned int idx;
			uint64_t addr, blen;

			if (parse_buf_line(p, le, &idx, &addr, &blen) < 0) {
				in_bufs = false;	/* next section */
			} else {
				r = add_holder(l, fd, idx, addr, blen);
				if (r < 0)
					goto fail;
				found++;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!seen)
		return -ENOENT;
	if (found != announced) {
		l->n = before;
		return -EAGAIN;		/* listed without the entries: ring was busy */
	}
	return (int)found;
garbage:
	r = -EINVAL;
fail:
	l->n = before;
	return r;
}

static bool fd_is_io_uring(int fddir, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(fddir, name, target, sizeof(target) - 1);

	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[io_uring]") == 0;
}

/*
 * Retries of all rings of one process share this budget: a process with
 * thousands of rings that never list their buffers (kept busy, or a kernel
 * without the section) must not stall the scan 20 ms per ring.
 */
#define PI_FDINFO_RETRY_BUDGET	200

static int read_ring(pid_t pid, int fd, struct pi_holder_list *l, unsigned int *budget)
{
	int r = -ENOENT;

	for (int tries = 0; tries < PI_FDINFO_TRIES; tries++) {
		_cleanup_free_ char *buf = NULL;
		size_t len;

		r = pi_root_readf(&buf, &len, "proc/%d/fdinfo/%d", (int)pid, fd);
		if (r < 0)
			return r;
		r = pi_iouring_fdinfo_parse(buf, len, fd, l);
		if (r != -ENOENT && r != -EAGAIN)
			return r;
		if (!pi_root_is_host() || !*budget)
			break;	/* a fixture does not change between reads */
		--*budget;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return r;
}

int pi_holders_read(pid_t pid, struct pi_holder_list *ret)
{
	struct pi_holder_list l = { 0 };
	struct dirent *de;
	DIR *d;
	unsigned int budget = PI_FDINFO_RETRY_BUDGET;
	char path[32];
	int r;

	snprintf(path, sizeof(path), "proc/%d/fd", (int)pid);
	r = pi_root_opendir(path, &d);
	if (r < 0) {
		*ret = l;
		return r;
	}
	r = 0;
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.' || pi_parse_pid(de->d_name, &fd) < 0)
			continue;
		if (!fd_is_io_uring(dirfd(d), de->d_name))
			continue;
		l.rings++;
		r = read_ring(pid, fd, &l, &budget);
		if (r == -ENOENT || r == -EAGAIN) {
			l.rings_unreadable++;
		} else if (r < 0 && r != -EINVAL) {
			/* fd closed meanwhile is fine; anything else is not */
			if (r != -ENOENT)
				l.rings_unreadable++;
		} else if (r == -EINVAL) {
			l.rings_unreadable++;
		}
		r = 0;
	}
	closedir(d);
	pi_holder_list_index(&l);	/* without memory, lookups stay linear */
	*ret = l;
	return 0;
}

void pi_holder_list_free(struct pi_holder_list *l)
{
	free(l->h);
	free(l->idx_bound);
	free(l->idx_holder);
	memset(l, 0, sizeof(*l));
}

#define PG_DOWN(a)	((a) & ~(uint64_t)4095)
/* UINT64_MAX for an end inside the last page: a bound past every page */
#define PG_UP(a)	((a) > PG_DOWN(UINT64_MAX) ? UINT64_MAX : PG_DOWN((a) + 4095))

static bool index_valid(const struct pi_holder_list *l)
{
	return l->idx_bound && l->idx_n == l->n;
}

/* k with bound[k] <= addr < bound[k + 1], or SIZE_MAX below bound[0] */
static size_t index_segment(const struct pi_holder_list *l, uint64_t addr)
{
	size_t lo = 0, hi = l->idx_nbounds;

	if (!hi || addr < l->idx_bound[0])
		return SIZE_MAX;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->idx_bound[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

const struct pi_holder *pi_holder_find(const struct pi_holder_list *l, uint64_t addr)
{
	if (index_valid(l) && !(addr & 4095)) {
		size_t k = index_segment(l, addr);

		if (k == SIZE_MAX || k + 1 >= l->idx_nbounds || l->idx_holder[k] == SIZE_MAX)
			return NULL;
		return &l->h[l->idx_holder[k]];
	}
	/* start < addr + 4096, without wrapping in the last page */
	for (size_t i = 0; i < l->n; i++)
		if ((l->h[i].start <= addr || l->h[i].start - addr < 4096) && addr < l->h[i].end)
			return &l->h[i];
	return NULL;
}

uint64_t pi_holder_next_bound(const struct pi_holder_list *l, uint64_t addr)
{
	uint64_t until = UINT64_MAX;

	if (index_valid(l)) {
		size_t k = index_segment(l, addr);

		k = k == SIZE_MAX ? 0 : k + 1;
		return k < l->idx_nbounds ? l->idx_bound[k] : UINT64_MAX;
	}
	for (size_t i = 0; i < l->n; i++) {
		uint64_t b0 = PG_DOWN(l->h[i].start), b1 = PG_UP(l->h[i].end);

		if (b0 > addr && b0 < until)
			until = b0;
		if (b1 > addr && b1 < until)
			until = b1;
	}
	return until;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const struct pi_holder_list *sort_list;

static int cmp_by_start(const void *a, const void *b)
{
	uint64_t x = PG_DOWN(sort_list->h[*(const size_t *)a].start);
	uint64_t y = PG_DOWN(sort_list->h[*(const size_t *)b].start);

	return x < y ? -1 : x > y;
}

/* min-heap of holder indices: the lowest index is the one pi_holder_find() returns */
static void heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i && heap[(i - 1) / 2] > v) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static void heap_pop(size_t *heap, size_t *n)
{
	size_t v = heap[--*n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= v)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = v;
}

int pi_holder_list_index(struct pi_holder_list *l)
{
	uint64_t *bound = NULL;
	size_t *holder = NULL, *order = NULL, *heap = NULL, nb = 0, nheap = 0, j = 0;
	int r = -ENOMEM;

	free(l->idx_bound);
	free(l->idx_holder);
	l->idx_bound = NULL;
	l->idx_holder = NULL;
	l->idx_nbounds = l->idx_n = 0;
	if (!l->n)
		return 0;
	if (l->n > SIZE_MAX / 2 / sizeof(*bound))
		return -ENOMEM;
	bound = malloc(2 * l->n * sizeof(*bound));
	holder = malloc(2 * l->n * sizeof(*holder));
	order = malloc(l->n * sizeof(*order));
	heap = malloc(l->n * sizeof(*heap));
	if (!bound || !holder || !order || !heap)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		bound[nb++] = PG_DOWN(l->h[i].start);
		bound[nb++] = PG_UP(l->h[i].end);
		order[i] = i;
	}
	qsort(bound, nb, sizeof(*bound), cmp_u64);
	{
		size_t u = 0;

		for (size_t i = 0; i < nb; i++)
			if (!u || bound[i] != bound[u - 1])
				bound[u++] = bound[i];
		nb = u;
	}
	sort_list = l;
	qsort(order, l->n, sizeof(*order), cmp_by_start);
	sort_list = NULL;
	/* sweep the segments in address order with the holders over each */
	for (size_t k = 0; k < nb; k++) {
		while (j < l->n && PG_DOWN(l->h[order[j]].start) <= bound[k])
			heap_push(heap, &nheap, order[j++]);
		while (nheap && PG_UP(l->h[heap[0]].end) <= bound[k])
			heap_pop(heap, &nheap);
		holder[k] = nheap ? heap[0] : SIZE_MAX;
	}
	l->idx_bound = bound;
	l->idx_holder = holder;
	l->idx_nbounds = nb;
	l->idx_n = l->n;
	bound = NULL;
	holder = NULL;
	r = 0;
out:
	free(bound);
	free(holder);
	free(order);
	free(heap);
	return r;
}
