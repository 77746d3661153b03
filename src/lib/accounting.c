// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin accounting (VmPin, VmLck, RLIMIT_MEMLOCK, cgroups) and fork safety (smaps VmFlags). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pininspect/accounting.h"
#include "pininspect/holders.h"
#include "pininspect/root.h"
#include "pininspect/status.h"
#include "pininspect/util.h"

#define PI_PAGE 4096ULL

static const char *next_line(const char *p, const char *end, size_t *ll)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
	return nl ? nl + 1 : end;
}

static int parse_limit(const char *tok, bool *unlimited, uint64_t *v)
{
	if (strcmp(tok, "unlimited") == 0) {
		*unlimited = true;
		*v = UINT64_MAX;
		return 0;
	}
	*unlimited = false;
	return pi_parse_u64(tok, 10, v);
}

int pi_limits_parse(const char *buf, size_t len, struct pi_memlock *ret)
{
	static const char key[] = "Max locked memory";
	const char *p = buf, *end = buf + len;

	memset(ret, 0, sizeof(*ret));
	while (p < end) {
		size_t ll;
		const char *line = p;
		char tmp[160], soft[32], hard[32];

		p = next_line(p, end, &ll);
		if (ll < sizeof(key) - 1 || memcmp(line, key, sizeof(key) - 1))
			continue;
		if (ll >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, line + sizeof(key) - 1, ll - (sizeof(key) - 1));
		tmp[ll - (sizeof(key) - 1)] = '\0';
		if (sscanf(tmp, " %31s %31s", soft, hard) != 2)
			return -EINVAL;
		if (parse_limit(soft, &ret->soft_unlimited, &ret->soft) < 0 ||
		    parse_limit(hard, &ret->hard_unlimited, &ret->hard) < 0)
			return -EINVAL;
		ret->known = true;
		return 0;
	}
	return -ENOENT;
}

int pi_limits_read(pid_t pid, struct pi_memlock *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = pi_root_readf(&buf, &len, "proc/%d/limits", (int)pid);

	if (r < 0) {
		memset(ret, 0, sizeof(*ret));
		return r;
	}
	return pi_limits_parse(buf, len, ret);
}

int pi_cgroup_parse(const char *buf, size_t len, char *path, size_t pathlen)
{
	const char *p = buf, *end = buf + len;
	bool have_first = false;

	if (!pathlen)
		return -EINVAL;
	path[0] = '\0';
	while (p < end) {
		size_t ll;
		const char *line = p, *c1, *c2;

		p = next_line(p, end, &ll);
		c1 = memchr(line, ':', ll);
		if (!c1)
			continue;
		c2 = memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line));
		if (!c2)
			continue;
		size_t plen = ll - (size_t)(c2 + 1 - line);
		bool v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;

		if (v2 || !have_first) {
			if (plen >= pathlen)
				plen = pathlen - 1;
			memcpy(path, c2 + 1, plen);
			path[plen] = '\0';
			have_first = true;
			if (v2)
				return 0;
		}
	}
	return have_first ? 0 : -ENOENT;
}

int pi_cgroup_read(pid_t pid, char *path, size_t pathlen)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = pi_root_readf(&buf, &len, "proc/%d/cgroup", (int)pid);

	if (r < 0) {
		if (pathlen)
			path[0] = '\0';
		return r;
	}
	return pi_cgroup_parse(buf, len, path, pathlen);
}

void pi_accounting_compute(struct pi_accounting *a)
{
	uint64_t charged = a->vmpin_kib > a->vmlck_kib ? a->vmpin_kib : a->vmlck_kib;

	a->headroom_known = a->memlock.known && !a->memlock.soft_unlimited;
	a->headroom_by_user = false;
	if (a->headroom_known) {
		int64_t soft = (int64_t)(a->memlock.soft / 1024);

		a->proc_headroom_kib = soft - (int64_t)charged;
		a->headroom_kib = a->proc_headroom_kib;
		if (a->user_known) {
			a->user_headroom_kib = soft - (int64_t)a->user_iouring_kib;
			/* CAP_IPC_LOCK: its rings check no user sum (ctx->user unset) */
			if (!a->cap_ipc_lock && a->user_headroom_kib < a->proc_headroom_kib) {
				a->headroom_kib = a->user_headroom_kib;
				a->headroom_by_user = true;
			}
		} else {
			a->user_headroom_kib = 0;
		}
	} else {
		a->headroom_kib = a->proc_headroom_kib = a->user_headroom_kib = 0;
	}
	a->vmpin_delta_kib = (int64_t)(a->pinned_found * (PI_PAGE / 1024)) - (int64_t)a->vmpin_kib;
}

