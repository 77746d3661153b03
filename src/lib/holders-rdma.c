// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * RDMA memory regions and the VFIO holder class.
 *
 * MRs come from the RDMA netlink resource tracker: a dump of
 * RDMA_NLDEV_CMD_GET lists the devices, then one dump of
 * RDMA_NLDEV_CMD_RES_MR_GET per device (the kernel wants the device index)
 * gives nested RES_MR -> RES_MR_ENTRY tables with MRN, MRLEN, PDN, PID or
 * KERN_NAME, and RKEY/LKEY for CAP_NET_ADMIN callers. RDMA netlink
 * messages carry the attributes right after the nlmsghdr (no family
 * header). The kernel prints no MR address (6.1 .. 6.18): MRs are placed
 * on the process's pinned pages by length (pi_rdma_place).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include "pininspect/rdma.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define PI_PAGE		4096ULL
#define NL_BUF		(64 * 1024)
#define RDMA_MR_FILE	"rdma/resource-mr"

const char *pi_holder_kind_name(enum pi_holder_kind k)
{
	switch (k) {
	case PI_HOLDER_IO_URING: return "io_uring";
	case PI_HOLDER_RDMA_MR: return "rdma_mr";
	case PI_HOLDER_VFIO: return "vfio";
	}
	return "unknown";
}

const char *pi_rdma_place_name(enum pi_rdma_place p)
{
	switch (p) {
	case PI_RDMA_BY_IOVA: return "iova";
	case PI_RDMA_BY_LENGTH: return "length";
	case PI_RDMA_UNPLACED: break;
	}
	return "unplaced";
}

void pi_rdma_mr_list_free(struct pi_rdma_mr_list *l)
{
	free(l->m);
	memset(l, 0, sizeof(*l));
}

static struct pi_rdma_mr *mr_new(struct pi_rdma_mr_list *l)
{
	if (pi_grow((void **)&l->m, &l->cap, l->n + 1, sizeof(*l->m)) < 0)
		return NULL;
	memset(&l->m[l->n], 0, sizeof(l->m[0]));
	return &l->m[l->n++];
}

/* ---- netlink ---------------------------------------------------------- */

struct nl_sock {
	int fd;
	uint32_t seq;
	char *buf;
};

/* Iterate the attributes in [p, p + len): calls fn(type, data, len, ud). */
typedef int (*attr_fn)(uint16_t type, const void *data, size_t len, void *ud);

static int attrs_walk(const void *p, size_t len, attr_fn fn, void *ud)
{
	const char *c = p;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)c;
		size_t alen = a->nla_len, step;
		int r;

		if (alen < NLA_HDRLEN || alen > len)
			return -EBADMSG;
		r = fn(a->nla_type & NLA_TYPE_MASK, c + NLA_HDRLEN, alen - NLA_HDRLEN, ud);
		if (r < 0)
			return r;
		step = NLA_ALIGN(alen);
		if (step >= len)
			break;
		c += step;
		len -= step;
	}
	return 0;
}

static int attr_u32(const void *d, size_t len, uint32_t *ret)
{
	if (len < 4)
		return -EBADMSG;
	memcpy(ret, d, 4);
	return 0;
}

static int attr_u64(const void *d, size_t len, uint64_t *ret)
{
	if (len < 8)
		return -EBADMSG;
	memcpy(ret, d, 8);
	return 0;
}

static void attr_str(const void *d, size_t len, char *out, size_t outlen)
{
	size_t n = strnlen(d, len);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, d, n);
	out[n] = '\0';
}

