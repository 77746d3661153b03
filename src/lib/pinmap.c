// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * System-wide pin map: physical layout, PFN scan through an exact pin
 * source, reverse map PFN -> (process, vaddr) from the processes' pagemaps.
 */
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "pininspect/pinmap.h"
#include "pininspect/root.h"
#include "pininspect/util.h"
#include "pininspect/scan.h"

#define PI_PAGE_SIZE	4096ULL
/* 52-bit physical addresses: anything above is garbage (hostile fixture trees) */
#define PI_PFN_LIMIT	(1ULL << 40)
#define PI_USER_TOP	(1ULL << 47)

/* ---------------------------------------------------------------- layout */

/* snprintf into a path buffer; vsnprintf keeps -Wformat-truncation quiet (we check the length) */
static int _printf_(3, 4) pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int add_zone(struct pi_layout *l, size_t *cap, int node, const char *name)
{
	struct pi_zone_span *z;

	if (pi_grow((void **)&l->zones, cap, l->nzones + 1, sizeof(*l->zones)) < 0)
		return -ENOMEM;
	z = &l->zones[l->nzones++];
	memset(z, 0, sizeof(*z));
	z->node = node;
	(void)pathf(z->name, sizeof(z->name), "%s", name);
	lower(z->name);
	return 0;
}

int pi_zoneinfo_parse(const char *buf, size_t len, struct pi_layout *l)
{
	const char *p = buf, *end = buf + len;
	size_t cap = l->nzones;
	uint64_t spanned = 0;
	bool in_zone = false;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[256], name[32];
		unsigned long long v;
		int node;

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl ? nl + 1 : end;

		if (sscanf(line, "Node %d, zone %31s", &node, name) == 2) {
			if (in_zone && l->nzones) {
				struct pi_zone_span *z = &l->zones[l->nzones - 1];
				z->end = z->start + spanned;
			}
			r = add_zone(l, &cap, node, name);
			if (r < 0)
				return r;
			in_zone = true;
			spanned = 0;
			continue;
		}
		if (!in_zone)
			continue;
		if (sscanf(line, " spanned %llu", &v) == 1)
			spanned = v;
		else if (sscanf(line, " present %llu", &v) == 1)
			l->zones[l->nzones - 1].present = v;
		else if (sscanf(line, " managed %llu", &v) == 1)
			l->zones[l->nzones - 1].managed = v;
		else if (sscanf(line, " start_pfn: %llu", &v) == 1)
			l->zones[l->nzones - 1].start = v;
	}
	if (in_zone && l->nzones) {
		struct pi_zone_span *z = &l->zones[l->nzones - 1];
		z->end = z->start + spanned;
	}
	/* drop empty zones and impossible spans */
	size_t k = 0;
	for (size_t i = 0; i < l->nzones; i++)
		if (l->zones[i].end > l->zones[i].start && l->zones[i].start < PI_PFN_LIMIT &&
		    l->zones[i].end <= PI_PFN_LIMIT)
			l->zones[k++] = l->zones[i];
	l->nzones = k;
	return 0;
}

static int read_trim(const char *path, char *buf, size_t len)
{
	_cleanup_free_ char *b = NULL;
	size_t n;
	int r = pi_root_read_file(path, &b, &n);

	if (r < 0)
		return r;
	while (n && isspace((unsigned char)b[n - 1]))
		n--;
	b[n] = '\0';
	snprintf(buf, len, "%s", b);
	return 0;
}