uint64_t pi_iouring_buffer_kib(uint64_t start, uint64_t end)
{
	uint64_t first, last;

	if (end <= start)
		return 0;
	first = start & ~(PI_PAGE - 1);
	last = (end + PI_PAGE - 1) & ~(PI_PAGE - 1);
	return (last - first) / 1024;
}

uint64_t pi_iouring_holders_kib(const struct pi_holder_list *hl)
{
	uint64_t kib = 0;

	for (size_t k = 0; k < hl->n; k++)
		if (hl->h[k].kind == PI_HOLDER_IO_URING)
			kib += pi_iouring_buffer_kib(hl->h[k].start, hl->h[k].end);
	return kib;
}

uint64_t pi_iouring_charge_kib(uint64_t buffer_kib, bool has_vmpin, uint64_t vmpin_kib,
			       unsigned int rdma_mrs)
{
	if (buffer_kib && !rdma_mrs && has_vmpin && vmpin_kib > buffer_kib)
		return vmpin_kib;
	return buffer_kib;
}

static int cmp_uid(const void *x, const void *y)
{
	const struct pi_accounting *a = *(struct pi_accounting *const *)x;
	const struct pi_accounting *b = *(struct pi_accounting *const *)y;

	if (a->uid_known != b->uid_known)
		return a->uid_known ? -1 : 1;
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

void pi_accounting_user_sums(struct pi_accounting **a, size_t n)
{
	/* grouped by uid: one pass per user, not one per process (--map sees them all) */
	qsort(a, n, sizeof(*a), cmp_uid);
	for (size_t i = 0, e; i < n && a[i]->uid_known; i = e) {
		uint64_t sum = 0, procs = 0;

		for (e = i; e < n && a[e]->uid_known && a[e]->uid == a[i]->uid; e++) {
			/* CAP_IPC_LOCK at ring creation: the ring charges no user */
			if (a[e]->cap_ipc_lock || !a[e]->iouring_kib)
				continue;
			sum += a[e]->iouring_kib;
			procs++;
		}
		for (size_t k = i; k < e; k++) {
			a[k]->user_known = true;
			a[k]->user_iouring_kib = sum;
			a[k]->user_procs = procs;
			pi_accounting_compute(a[k]);
		}
	}
}

int pi_status_capeff_parse(const char *buf, size_t len, uint64_t *ret)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		size_t ll;
		const char *line = p;
		char tmp[40];

		p = next_line(p, end, &ll);
		if (ll <= 7 || memcmp(line, "CapEff:", 7) || ll - 7 >= sizeof(tmp))
			continue;
		memcpy(tmp, line + 7, ll - 7);
		tmp[ll - 7] = '\0';
		{
			char *s = tmp;

			while (*s == ' ' || *s == '\t')
				s++;
			return pi_parse_u64(s, 16, ret);
		}
	}
	return -ENOENT;
}

#define PI_CAP_IPC_LOCK 14

int pi_accounting_read(pid_t pid, uint64_t pinned_found, struct pi_accounting *ret)
{
	struct pi_accounting a = { .pid = pid, .pinned_found = pinned_found };
	struct pi_status st;
	int r;

	r = pi_status_read(pid, &st);
	if (r < 0)
		return r;
	a.has_vmpin = st.has_vmpin;
	a.has_vmlck = st.has_vmlck;
	a.vmpin_kib = st.vmpin_kib;
	a.vmlck_kib = st.vmlck_kib;
	a.uid_known = true;
	a.uid = st.uid_real;
	{
		_cleanup_free_ char *buf = NULL;
		size_t len;
		uint64_t cap;

		if (pi_root_readf(&buf, &len, "proc/%d/status", (int)pid) == 0 &&
		    pi_status_capeff_parse(buf, len, &cap) == 0) {
			a.cap_known = true;
			a.cap_ipc_lock = cap & (1ULL << PI_CAP_IPC_LOCK);
		}
	}
	(void)pi_limits_read(pid, &a.memlock);
	(void)pi_cgroup_read(pid, a.cgroup, sizeof(a.cgroup));
	pi_accounting_compute(&a);
	*ret = a;
	return 0;
}

int pi_cgroup_sums(const struct pi_accounting *a, size_t n, struct pi_cgroup_sum **ret,
		   size_t *ret_n)
{
	struct pi_cgroup_sum *s = NULL;
	size_t ns = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (!a[i].cgroup[0])
			continue;
		for (k = 0; k < ns; k++)
			if (strcmp(s[k].path, a[i].cgroup) == 0)
				break;
		if (k == ns) {
			if (pi_grow((void **)&s, &cap, ns + 1, sizeof(*s)) < 0) {
				free(s);
				return -ENOMEM;
			}
			memset(&s[ns], 0, sizeof(*s));
			snprintf(s[ns].path, sizeof(s[ns].path), "%s", a[i].cgroup);
			ns++;
		}
		s[k].procs++;
		s[k].pinned_found += a[i].pinned_found;
		s[k].vmpin_kib += a[i].vmpin_kib;
		s[k].vmlck_kib += a[i].vmlck_kib;
	}
	*ret = s;
	*ret_n = ns;
	return 0;
}