static int nl_send(struct nl_sock *s, uint16_t cmd, bool has_dev, uint32_t dev)
{
	struct {
		struct nlmsghdr nh;
		struct nlattr a;
		uint32_t v;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_HDRLEN;
	req.nh.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++s->seq;
	if (has_dev) {
		req.a.nla_len = NLA_HDRLEN + sizeof(uint32_t);
		req.a.nla_type = RDMA_NLDEV_ATTR_DEV_INDEX;
		req.v = dev;
		req.nh.nlmsg_len += NLA_ALIGN(req.a.nla_len);
	}
	if (sendto(s->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/*
 * One buffer of netlink messages: fn gets each message's attributes.
 * 1 at NLMSG_DONE, 0 when more is to come, -errno for an error message.
 * Messages of another sequence number (stale answers) are skipped unless
 * any_seq.
 */
static int nl_parse(const char *buf, size_t left, bool any_seq, uint32_t seq, attr_fn fn,
		    void *ud)
{
	const struct nlmsghdr *nh;

	for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		int r;

		if (!any_seq && nh->nlmsg_seq != seq)
			continue;
		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error < 0 ? e->error : 1;
		}
		r = attrs_walk((const char *)nh + NLMSG_HDRLEN, nh->nlmsg_len - NLMSG_HDRLEN,
			       fn, ud);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Receive one dump. */
static int nl_dump(struct nl_sock *s, attr_fn fn, void *ud)
{
	for (;;) {
		ssize_t n = recv(s->fd, s->buf, NL_BUF, 0);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;
		r = nl_parse(s->buf, (size_t)n, false, s->seq, fn, ud);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

struct devs {
	uint32_t idx[64];
	char name[64][64];
	size_t n;
};

static int dev_attr(uint16_t type, const void *d, size_t len, void *ud)
{
	struct devs *v = ud;

	if (type == RDMA_NLDEV_ATTR_DEV_INDEX && v->n < ARRAY_SIZE(v->idx)) {
		if (attr_u32(d, len, &v->idx[v->n]) < 0)
			return -EBADMSG;
		v->name[v->n][0] = '\0';
		v->n++;
	} else if (type == RDMA_NLDEV_ATTR_DEV_NAME && v->n) {
		attr_str(d, len, v->name[v->n - 1], sizeof(v->name[0]));
	}
	return 0;
}

struct mr_ctx {
	struct pi_rdma_mr_list *l;
	uint32_t dev_index;
	const char *dev;
	struct pi_rdma_mr *cur;
};

static int mr_field(uint16_t type, const void *d, size_t len, void *ud)
{
	struct pi_rdma_mr *m = ud;
	uint32_t v;

	switch (type) {
	case RDMA_NLDEV_ATTR_RES_MRN:
		return attr_u32(d, len, &m->mrn);
	case RDMA_NLDEV_ATTR_RES_PDN:
		m->has_pdn = true;
		return attr_u32(d, len, &m->pdn);
	case RDMA_NLDEV_ATTR_RES_LKEY:
		m->has_keys = true;
		return attr_u32(d, len, &m->lkey);
	case RDMA_NLDEV_ATTR_RES_RKEY:
		m->has_keys = true;
		return attr_u32(d, len, &m->rkey);
	case RDMA_NLDEV_ATTR_RES_MRLEN:
		return attr_u64(d, len, &m->len);
	case RDMA_NLDEV_ATTR_RES_IOVA:
		m->has_iova = true;
		return attr_u64(d, len, &m->iova);
	case RDMA_NLDEV_ATTR_RES_PID:
		if (attr_u32(d, len, &v) < 0)
			return -EBADMSG;
		m->pid = (pid_t)v;
		return 0;
	case RDMA_NLDEV_ATTR_RES_KERN_NAME:
		attr_str(d, len, m->comm, sizeof(m->comm));
		return 0;
	}
	return 0;
}

static int mr_entry(uint16_t type, const void *d, size_t len, void *ud)
{
	struct mr_ctx *c = ud;
	struct pi_rdma_mr *m;

	if (type != RDMA_NLDEV_ATTR_RES_MR_ENTRY)
		return 0;
	m = mr_new(c->l);
	if (!m)
		return -ENOMEM;
	m->dev_index = c->dev_index;
	snprintf(m->dev, sizeof(m->dev), "%s", c->dev);
	return attrs_walk(d, len, mr_field, m);
}

static int mr_top(uint16_t type, const void *d, size_t len, void *ud)
{
	if (type == RDMA_NLDEV_ATTR_RES_MR)
		return attrs_walk(d, len, mr_entry, ud);
	return 0;
}

int pi_rdma_mr_parse_nlmsgs(const void *buf, size_t len, const char *dev, uint32_t dev_index,
			    struct pi_rdma_mr_list *l)
{
	struct mr_ctx c = { .l = l, .dev_index = dev_index, .dev = dev };
	size_t before = l->n;
	int r = nl_parse(buf, len, true, 0, mr_top, &c);

	if (r < 0)
		l->n = before;
	return r;
}

int pi_rdma_mrs_read_netlink(struct pi_rdma_mr_list *ret)
{
	struct pi_rdma_mr_list l = { 0 };
	struct nl_sock s = { .fd = -1 };
	struct devs *devs = NULL;
	int r;

	*ret = l;
	s.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (s.fd < 0)
		/* no ib_core: no RDMA, no MRs */
		return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT ? 0 : -errno;
	s.buf = malloc(NL_BUF);
	devs = calloc(1, sizeof(*devs));
	if (!s.buf || !devs) {
		r = -ENOMEM;
		goto out;
	}
	s.seq = (uint32_t)getpid() << 8;
	r = nl_send(&s, RDMA_NLDEV_CMD_GET, false, 0);
	if (r >= 0)
		r = nl_dump(&s, dev_attr, devs);
	if (r < 0)
		goto out;
	l.devices = (unsigned int)devs->n;
	for (size_t i = 0; i < devs->n; i++) {
		struct mr_ctx c = { .l = &l, .dev_index = devs->idx[i], .dev = devs->name[i] };

		r = nl_send(&s, RDMA_NLDEV_CMD_RES_MR_GET, true, devs->idx[i]);
		if (r >= 0)
			r = nl_dump(&s, mr_top, &c);
		/* a device that went away meanwhile */
		if (r == -ENODEV || r == -ENOENT)
			r = 0;
		if (r < 0)
			goto out;
	}
	*ret = l;
	l = (struct pi_rdma_mr_list){ 0 };
out:
	pi_rdma_mr_list_free(&l);
	free(devs);
	free(s.buf);
	close(s.fd);
	return r < 0 ? r : 0;
}

/* ---- text (rdma resource show mr) ------------------------------------- */

static int parse_num(const char *s, uint64_t *ret)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		return pi_parse_u64(s + 2, 16, ret);
	return pi_parse_u64(s, 10, ret);
}

static int parse_line(char *line, struct pi_rdma_mr *m)
{
	char *save = NULL, *k, *v;
	bool has_len = false, has_mrn = false;
	uint64_t n;

	for (k = strtok_r(line, " \t", &save); k; k = strtok_r(NULL, " \t", &save)) {
		v = strtok_r(NULL, " \t", &save);
		if (!v)
			return -EINVAL;
		if (!strcmp(k, "dev") || !strcmp(k, "comm")) {
			char *dst = k[0] == 'd' ? m->dev : m->comm;
			size_t sz = k[0] == 'd' ? sizeof(m->dev) : sizeof(m->comm);

			/* "[kernel-name]" is how rdma prints a kernel MR's owner */
			snprintf(dst, sz, "%s", v);
			continue;
		}
		if (parse_num(v, &n) < 0)
			return -EINVAL;
		if (!strcmp(k, "mrn")) {
			if (n > UINT32_MAX)
				return -EINVAL;
			m->mrn = (uint32_t)n;
			has_mrn = true;
		} else if (!strcmp(k, "mrlen")) {
			m->len = n;
			has_len = true;
		} else if (!strcmp(k, "rkey") || !strcmp(k, "lkey")) {
			if (n > UINT32_MAX)
				return -EINVAL;
			*(k[0] == 'r' ? &m->rkey : &m->lkey) = (uint32_t)n;
			m->has_keys = true;
		} else if (!strcmp(k, "pdn")) {
			if (n > UINT32_MAX)
				return -EINVAL;
			m->pdn = (uint32_t)n;
			m->has_pdn = true;
		} else if (!strcmp(k, "pid")) {
			if (n > INT32_MAX)
				return -EINVAL;
			m->pid = (pid_t)n;
		} else if (!strcmp(k, "iova")) {
			m->iova = n;
			m->has_iova = true;
		} else if (!strcmp(k, "link") || !strcmp(k, "ctxn")) {
			/* known, not needed */
		}
		/* unknown keys with a numeric value: a newer rdma tool */
	}
	return has_len && has_mrn ? 0 : -EINVAL;
}

int pi_rdma_mr_parse_text(const char *buf, size_t len, struct pi_rdma_mr_list *l)
{
	const char *p = buf, *end = buf + len;
	size_t before = l->n;
	int added = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		struct pi_rdma_mr *m;
		char *line;
		int r;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (n && *p != '#') {
			line = strndup(p, n);
			m = line ? mr_new(l) : NULL;
			if (!m) {
				free(line);
				l->n = before;
				return -ENOMEM;
			}
			r = parse_line(line, m);
			free(line);
			if (r < 0) {
				l->n = before;
				return r;
			}
			added++;
		}
		p = nl ? nl + 1 : end;
	}
	return added;
}

/* ---- per process ------------------------------------------------------ */

static bool pid_is_ours(pid_t pid, pid_t who)
{
	char path[64];

	if (who <= 0)
		return false;	/* kernel MR */
	if (who == pid)
		return true;
	/* registered by another thread of pid */
	snprintf(path, sizeof(path), "proc/%d/task/%d", (int)pid, (int)who);
	return pi_root_access(path) == 0;
}

/*
 * The MRs of a pass over many processes (a report of several, --all, the
 * reverse map, one watch rescan): one dump, filtered per process, instead
 * of one per process, which on an RDMA host is processes x MRs.
 */
static struct {
	unsigned int holds;
	bool taken;
	int err;
	struct pi_rdma_mr_list all;
} mr_snapshot;

void pi_rdma_snapshot_begin(void)
{
	mr_snapshot.holds++;
}

void pi_rdma_snapshot_end(void)
{
	if (!mr_snapshot.holds || --mr_snapshot.holds)
		return;
	pi_rdma_mr_list_free(&mr_snapshot.all);
	mr_snapshot.taken = false;
	mr_snapshot.err = 0;
}

/* all MRs of the system: 0, or -ENOENT when a --root tree has none */
static int mrs_read_all(struct pi_rdma_mr_list *all)
{
	int r;

	if (pi_root_is_host()) {
		r = pi_rdma_mrs_read_netlink(all);
	} else {
		_cleanup_free_ char *buf = NULL;
		size_t len;

		r = pi_root_read_file(RDMA_MR_FILE, &buf, &len);
		if (r >= 0)
			r = pi_rdma_mr_parse_text(buf, len, all);
		all->from_file = true;
	}
	if (r < 0)
		pi_rdma_mr_list_free(all);
	return r < 0 ? r : 0;
}

int pi_rdma_mrs_read(pid_t pid, struct pi_rdma_mr_list *ret)
{
	struct pi_rdma_mr_list own = { 0 }, l = { 0 };
	const struct pi_rdma_mr_list *all = &own;
	int r;

	*ret = l;
	if (mr_snapshot.holds) {
		if (!mr_snapshot.taken) {
			mr_snapshot.err = mrs_read_all(&mr_snapshot.all);
			mr_snapshot.taken = true;
		}
		r = mr_snapshot.err;
		all = &mr_snapshot.all;
	} else {
		r = mrs_read_all(&own);
	}
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	l.devices = all->devices;
	l.from_file = all->from_file;
	for (size_t i = 0; i < all->n; i++) {
		struct pi_rdma_mr *m;

		if (!pid_is_ours(pid, all->m[i].pid))
			continue;
		m = mr_new(&l);
		if (!m) {
			pi_rdma_mr_list_free(&own);
			pi_rdma_mr_list_free(&l);
			return -ENOMEM;
		}
		*m = all->m[i];
		m->place = PI_RDMA_UNPLACED;
	}
	pi_rdma_mr_list_free(&own);
	*ret = l;
	return 0;
}

/* ---- placement -------------------------------------------------------- */

static uint64_t mr_pages(const struct pi_rdma_mr *m)
{
	return (m->len + PI_PAGE - 1) / PI_PAGE;
}

static unsigned int run_capacity(const struct pi_pin_run *r)
{
	/* a THP pinned by one MR on 6.1 shows _pincount 512: cap what one run takes */
	if (r->pins <= 0)
		return 1;
	return r->pins > 64 ? 64 : (unsigned int)r->pins;
}

/*
 * Find a run of exactly want pages; prefer runs nobody took, then runs
 * whose pin count leaves room for another MR. *ret_ambiguous: more than
 * one free run fits.
 */
static struct pi_pin_run *find_run(struct pi_pin_run *runs, size_t n, uint64_t want,
				   bool *ret_ambiguous)
{
	struct pi_pin_run *best = NULL;
	unsigned int fits = 0;

	for (size_t i = 0; i < n; i++) {
		if ((runs[i].end - runs[i].start) / PI_PAGE != want || runs[i].used)
			continue;
		if (!best)
			best = &runs[i];
		fits++;
	}
	if (best) {
		*ret_ambiguous = fits > 1;
		return best;
	}
	for (size_t i = 0; i < n; i++)
		if ((runs[i].end - runs[i].start) / PI_PAGE == want &&
		    runs[i].used < run_capacity(&runs[i])) {
			*ret_ambiguous = true;
			return &runs[i];
		}
	return NULL;
}

static void take(struct pi_rdma_mr *m, struct pi_pin_run *r, bool ambiguous,
		 struct pi_pin_run *runs, size_t nruns, struct pi_pin_run *sub, size_t nsub)
{
	m->place = PI_RDMA_BY_LENGTH;
	m->ambiguous = ambiguous;
	m->start = r->start;
	m->end = r->end;
	r->used++;
	/* keep whole runs and sub-runs consistent */
	for (size_t i = 0; i < nruns; i++)
		if (&runs[i] != r && runs[i].start <= r->start && r->end <= runs[i].end)
			runs[i].used++;
	for (size_t i = 0; i < nsub; i++)
		if (&sub[i] != r && r->start <= sub[i].start && sub[i].end <= r->end)
			sub[i].used++;
}

int pi_rdma_place(struct pi_rdma_mr_list *l, struct pi_pin_run *runs, size_t nruns,
		  struct pi_pin_run *subruns, size_t nsubruns)
{
	int placed = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct pi_rdma_mr *m = &l->m[i];

		if (m->place != PI_RDMA_UNPLACED || !m->has_iova || !m->len)
			continue;
		m->place = PI_RDMA_BY_IOVA;
		m->start = m->iova & ~(PI_PAGE - 1);
		m->end = (m->iova + m->len + PI_PAGE - 1) & ~(PI_PAGE - 1);
		placed++;
	}
	/* whole runs, then sub-runs; the exact page count, then one more page */
	for (int pass = 0; pass < 4; pass++) {
		struct pi_pin_run *set = pass & 1 ? subruns : runs;
		size_t nset = pass & 1 ? nsubruns : nruns;

		for (size_t i = 0; i < l->n; i++) {
			struct pi_rdma_mr *m = &l->m[i];
			struct pi_pin_run *r;
			bool amb = false;

			if (m->place != PI_RDMA_UNPLACED || !m->len || !set)
				continue;
			r = find_run(set, nset, mr_pages(m) + (pass >= 2), &amb);
			if (!r)
				continue;
			take(m, r, amb, runs, nruns, subruns, nsubruns);
			placed++;
		}
	}
	return placed;
}

int pi_rdma_add_holders(const struct pi_rdma_mr_list *l, struct pi_holder_list *hl)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct pi_rdma_mr *m = &l->m[i];
		struct pi_holder *h;
		int r;

		if (m->place == PI_RDMA_UNPLACED)
			continue;
		r = pi_grow((void **)&hl->h, &hl->cap, hl->n + 1, sizeof(*hl->h));
		if (r < 0)
			return r;
		h = &hl->h[hl->n++];
		memset(h, 0, sizeof(*h));
		h->kind = PI_HOLDER_RDMA_MR;
		h->start = m->place == PI_RDMA_BY_IOVA ? m->iova : m->start;
		h->end = m->place == PI_RDMA_BY_IOVA ? m->iova + m->len : m->end;
		h->fd = -1;
		h->index = m->mrn;
		if (m->has_keys)
			snprintf(h->desc, sizeof(h->desc), "rdma mr %u (lkey 0x%x)", m->mrn, m->lkey);
		else
			snprintf(h->desc, sizeof(h->desc), "rdma mr %u", m->mrn);
	}
	return 0;
}

/* ---- VFIO ------------------------------------------------------------- */

int pi_vfio_classify(const struct pi_status *st, uint64_t holder_kib, uint64_t free_kib,
		     uint64_t mlocked_kib, struct pi_vfio_class *ret)
{
	struct pi_vfio_class c = { 0 };
	uint64_t vmpin_left = 0;

	*ret = c;
	if (!st->has_vmlck)
		return -ENODATA;
	/* VmPin not spent on attributed pages may cover unattributed ones */
	if (st->has_vmpin && st->vmpin_kib > holder_kib)
		vmpin_left = st->vmpin_kib - holder_kib;
	c.unexplained_kib = free_kib > vmpin_left ? free_kib - vmpin_left : 0;
	c.lock_kib = st->vmlck_kib > mlocked_kib ? st->vmlck_kib - mlocked_kib : 0;
	c.vfio = c.unexplained_kib > 0 && c.lock_kib >= c.unexplained_kib;
	c.whole = c.vfio && vmpin_left == 0;
	*ret = c;
	return 0;
}

int pi_smaps_locked_kib(pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	const char *p;
	size_t len;
	int r;

	r = pi_root_readf(&buf, &len, "proc/%d/smaps_rollup", (int)pid);
	if (r < 0)
		return r;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char num[24];
		size_t n = 0;

		if (strncmp(p, "Locked:", 7))
			continue;
		p += 7;
		while (*p == ' ' || *p == '\t')
			p++;
		while (p[n] >= '0' && p[n] <= '9' && n < sizeof(num) - 1) {
			num[n] = p[n];
			n++;
		}
		num[n] = '\0';
		return n ? pi_parse_u64(num, 10, ret) : -EINVAL;
	}
	return -ENOENT;
}

int pi_vfio_add_holder(struct pi_holder_list *hl, uint64_t start, uint64_t end)
{
	struct pi_holder *h;
	int r;

	r = pi_grow((void **)&hl->h, &hl->cap, hl->n + 1, sizeof(*hl->h));
	if (r < 0)
		return r;
	h = &hl->h[hl->n++];
	memset(h, 0, sizeof(*h));
	h->kind = PI_HOLDER_VFIO;
	h->start = start;
	h->end = end;
	h->fd = -1;
	snprintf(h->desc, sizeof(h->desc), "vfio (VmLck)");
	return 0;
}