static int read_u64(const char *path, int base, uint64_t *ret)
{
	char buf[64];
	int r = read_trim(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	return pi_parse_u64(buf, base, ret);
}

static int cmp_block(const void *a, const void *b)
{
	const struct pi_mem_block *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int read_blocks(struct pi_layout *l)
{
	char path[128];
	uint64_t bs;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, r;

	r = read_u64("sys/devices/system/memory/block_size_bytes", 16, &bs);
	if (r < 0 || bs < PI_PAGE_SIZE || bs / PI_PAGE_SIZE >= PI_PFN_LIMIT)
		return r < 0 ? r : -EINVAL;
	l->block_pages = bs / PI_PAGE_SIZE;
	fd = pi_root_open("sys/devices/system/memory", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	r = 0;
	while ((de = readdir(d))) {
		struct pi_mem_block *b;
		uint64_t id, v;
		int bfd;

		if (strncmp(de->d_name, "memory", 6) || pi_parse_u64(de->d_name + 6, 10, &id) < 0 ||
		    id >= PI_PFN_LIMIT / l->block_pages)
			continue;
		if (pi_grow((void **)&l->blocks, &cap, l->nblocks + 1, sizeof(*l->blocks)) < 0) {
			r = -ENOMEM;
			break;
		}
		b = &l->blocks[l->nblocks++];
		memset(b, 0, sizeof(*b));
		b->id = id;
		b->node = -1;
		pathf(path, sizeof(path), "sys/devices/system/memory/%s/state", de->d_name);
		if (read_trim(path, b->state, sizeof(b->state)) < 0)
			snprintf(b->state, sizeof(b->state), "?");
		b->online = strcmp(b->state, "online") == 0;
		pathf(path, sizeof(path), "sys/devices/system/memory/%s/valid_zones", de->d_name);
		if (read_trim(path, b->zones, sizeof(b->zones)) == 0)
			lower(b->zones);
		pathf(path, sizeof(path), "sys/devices/system/memory/%s/removable", de->d_name);
		if (read_u64(path, 10, &v) == 0) {
			b->removable_known = true;
			b->removable = v != 0;
		}
		/* memoryN/nodeK link names the node */
		pathf(path, sizeof(path), "sys/devices/system/memory/%s", de->d_name);
		bfd = pi_root_open(path, O_RDONLY | O_DIRECTORY);
		if (bfd >= 0) {
			DIR *bd = fdopendir(bfd);
			struct dirent *be;

			if (!bd) {
				close(bfd);
				continue;
			}
			while ((be = readdir(bd))) {
				int node;

				if (strncmp(be->d_name, "node", 4) == 0 &&
				    pi_parse_pid(be->d_name + 4, &node) == 0) {
					b->node = node;
					break;
				}
				if (strcmp(be->d_name, "node0") == 0)
					b->node = 0;
			}
			closedir(bd);
		}
	}
	closedir(d);
	if (r == 0 && l->nblocks > 1)	/* qsort(NULL, 0) is undefined (UBSan) */
		qsort(l->blocks, l->nblocks, sizeof(*l->blocks), cmp_block);
	return r;
}

/* /sys/devices/system/node/nodeN/memoryM: for blocks without a nodeK link */
static void read_block_nodes(struct pi_layout *l)
{
	struct dirent *de;
	DIR *d;

	if (pi_root_opendir("sys/devices/system/node", &d) < 0)
		return;
	while ((de = readdir(d))) {
		char path[128];
		struct dirent *me;
		DIR *nd;
		int node;

		if (strncmp(de->d_name, "node", 4) || pi_parse_pid(de->d_name + 4, &node) < 0)
			continue;
		pathf(path, sizeof(path), "sys/devices/system/node/%s", de->d_name);
		if (pi_root_opendir(path, &nd) < 0)
			continue;
		while ((me = readdir(nd))) {
			uint64_t id;
			struct pi_mem_block *b;

			if (strncmp(me->d_name, "memory", 6) || pi_parse_u64(me->d_name + 6, 10, &id) < 0)
				continue;
			b = (struct pi_mem_block *)pi_layout_block(l, id);
			if (b && b->node < 0)
				b->node = node;
		}
		closedir(nd);
	}
	closedir(d);
}

/*
 * CMA: names from /sys/kernel/mm/cma/<name>; PFN ranges only in debugfs:
 * cma/<name>/{base_pfn,count}, or per range cma/<name>/ranges/<i>/{base_pfn,count}
 * on kernels with multi-range areas.
 */
static int read_cma(struct pi_layout *l)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int r = pi_root_opendir("sys/kernel/mm/cma", &d);

	if (r < 0)
		return r;
	l->cma_sysfs = true;
	l->cma_ranges_known = true;
	while ((de = readdir(d))) {
		char path[256];
		uint64_t total = 0, base, count;
		bool found = false;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(l->cma[0].name))
			continue;
		pathf(path, sizeof(path), "sys/kernel/mm/cma/%s/total_pages", de->d_name);
		(void)read_u64(path, 10, &total);
		for (int i = -1; i < 64; i++) {
			struct pi_cma_area *a;
			char p2[sizeof(path)];

			if (i < 0)
				pathf(path, sizeof(path), "sys/kernel/debug/cma/%s", de->d_name);
			else
				pathf(path, sizeof(path), "sys/kernel/debug/cma/%s/ranges/%d", de->d_name, i);
			pathf(p2, sizeof(p2), "%s/base_pfn", path);
			if (read_u64(p2, 0, &base) < 0) {
				if (i >= 0)
					break;
				continue;
			}
			pathf(p2, sizeof(p2), "%s/count", path);
			if (read_u64(p2, 0, &count) < 0) {
				if (i < 0)
					continue;	/* multi-range: count per range */
				break;
			}
			if (pi_grow((void **)&l->cma, &cap, l->ncma + 1, sizeof(*l->cma)) < 0) {
				closedir(d);
				return -ENOMEM;
			}
			if (base >= PI_PFN_LIMIT || count > PI_PFN_LIMIT - base)
				break;	/* garbage: the area's range stays unknown */
			a = &l->cma[l->ncma++];
			memset(a, 0, sizeof(*a));
			snprintf(a->name, sizeof(a->name), "%s", de->d_name);
			a->start = base;
			a->end = base + count;
			a->total_pages = total;
			found = true;
			if (i < 0)
				break;
		}
		if (!found) {
			struct pi_cma_area *a;

			if (pi_grow((void **)&l->cma, &cap, l->ncma + 1, sizeof(*l->cma)) < 0) {
				closedir(d);
				return -ENOMEM;
			}
			a = &l->cma[l->ncma++];
			memset(a, 0, sizeof(*a));
			snprintf(a->name, sizeof(a->name), "%s", de->d_name);
			a->total_pages = total;
			l->cma_ranges_known = false;
		}
	}
	closedir(d);
	return 0;
}

/* top-level "START-END : System RAM" lines; all-zero addresses (no root) leave ram_known false */
int pi_iomem_parse(const char *buf, size_t len, struct pi_layout *l)
{
	const char *p = buf, *end = buf + len;
	size_t cap = 0;
	bool nonzero = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[160];
		unsigned long long a, b;
		int off = 0;

		if (ll >= sizeof(line))
			ll = sizeof(line) - 1;
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl ? nl + 1 : end;
		if (line[0] == ' ')
			continue;	/* nested resources (Kernel code, ...) */
		if (sscanf(line, "%llx-%llx : %n", &a, &b, &off) != 2 || !off ||
		    strcmp(line + off, "System RAM") != 0 || b < a)
			continue;
		if (b / PI_PAGE_SIZE >= PI_PFN_LIMIT)
			continue;
		if (a || b)
			nonzero = true;
		if (pi_grow((void **)&l->ram, &cap, l->nram + 1, sizeof(*l->ram)) < 0)
			return -ENOMEM;
		l->ram[l->nram].start = (a + PI_PAGE_SIZE - 1) / PI_PAGE_SIZE;
		l->ram[l->nram].end = (b + 1) / PI_PAGE_SIZE;
		l->nram++;
	}
	l->ram_known = nonzero;
	return 0;
}