/* ---- smaps ---- */

static bool is_hex_range(const char *line, size_t ll, uint64_t *s, uint64_t *e)
{
	char tmp[48];
	const char *sp = memchr(line, ' ', ll);
	unsigned long long a, b;
	char c;

	if (!sp || (size_t)(sp - line) >= sizeof(tmp))
		return false;
	memcpy(tmp, line, (size_t)(sp - line));
	tmp[sp - line] = '\0';
	if (sscanf(tmp, "%llx-%llx%c", &a, &b, &c) != 2)
		return false;
	*s = a;
	*e = b;
	return true;
}

int pi_smaps_parse(const char *buf, size_t len, struct pi_smaps *ret)
{
	const char *p = buf, *end = buf + len;
	struct pi_smaps s = { 0 };

	while (p < end) {
		size_t ll;
		const char *line = p;
		uint64_t a, b;

		p = next_line(p, end, &ll);
		if (ll && isxdigit((unsigned char)line[0]) && is_hex_range(line, ll, &a, &b)) {
			if (pi_grow((void **)&s.v, &s.cap, s.n + 1, sizeof(*s.v)) < 0) {
				pi_smaps_free(&s);
				return -ENOMEM;
			}
			s.v[s.n++] = (struct pi_smaps_vma){ .start = a, .end = b };
			continue;
		}
		if (s.n && ll > 8 && memcmp(line, "VmFlags:", 8) == 0) {
			struct pi_smaps_vma *v = &s.v[s.n - 1];

			for (size_t i = 8; i + 1 < ll; i++) {
				if (line[i] == ' ')
					continue;
				if (i + 2 <= ll && (i + 2 == ll || line[i + 2] == ' ')) {
					char f0 = line[i], f1 = line[i + 1];

					if (f0 == 'd' && f1 == 'c')
						v->dontfork = true;
					else if (f0 == 'w' && f1 == 'f')
						v->wipeonfork = true;
					else if (f0 == 'l' && f1 == 'o')
						v->locked = true;
					else if ((f0 == 'i' && f1 == 'o') || (f0 == 'p' && f1 == 'f'))
						v->io = true;
				}
				while (i < ll && line[i] != ' ')
					i++;
			}
		}
	}
	*ret = s;
	return 0;
}

int pi_smaps_read(pid_t pid, struct pi_smaps *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = pi_root_readf(&buf, &len, "proc/%d/smaps", (int)pid);

	if (r < 0)
		return r;
	return pi_smaps_parse(buf, len, ret);
}

void pi_smaps_free(struct pi_smaps *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int pi_max_map_count_read(uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = pi_root_read_file("proc/sys/vm/max_map_count", &buf, &len);

	if (r < 0)
		return r;
	while (len && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	return pi_parse_u64(buf, 10, ret);
}

void pi_fork_safety(const struct pi_smaps *s, uint64_t start, uint64_t end,
		    uint64_t max_map_count, struct pi_fork_safety *ret)
{
	uint64_t ps = start & ~(PI_PAGE - 1), pe = (end + PI_PAGE - 1) & ~(PI_PAGE - 1);

	memset(ret, 0, sizeof(*ret));
	ret->pages = pe > ps ? (pe - ps) / PI_PAGE : 0;
	ret->head_shared = start != ps;
	ret->tail_shared = end != pe;
	ret->vma_count = s->n;
	ret->max_map_count = max_map_count;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t a = s->v[i].start > ps ? s->v[i].start : ps;
		uint64_t b = s->v[i].end < pe ? s->v[i].end : pe;

		if (a < b && s->v[i].dontfork)
			ret->dontfork_pages += (b - a) / PI_PAGE;
	}
	ret->covered = ret->pages && ret->dontfork_pages == ret->pages;
	ret->partial = ret->dontfork_pages && ret->dontfork_pages < ret->pages;
}

uint64_t pi_memlock_threshold_kib(const struct pi_accounting *a, int64_t opt_kib)
{
	uint64_t t;

	if (opt_kib >= 0)
		return (uint64_t)opt_kib;
	t = a->memlock.soft / 1024 / 10;
	return t < 1024 ? t : 1024;
}
