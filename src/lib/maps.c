// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/PID/maps -> VMA list (fs/proc/task_mmu.c show_map_vma format) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "pininspect/maps.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

const char *pi_kind_name(enum pi_kind k)
{
	switch (k) {
	case PI_KIND_ANON: return "anon";
	case PI_KIND_FILE: return "file";
	case PI_KIND_SHMEM: return "shmem";
	case PI_KIND_HUGETLB: return "hugetlb";
	case PI_KIND_OTHER: break;
	}
	return "other";
}

int pi_kind_from_name(const char *name, enum pi_kind *ret)
{
	for (int k = PI_KIND_ANON; k <= PI_KIND_OTHER; k++)
		if (!strcmp(name, pi_kind_name((enum pi_kind)k))) {
			*ret = (enum pi_kind)k;
			return 0;
		}
	return -EINVAL;
}

static const char *parse_hex(const char *p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = p;

	while (p < end) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (v >> 60)
			return NULL;
		v = v << 4 | (uint64_t)d;
		p++;
	}
	if (p == s)
		return NULL;
	*ret = v;
	return p;
}

static const char *parse_dec(const char *p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == s)
		return NULL;
	*ret = v;
	return p;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum pi_kind classify(const struct pi_vma *v)
{
	const char *n = v->name;

	if (!*n || starts_with(n, "[heap]") || starts_with(n, "[stack") ||
	    starts_with(n, "[anon:"))
		return v->shared ? PI_KIND_SHMEM : PI_KIND_ANON;
	if (starts_with(n, "[anon_shmem:"))
		return PI_KIND_SHMEM;
	if (*n == '[')		/* [vdso], [vvar], [vsyscall], [uprobes] */
		return PI_KIND_OTHER;
	if (starts_with(n, "/anon_hugepage"))
		return PI_KIND_HUGETLB;
	if (v->shared) {
		if (starts_with(n, "/memfd:") || starts_with(n, "/dev/zero") ||
		    starts_with(n, "/SYSV") || starts_with(n, "/dev/shm/"))
			return PI_KIND_SHMEM;
		if (starts_with(n, "/dev/hugepages") || strstr(n, "hugetlb"))
			return PI_KIND_HUGETLB;
		return PI_KIND_OTHER;
	}
	/* private file mapping: written pages are anon COW copies */
	return PI_KIND_FILE;
}

static int parse_line(const char *p, const char *end, struct pi_vma *v)
{
	uint64_t maj, min;
	size_t nlen;

	memset(v, 0, sizeof(*v));
	if (!(p = parse_hex(p, end, &v->start)) || p >= end || *p++ != '-')
		return -EINVAL;
	if (!(p = parse_hex(p, end, &v->end)) || p >= end || *p++ != ' ')
		return -EINVAL;
	if (v->end <= v->start || (v->start | v->end) & 0xfff)
		return -EINVAL;
	if (end - p < 5 || p[4] != ' ')
		return -EINVAL;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 's' && p[3] != 'p'))
		return -EINVAL;
	v->read = p[0] == 'r';
	v->write = p[1] == 'w';
	v->exec = p[2] == 'x';
	v->shared = p[3] == 's';
	p += 5;
	if (!(p = parse_hex(p, end, &v->offset)) || p >= end || *p++ != ' ')
		return -EINVAL;
	if (!(p = parse_hex(p, end, &maj)) || p >= end || *p++ != ':')
		return -EINVAL;
	if (!(p = parse_hex(p, end, &min)) || maj > UINT32_MAX || min > UINT32_MAX)
		return -EINVAL;
	v->dev_major = (unsigned int)maj;
	v->dev_minor = (unsigned int)min;
	if (p >= end || *p++ != ' ')
		return -EINVAL;
	if (!(p = parse_dec(p, end, &v->inode)))
		return -EINVAL;
	if (p < end && *p != ' ')
		return -EINVAL;
	/* the kernel pads to a column; the name may itself contain spaces */
	while (p < end && *p == ' ')
		p++;
	nlen = (size_t)(end - p);
	v->name = malloc(nlen + 1);
	if (!v->name)
		return -ENOMEM;
	memcpy(v->name, p, nlen);
	v->name[nlen] = '\0';
	v->kind = classify(v);
	return 0;
}

int pi_maps_parse(const char *buf, size_t len, struct pi_vma_list *ret, size_t *ret_line)
{
	struct pi_vma_list l = { 0 };
	const char *p = buf, *end = buf + len;
	size_t line = 0;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct pi_vma v;

		line++;
		if (le == p) {		/* tolerate an empty trailing line only */
			p = le + 1;
			continue;
		}
		r = parse_line(p, le, &v);
		if (r < 0)
			goto fail;
		if (l.n && v.start < l.vmas[l.n - 1].end) {
			free(v.name);
			r = -EINVAL;	/* overlapping or unsorted: not the kernel's maps */
			goto fail;
		}
		r = pi_grow((void **)&l.vmas, &l.cap, l.n + 1, sizeof(*l.vmas));
		if (r < 0) {
			free(v.name);
			goto fail;
		}
		l.vmas[l.n++] = v;
		p = nl ? nl + 1 : end;
	}
	*ret = l;
	return 0;
fail:
	if (ret_line)
		*ret_line = line;
	pi_vma_list_free(&l);
	return r;
}

int pi_maps_read(pid_t pid, struct pi_vma_list *ret, size_t *ret_line)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = pi_root_readf(&buf, &len, "proc/%d/maps", (int)pid);
	if (r < 0)
		return r;
	return pi_maps_parse(buf, len, ret, ret_line);
}

void pi_vma_list_free(struct pi_vma_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->vmas[i].name);
	free(l->vmas);
	memset(l, 0, sizeof(*l));
}

const char *pi_vma_display_name(const struct pi_vma *v)
{
	if (*v->name)
		return v->name;
	return "[anon]";
}

const struct pi_vma *pi_vma_find(const struct pi_vma_list *l, uint64_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pi_vma *v = &l->vmas[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}