int64_t pi_layout_ram_pages(const struct pi_layout *l, uint64_t start, uint64_t end)
{
	uint64_t n = 0;

	if (!l->ram_known)
		return -1;
	for (size_t i = 0; i < l->nram; i++) {
		uint64_t a = l->ram[i].start > start ? l->ram[i].start : start;
		uint64_t b = l->ram[i].end < end ? l->ram[i].end : end;

		if (a < b)
			n += b - a;
	}
	return (int64_t)n;
}

static int cmp_cma(const void *a, const void *b)
{
	const struct pi_cma_area *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

int pi_layout_read(struct pi_layout *ret)
{
	struct pi_layout l = { 0 };
	_cleanup_free_ char *zi = NULL;
	size_t len;
	int r;

	r = pi_root_read_file("proc/zoneinfo", &zi, &len);
	if (r == 0) {
		r = pi_zoneinfo_parse(zi, len, &l);
		if (r < 0) {
			pi_layout_free(&l);
			return r;
		}
	}
	r = read_blocks(&l);
	if (r == -ENOMEM) {
		pi_layout_free(&l);
		return r;
	}
	read_block_nodes(&l);
	free(zi);
	zi = NULL;
	if (pi_root_read_file("proc/iomem", &zi, &len) == 0 &&
	    pi_iomem_parse(zi, len, &l) == -ENOMEM) {
		pi_layout_free(&l);
		return -ENOMEM;
	}
	r = read_cma(&l);
	if (r == -ENOMEM) {
		pi_layout_free(&l);
		return r;
	}
	if (l.ncma > 1)
		qsort(l.cma, l.ncma, sizeof(*l.cma), cmp_cma);	/* readdir order is the filesystem's */
	if (!l.nzones && !l.nblocks) {
		pi_layout_free(&l);
		return -ENOENT;
	}
	*ret = l;
	return 0;
}

void pi_layout_free(struct pi_layout *l)
{
	free(l->zones);
	free(l->blocks);
	free(l->cma);
	free(l->ram);
	memset(l, 0, sizeof(*l));
}

const struct pi_mem_block *pi_layout_block(const struct pi_layout *l, uint64_t id)
{
	size_t lo = 0, hi = l->nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->blocks[mid].id == id)
			return &l->blocks[mid];
		if (l->blocks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int64_t pi_layout_block_id(const struct pi_layout *l, uint64_t pfn)
{
	if (!l->block_pages || !pi_layout_block(l, pfn / l->block_pages))
		return -1;
	return (int64_t)(pfn / l->block_pages);
}

static const struct pi_zone_span *zone_span(const struct pi_layout *l, uint64_t pfn)
{
	const struct pi_zone_span *found = NULL;

	/* overlapping spans (movable within normal): the higher zone, listed later, wins */
	for (size_t i = 0; i < l->nzones; i++)
		if (pfn >= l->zones[i].start && pfn < l->zones[i].end)
			found = &l->zones[i];
	return found;
}

int pi_layout_node(const struct pi_layout *l, uint64_t pfn)
{
	const struct pi_zone_span *z;
	int64_t id = pi_layout_block_id(l, pfn);

	if (id >= 0) {
		const struct pi_mem_block *b = pi_layout_block(l, (uint64_t)id);

		if (b && b->node >= 0)
			return b->node;
	}
	z = zone_span(l, pfn);
	return z ? z->node : -1;
}

const char *pi_layout_zone(const struct pi_layout *l, uint64_t pfn)
{
	const struct pi_zone_span *z;
	int64_t id = pi_layout_block_id(l, pfn);

	if (id >= 0) {
		const struct pi_mem_block *b = pi_layout_block(l, (uint64_t)id);

		/* an online block prints the one zone it belongs to */
		if (b && b->online && b->zones[0] && !strchr(b->zones, ' ') &&
		    strcmp(b->zones, "none") != 0)
			return b->zones;
	}
	z = zone_span(l, pfn);
	return z ? z->name : "?";
}

const struct pi_cma_area *pi_layout_cma(const struct pi_layout *l, uint64_t pfn)
{
	for (size_t i = 0; i < l->ncma; i++)
		if (pfn >= l->cma[i].start && pfn < l->cma[i].end)
			return &l->cma[i];
	return NULL;
}

bool pi_layout_pfn_movable(const struct pi_layout *l, uint64_t pfn)
{
	return pi_layout_cma(l, pfn) || strcmp(pi_layout_zone(l, pfn), "movable") == 0;
}

/* ---------------------------------------------------------------- ranges */

int pi_pfn_ranges_add(struct pi_pfn_ranges *s, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	if (pi_grow((void **)&s->r, &s->cap, s->n + 1, sizeof(*s->r)) < 0)
		return -ENOMEM;
	s->r[s->n++] = (struct pi_pfn_range){ start, end };
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pi_pfn_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

void pi_pfn_ranges_normalize(struct pi_pfn_ranges *s)
{
	size_t k = 0;

	if (!s->n)
		return;
	qsort(s->r, s->n, sizeof(*s->r), cmp_range);
	for (size_t i = 1; i < s->n; i++) {
		if (s->r[i].start <= s->r[k].end) {
			if (s->r[i].end > s->r[k].end)
				s->r[k].end = s->r[i].end;
		} else {
			s->r[++k] = s->r[i];
		}
	}
	s->n = k + 1;
}

int pi_pfn_ranges_intersect(struct pi_pfn_ranges *a, const struct pi_pfn_ranges *b)
{
	struct pi_pfn_ranges out = { 0 };
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		uint64_t s = a->r[i].start > b->r[j].start ? a->r[i].start : b->r[j].start;
		uint64_t e = a->r[i].end < b->r[j].end ? a->r[i].end : b->r[j].end;

		if (s < e && pi_pfn_ranges_add(&out, s, e) < 0) {
			pi_pfn_ranges_free(&out);
			return -ENOMEM;
		}
		if (a->r[i].end < b->r[j].end)
			i++;
		else
			j++;
	}
	pi_pfn_ranges_free(a);
	*a = out;
	return 0;
}

uint64_t pi_pfn_ranges_pages(const struct pi_pfn_ranges *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->r[i].end - s->r[i].start;
	return n;
}

void pi_pfn_ranges_free(struct pi_pfn_ranges *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

int pi_pfn_range_parse(const char *s, struct pi_pfn_range *ret)
{
	char a[32], b[32];
	const char *sep = strpbrk(s, "-+");
	uint64_t x, y;

	if (!sep || (size_t)(sep - s) >= sizeof(a) || strlen(sep + 1) >= sizeof(b))
		return -EINVAL;
	memcpy(a, s, (size_t)(sep - s));
	a[sep - s] = '\0';
	strcpy(b, sep + 1);
	if (pi_parse_u64(a, 0, &x) < 0 || pi_parse_u64(b, 0, &y) < 0)
		return -EINVAL;
	if (*sep == '+') {
		if (y > UINT64_MAX - x)
			return -ERANGE;
		y += x;
	}
	if (y <= x)
		return -EINVAL;
	ret->start = x;
	ret->end = y;
	return 0;
}

int pi_layout_all(const struct pi_layout *l, struct pi_pfn_ranges *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < l->nzones; i++)
		if (pi_pfn_ranges_add(ret, l->zones[i].start, l->zones[i].end) < 0)
			return -ENOMEM;
	if (!l->nzones && l->block_pages)
		for (size_t i = 0; i < l->nblocks; i++)
			if (pi_pfn_ranges_add(ret, l->blocks[i].id * l->block_pages,
					      (l->blocks[i].id + 1) * l->block_pages) < 0)
				return -ENOMEM;
	pi_pfn_ranges_normalize(ret);
	return 0;
}

int pi_layout_node_ranges(const struct pi_layout *l, int node, struct pi_pfn_ranges *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < l->nzones; i++)
		if (l->zones[i].node == node &&
		    pi_pfn_ranges_add(ret, l->zones[i].start, l->zones[i].end) < 0)
			return -ENOMEM;
	if (!l->nzones && l->block_pages)
		for (size_t i = 0; i < l->nblocks; i++)
			if (l->blocks[i].node == node &&
			    pi_pfn_ranges_add(ret, l->blocks[i].id * l->block_pages,
					      (l->blocks[i].id + 1) * l->block_pages) < 0)
				return -ENOMEM;
	pi_pfn_ranges_normalize(ret);
	return 0;
}

int pi_layout_zone_ranges(const struct pi_layout *l, const char *name, struct pi_pfn_ranges *ret)
{
	bool known = false;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < l->nzones; i++) {
		if (strcasecmp(l->zones[i].name, name))
			continue;
		known = true;
		if (pi_pfn_ranges_add(ret, l->zones[i].start, l->zones[i].end) < 0)
			return -ENOMEM;
	}
	/* blocks onlined to this zone outside the zoneinfo spans (hotplug) */
	for (size_t i = 0; l->block_pages && i < l->nblocks; i++) {
		if (!l->blocks[i].online || strcasecmp(l->blocks[i].zones, name))
			continue;
		known = true;
		if (pi_pfn_ranges_add(ret, l->blocks[i].id * l->block_pages,
				      (l->blocks[i].id + 1) * l->block_pages) < 0)
			return -ENOMEM;
	}
	pi_pfn_ranges_normalize(ret);
	return known || l->nzones == 0 ? 0 : -ENOENT;
}

int pi_layout_block_ranges(const struct pi_layout *l, uint64_t id, struct pi_pfn_ranges *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!l->block_pages)
		return -EOPNOTSUPP;
	if (!pi_layout_block(l, id))
		return -ENOENT;
	return pi_pfn_ranges_add(ret, id * l->block_pages, (id + 1) * l->block_pages);
}

int pi_layout_cma_ranges(const struct pi_layout *l, struct pi_pfn_ranges *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!l->cma_sysfs)
		return -EOPNOTSUPP;
	if (!l->cma_ranges_known)
		return -ENODATA;
	for (size_t i = 0; i < l->ncma; i++)
		if (pi_pfn_ranges_add(ret, l->cma[i].start, l->cma[i].end) < 0)
			return -ENOMEM;
	pi_pfn_ranges_normalize(ret);
	return 0;
}

/* ---------------------------------------------------------------- scan */

#define PI_MAP_BATCH	(64 * 1024)

static int set_add(struct pi_pinned_set *s, uint64_t pfn, uint64_t ent)
{
	if (pi_grow((void **)&s->p, &s->cap, s->n + 1, sizeof(*s->p)) < 0)
		return -ENOMEM;
	s->p[s->n++] = (struct pi_pinned_pfn){ pfn, ent };
	return 0;
}

int pi_pinmap_scan(struct pi_pinsrc *src, const struct pi_pfn_ranges *ranges, size_t batch,
		   struct pi_pinned_set *ret)
{
	struct pi_pinned_set s = { 0 };
	uint64_t *pfns, *out;
	int r = 0;

	if (!batch)
		batch = PI_MAP_BATCH;
	pfns = malloc(batch * sizeof(*pfns));
	out = malloc(batch * sizeof(*out));
	if (!pfns || !out) {
		free(pfns);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ranges->n && r == 0; i++) {
		uint64_t pos = ranges->r[i].start;

		while (pos < ranges->r[i].end && r == 0) {
			uint64_t left = ranges->r[i].end - pos;
			size_t k = left < batch ? (size_t)left : batch;

			for (size_t j = 0; j < k; j++)
				pfns[j] = pos + j;
			r = pi_pinsrc_read(src, pfns, k, out);
			if (r < 0)
				break;
			for (size_t j = 0; j < k; j++) {
				uint64_t e = out[j];

				if (e & KPP_F_NOPAGE) {
					s.nopage++;
					continue;
				}
				if (pi_pin_entry_pinned(e))
					r = set_add(&s, pfns[j], e);
				else if (e & KPP_F_MAYBE_PINNED)
					s.maybe_explained++;
				if (r < 0)
					break;
			}
			s.scanned += k;
			pos += k;
		}
	}
	free(pfns);
	free(out);
	if (r < 0) {
		pi_pinned_set_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

void pi_pinned_set_free(struct pi_pinned_set *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

ssize_t pi_pinned_set_find(const struct pi_pinned_set *s, uint64_t pfn)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->p[mid].pfn == pfn)
			return (ssize_t)mid;
		if (s->p[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---------------------------------------------------------------- rmap */

#define PI_RMAP_CHUNK 4096

static int owner_add(struct pi_rmap *r, uint32_t idx, uint32_t proc, uint64_t addr)
{
	if (pi_grow((void **)&r->owners, &r->cap, r->nowners + 1, sizeof(*r->owners)) < 0)
		return -ENOMEM;
	r->owners[r->nowners++] = (struct pi_pfn_owner){ idx, proc, addr };
	return 0;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct pi_pfn_owner *x = a, *y = b;

	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Look up entries [0, n) read at vaddr; add owners. */
static int rmap_entries(struct pi_rmap *r, const struct pi_pinned_set *set, uint32_t proc,
			uint64_t vaddr, const uint64_t *pme, size_t n, uint64_t *mapped)
{
	uint64_t lo = set->p[0].pfn, hi = set->p[set->n - 1].pfn;

	for (size_t i = 0; i < n; i++) {
		uint64_t pfn;
		ssize_t idx;

		if (!(pme[i] & PM_PRESENT))
			continue;
		pfn = pme[i] & PM_PFN_MASK;
		if (!pfn) {
			r->pfns_hidden = true;
			continue;
		}
		if (pfn < lo || pfn > hi)
			continue;
		idx = pi_pinned_set_find(set, pfn);
		if (idx < 0)
			continue;
		if (owner_add(r, (uint32_t)idx, proc, vaddr + i * PI_PAGE_SIZE) < 0)
			return -ENOMEM;
		(*mapped)++;
	}
	return 0;
}

static int rmap_range(struct pi_rmap *r, const struct pi_pinned_set *set, struct pi_proc *p,
		      uint32_t proc, uint64_t start, uint64_t end, uint64_t *buf, uint64_t *mapped)
{
	uint64_t pos = start;

	while (pos < end) {
		size_t want = (size_t)((end - pos) / PI_PAGE_SIZE);
		ssize_t got;

		if (want > PI_RMAP_CHUNK)
			want = PI_RMAP_CHUNK;
		got = pi_pagemap_read(p->pm, pos, want, buf);
		if (got < 0)
			return (int)got;
		r->pagemap_entries += (uint64_t)got;
		if (rmap_entries(r, set, proc, pos, buf, (size_t)got, mapped) < 0)
			return -ENOMEM;
		if ((size_t)got < want)
			break;	/* process shrank or exited */
		pos += want * PI_PAGE_SIZE;
	}
	return 0;
}

/* holders: pages unmapped, or mapped to a PFN that is not pinned */
static bool in_ranges(const struct pi_pfn_ranges *s, uint64_t pfn)
{
	size_t lo = 0, hi;

	if (!s)
		return true;
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pfn < s->r[mid].start)
			hi = mid;
		else if (pfn >= s->r[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static int rmap_holders(struct pi_rmap_proc *rp, const struct pi_pinned_set *set,
			const struct pi_pfn_ranges *scanned, struct pi_proc *p, uint64_t *buf)
{
	if (!p->holders.n)
		return 0;
	rp->holders = calloc(p->holders.n, sizeof(*rp->holders));
	if (!rp->holders)
		return -ENOMEM;
	rp->nholders = p->holders.n;
	for (size_t i = 0; i < p->holders.n; i++) {
		struct pi_rmap_holder *h = &rp->holders[i];
		uint64_t s = p->holders.h[i].start & ~(PI_PAGE_SIZE - 1);
		uint64_t e = (p->holders.h[i].end + PI_PAGE_SIZE - 1) & ~(PI_PAGE_SIZE - 1);

		h->h = p->holders.h[i];
		h->pages = (e - s) / PI_PAGE_SIZE;
		for (uint64_t a = s; a < e;) {
			size_t want = (size_t)((e - a) / PI_PAGE_SIZE);
			ssize_t got;

			if (want > PI_RMAP_CHUNK)
				want = PI_RMAP_CHUNK;
			got = pi_pagemap_read(p->pm, a, want, buf);
			if (got < 0)
				got = 0;
			for (size_t k = 0; k < want; k++) {
				uint64_t va = a + k * PI_PAGE_SIZE;

				if (!pi_vma_find(&p->vmas, va) || (ssize_t)k >= got ||
				    !(buf[k] & PM_PRESENT))
					h->unmapped++;
				else if ((buf[k] & PM_PFN_MASK) &&
					 in_ranges(scanned, buf[k] & PM_PFN_MASK) &&
					 pi_pinned_set_find(set, buf[k] & PM_PFN_MASK) < 0)
					h->unpinned++;
			}
			a += want * PI_PAGE_SIZE;
		}
	}
	return 0;
}

static int rmap_proc(struct pi_rmap *r, const struct pi_pinned_set *set,
		     const struct pi_pfn_ranges *scanned, pid_t pid, uint64_t *buf)
{
	struct pi_rmap_proc rp = { .pid = pid };
	struct pi_proc p;
	uint32_t proc = (uint32_t)r->nprocs;
	size_t bad = 0, owners_before = r->nowners;
	int ret;

	ret = pi_proc_open(pid, &p, &bad);
	if (ret < 0)
		return ret;
	snprintf(rp.comm, sizeof(rp.comm), "%s", p.status.name);
	rp.uid = p.status.uid_real;
	rp.has_vmpin = p.status.has_vmpin;
	rp.has_vmlck = p.status.has_vmlck;
	rp.vmpin_kib = p.status.vmpin_kib;
	rp.vmlck_kib = p.status.vmlck_kib;
	rp.rings_unreadable = p.holders.rings_unreadable;
	rp.rdma_mrs = (unsigned int)p.rdma.n;

	for (size_t i = 0; set->n && i < p.vmas.n; i++) {
		const struct pi_vma *v = &p.vmas.vmas[i];
		uint64_t end = v->end < PI_USER_TOP ? v->end : PI_USER_TOP;
		struct pi_vrange *vr = NULL;
		size_t nvr = 0;

		if (v->start >= end)
			continue;
		ret = pi_pagemap_scan(p.pm, v->start, end, &vr, &nvr);
		if (ret == 0) {
			for (size_t k = 0; k < nvr && ret == 0; k++)
				ret = rmap_range(r, set, &p, proc, vr[k].start, vr[k].end, buf,
						 &rp.pinned_mappings);
			free(vr);
		} else {
			ret = rmap_range(r, set, &p, proc, v->start, end, buf, &rp.pinned_mappings);
		}
		if (ret == -ENOMEM)
			break;
		ret = 0;	/* a VMA gone meanwhile: keep what we have */
	}
	if (ret == 0)
		ret = rmap_holders(&rp, set, scanned, &p, buf);
	pi_proc_close(&p);
	if (ret < 0) {
		r->nowners = owners_before;
		free(rp.holders);
		return ret;
	}
	if (rp.pinned_mappings || rp.nholders || rp.rdma_mrs || (rp.has_vmpin && rp.vmpin_kib) ||
	    (rp.has_vmlck && rp.vmlck_kib)) {
		if (pi_grow((void **)&r->procs, &r->procs_cap, r->nprocs + 1, sizeof(*r->procs)) < 0) {
			r->nowners = owners_before;
			free(rp.holders);
			return -ENOMEM;
		}
		r->procs[r->nprocs++] = rp;
	} else {
		free(rp.holders);
	}
	return 0;
}

int pi_rmap_build(const struct pi_pinned_set *set, const struct pi_pfn_ranges *scanned,
		  const pid_t *pids, size_t npids, struct pi_rmap *ret)
{
	struct pi_rmap r = { 0 };
	uint64_t *buf = malloc(PI_RMAP_CHUNK * sizeof(*buf));
	int err = 0;

	if (!buf)
		return -ENOMEM;
	pi_rdma_snapshot_begin();
	for (size_t i = 0; i < npids; i++) {
		int k = rmap_proc(&r, set, scanned, pids[i], buf);

		if (k == -ENOMEM) {
			err = k;
			break;
		}
		if (k < 0)
			r.procs_gone++;
	}
	pi_rdma_snapshot_end();
	free(buf);
	if (err) {
		pi_rmap_free(&r);
		return err;
	}
	if (r.nowners > 1)	/* qsort(NULL, 0) is undefined (UBSan) */
		qsort(r.owners, r.nowners, sizeof(*r.owners), cmp_owner);
	/* pages mapped per process: count distinct PFNs */
	for (size_t i = 0; i < r.nowners; i++) {
		const struct pi_pfn_owner *o = &r.owners[i];
		bool dup = false;

		for (size_t j = i; j > 0 && r.owners[j - 1].idx == o->idx; j--)
			if (r.owners[j - 1].proc == o->proc) {
				dup = true;
				break;
			}
		if (!dup)
			r.procs[o->proc].pinned_mapped++;
	}
	r.bytes = r.cap * sizeof(*r.owners) + r.procs_cap * sizeof(*r.procs) +
		  set->cap * sizeof(*set->p);
	for (size_t i = 0; i < r.nprocs; i++)
		r.bytes += r.procs[i].nholders * sizeof(*r.procs[i].holders);
	*ret = r;
	return 0;
}

void pi_rmap_free(struct pi_rmap *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].holders);
	free(r->procs);
	free(r->owners);
	memset(r, 0, sizeof(*r));
}

void pi_rmap_owners_of(const struct pi_rmap *r, size_t idx, size_t *first, size_t *n)
{
	size_t lo = 0, hi = r->nowners, s;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->owners[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	s = lo;
	while (lo < r->nowners && r->owners[lo].idx == idx)
		lo++;
	*first = s;
	*n = lo - s;
}

/* ---------------------------------------------------------------- orphans */

/* pages of p's buffers that p no longer maps to their pinned PFNs */
static uint64_t buffer_orphan_pages(const struct pi_rmap_proc *p)
{
	uint64_t n = 0;

	for (size_t k = 0; k < p->nholders; k++)
		n += p->holders[k].unmapped + p->holders[k].unpinned;
	return n;
}

/*
 * VmPin beyond the pinned pages p maps, less the pages of its own buffers
 * that are candidates already: those are in VmPin too (the ring charged
 * them), and counting them twice would let another process's orphans be
 * blamed on this one's VmPin.
 */
static uint64_t vmpin_excess(const struct pi_rmap_proc *p)
{
	uint64_t vmpin = p->vmpin_kib / 4, known = p->pinned_mapped + buffer_orphan_pages(p);

	if (!p->has_vmpin || vmpin <= known)
		return 0;
	return vmpin - known;
}

/* orphaned pages the live processes account for: their buffers' and VmPin excess */
static uint64_t orphans_explained(const struct pi_rmap *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		n += buffer_orphan_pages(&r->procs[i]) + vmpin_excess(&r->procs[i]);
	return n;
}

/*
 * Re-read the candidates still pinned into tmp; one seen unpinned stays
 * released (its entry kept): the pin the scan found is gone, and a later
 * pin of that PFN is a new page's. Returns how many are still pinned.
 */
static int orphan_reread(struct pi_pinsrc *src, struct pi_orphan_pfns *o, uint64_t *tmp,
			 size_t *pinned)
{
	int err = pi_pinsrc_read(src, o->pfn, o->n, tmp);

	*pinned = 0;
	if (err < 0)
		return err;
	for (size_t j = 0; j < o->n; j++)
		if (pi_pin_entry_pinned(o->ent[j])) {
			o->ent[j] = tmp[j];
			*pinned += pi_pin_entry_pinned(tmp[j]);
		}
	return 0;
}

/*
 * PFNs still pinned after the settle step: a process the walk did not see
 * (started after the process list was taken) may map them now, because the
 * pages of an exited process are freed and reused. Walk the processes
 * again for just those PFNs; a PFN somebody maps is not an orphan.
 */
static int orphan_rewalk(struct pi_orphan_pfns *o, const pid_t *pids, size_t npids)
{
	struct pi_pinned_set sub = { 0 };
	struct pi_rmap rm;
	size_t *map;
	int err;

	map = malloc((o->n ? o->n : 1) * sizeof(*map));
	sub.p = malloc((o->n ? o->n : 1) * sizeof(*sub.p));
	if (!map || !sub.p) {
		free(map);
		free(sub.p);
		return -ENOMEM;
	}
	for (size_t j = 0; j < o->n; j++)
		if (pi_pin_entry_pinned(o->ent[j])) {
			map[sub.n] = j;
			sub.p[sub.n++] = (struct pi_pinned_pfn){ o->pfn[j], o->ent[j] };
		}
	err = sub.n ? pi_rmap_build(&sub, NULL, pids, npids, &rm) : 0;
	if (err == 0 && sub.n) {
		for (size_t i = 0; i < rm.nowners; i++) {
			size_t j = map[rm.owners[i].idx];

			if (o->ent[j]) {
				o->ent[j] = 0;	/* mapped: not pinned as an orphan */
				o->mapped_again++;
			}
		}
		pi_rmap_free(&rm);
	}
	free(map);
	free(sub.p);
	return err;
}

int pi_orphan_pfns_read(struct pi_pinsrc *src, const struct pi_pinned_set *set,
			const struct pi_rmap *r, pi_pids_fn pids_now, struct pi_orphan_pfns *ret)
{
	struct pi_orphan_pfns o = { 0 };
	size_t cap = set->n ? set->n : 1, pinned = 0;
	uint64_t *tmp = NULL, explained;
	int err = 0;

	memset(ret, 0, sizeof(*ret));
	o.idx = malloc(cap * sizeof(*o.idx));
	o.pfn = malloc(cap * sizeof(*o.pfn));
	o.ent = malloc(cap * sizeof(*o.ent));
	tmp = malloc(cap * sizeof(*tmp));
	if (!o.idx || !o.pfn || !o.ent || !tmp) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < set->n; i++) {
		size_t f, k;

		pi_rmap_owners_of(r, i, &f, &k);
		if (!k) {
			o.idx[o.n] = i;
			o.pfn[o.n] = set->p[i].pfn;
			o.ent[o.n++] = set->p[i].ent;	/* pinned at the scan */
		}
	}
	if (o.n)
		err = orphan_reread(src, &o, tmp, &pinned);
	/*
	 * A process that just exited leaves its pins to the ring's teardown
	 * work: pinned, mapped by nobody, released a few to a hundred
	 * milliseconds later. Its freed pages are reused at once, and a
	 * process that pins one and exits too hands it on pinned: only a read
	 * that falls in the short gap between the two pins sees it released,
	 * so the reads come every PI_ORPHAN_SETTLE_MS (10 ms; 50 ms let one
	 * run in ten report such pages under churn). Read again while more
	 * are pinned than the live processes' buffers and VmPin account for,
	 * or until the count has not moved for PI_ORPHAN_SETTLE_STABLE reads.
	 */
	explained = orphans_explained(r);
	for (unsigned int round = 0, stable = 0; err == 0 && pinned; round++) {
		size_t before = pinned;

		if (round >= PI_ORPHAN_SETTLE_ROUNDS_MAX ||
		    (round >= PI_ORPHAN_SETTLE_ROUNDS && stable >= PI_ORPHAN_SETTLE_STABLE))
			break;
		if (stable >= PI_ORPHAN_SETTLE_STABLE && pinned <= explained)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = PI_ORPHAN_SETTLE_MS * 1000L * 1000L }, NULL);
		err = orphan_reread(src, &o, tmp, &pinned);
		if (err < 0)
			break;
		o.rereads++;
		stable = pinned < before ? 0 : stable + 1;
	}
	if (err == 0 && pinned && pids_now) {
		pid_t *pids = NULL;
		size_t npids = 0, pcap = 0;

		err = pids_now(&pids, &npids, &pcap);
		if (err == 0)
			err = orphan_rewalk(&o, pids, npids);
		else if (err != -ENOMEM)
			err = 0;	/* keep what the settle step found */
		free(pids);
	}
out:
	free(tmp);
	if (err < 0) {
		pi_orphan_pfns_free(&o);
		return err;
	}
	*ret = o;
	return 0;
}

void pi_orphan_pfns_free(struct pi_orphan_pfns *o)
{
	free(o->idx);
	free(o->pfn);
	free(o->ent);
	memset(o, 0, sizeof(*o));
}

int pi_orphan_ctx_init(const struct pi_rmap *r, struct pi_orphan_ctx *c)
{
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct pi_rmap_proc *p = &r->procs[i];

		for (size_t k = 0; k < p->nholders; k++)
			if (p->holders[k].unmapped || p->holders[k].unpinned)
				n++;
		if (vmpin_excess(p))
			n++;
	}
	if (!n)
		return 0;
	c->cand = calloc(n, sizeof(*c->cand));
	c->left = calloc(n, sizeof(*c->left));
	if (!c->cand || !c->left) {
		pi_orphan_ctx_free(c);
		return -ENOMEM;
	}
	/* holders first (attributable to a buffer), then VmPin excess */
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct pi_rmap_proc *p = &r->procs[i];

		for (size_t k = 0; k < p->nholders; k++)
			if (p->holders[k].unmapped || p->holders[k].unpinned) {
				c->cand[c->ncand].proc = (uint32_t)i;
				c->cand[c->ncand].holder = (int32_t)k;
				c->left[c->ncand++] = p->holders[k].unmapped + p->holders[k].unpinned;
			}
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		uint64_t excess = vmpin_excess(&r->procs[i]);

		if (excess) {
			c->cand[c->ncand].proc = (uint32_t)i;
			c->cand[c->ncand].holder = -1;
			c->left[c->ncand++] = excess;
		}
	}
	return 0;
}

void pi_orphan_attribute(const struct pi_rmap *r, struct pi_orphan_ctx *c, uint64_t pages,
			 struct pi_orphan_attr *ret)
{
	ssize_t best = -1;

	memset(ret, 0, sizeof(*ret));
	/*
	 * Best fit: the candidate with the least room that still takes the
	 * whole run (a buffer of exactly the run's size wins), holders before
	 * VmPin excess; else the one with most room.
	 */
	for (size_t i = 0; i < c->ncand; i++)
		if (c->left[i] >= pages && (best < 0 || c->left[i] < c->left[best] ||
		    (c->left[i] == c->left[best] && c->cand[best].holder < 0 &&
		     c->cand[i].holder >= 0)))
			best = (ssize_t)i;
	if (best < 0)
		for (size_t i = 0; i < c->ncand; i++)
			if (c->left[i] && (best < 0 || c->left[i] > c->left[best]))
				best = (ssize_t)i;
	if (best < 0)
		return;
	ret->proc = &r->procs[c->cand[best].proc];
	if (c->cand[best].holder >= 0) {
		ret->holder = &ret->proc->holders[c->cand[best].holder];
		ret->why = ret->holder->unmapped >= ret->holder->unpinned ?
			"buffer no longer mapped" : "buffer now maps other pages";
	} else {
		ret->why = "VmPin exceeds the pinned pages it maps";
	}
	c->left[best] = c->left[best] > pages ? c->left[best] - pages : 0;
}

void pi_orphan_ctx_free(struct pi_orphan_ctx *c)
{
	free(c->cand);
	free(c->left);
	memset(c, 0, sizeof(*c));
}
