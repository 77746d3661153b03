// SPDX-License-Identifier: GPL-2.0-or-later
/* RDMA MR text parsing, placement by length, and the VFIO (VmLck) class. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include "tap.h"
#include "pininspect/rdma.h"
#include "pininspect/root.h"

#define MB (1ULL << 20)

/* a little netlink writer: messages with (nested) attributes */
struct nlbuf {
	_Alignas(4) char b[1024];
	size_t n, msg, nest[4];
	int depth;
};

static void *put(struct nlbuf *w, const void *d, size_t len)
{
	void *p = w->b + w->n;

	memcpy(p, d, len);
	w->n += NLA_ALIGN(len);
	return p;
}

static void msg_begin(struct nlbuf *w, uint16_t type)
{
	struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = 7 };

	w->msg = w->n;
	put(w, &nh, sizeof(nh));
}

static void msg_end(struct nlbuf *w)
{
	((struct nlmsghdr *)(w->b + w->msg))->nlmsg_len = (uint32_t)(w->n - w->msg);
}

static void attr(struct nlbuf *w, uint16_t type, const void *d, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };

	put(w, &a, sizeof(a));
	if (len)
		put(w, d, len);
}

static void u32a(struct nlbuf *w, uint16_t type, uint32_t v) { attr(w, type, &v, 4); }
static void u64a(struct nlbuf *w, uint16_t type, uint64_t v) { attr(w, type, &v, 8); }

static void nest_begin(struct nlbuf *w, uint16_t type)
{
	w->nest[w->depth++] = w->n;
	attr(w, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct nlbuf *w)
{
	size_t at = w->nest[--w->depth];

	((struct nlattr *)(w->b + at))->nla_len = (uint16_t)(w->n - at);
}

static void mr_entry(struct nlbuf *w, uint32_t mrn, uint64_t len, uint32_t pid)
{
	nest_begin(w, RDMA_NLDEV_ATTR_RES_MR_ENTRY);
	u32a(w, RDMA_NLDEV_ATTR_RES_RKEY, 0x100 + mrn);
	u32a(w, RDMA_NLDEV_ATTR_RES_LKEY, 0x200 + mrn);
	u64a(w, RDMA_NLDEV_ATTR_RES_MRLEN, len);
	u32a(w, RDMA_NLDEV_ATTR_RES_MRN, mrn);
	u32a(w, RDMA_NLDEV_ATTR_RES_PDN, 1);
	u32a(w, RDMA_NLDEV_ATTR_RES_PID, pid);
	nest_end(w);
}

static void test_netlink(void)
{
	struct pi_rdma_mr_list l = { 0 };
	struct nlbuf w = { .n = 0 };
	struct nlmsgerr err = { .error = -EINVAL };
	uint16_t type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_RES_MR_GET);
	size_t first;

	msg_begin(&w, type);
	u32a(&w, RDMA_NLDEV_ATTR_DEV_INDEX, 3);
	attr(&w, RDMA_NLDEV_ATTR_DEV_NAME, "rxe0", 5);
	nest_begin(&w, RDMA_NLDEV_ATTR_RES_MR);
	mr_entry(&w, 0, 262144, 161);
	mr_entry(&w, 1, 2 * MB, 162);
	nest_end(&w);
	msg_end(&w);
	first = w.n;
	is_int(pi_rdma_mr_parse_nlmsgs(w.b, w.n, "rxe0", 3, &l), 0, "netlink: a dump part, more to come");
	is_int(l.n, 2, "netlink: two MRs from nested RES_MR/RES_MR_ENTRY");
	ok(l.m[1].mrn == 1 && l.m[1].len == 2 * MB && l.m[1].lkey == 0x201 && l.m[1].rkey == 0x101 &&
	   l.m[1].has_keys && l.m[1].pid == 162 && l.m[1].has_pdn && !l.m[1].has_iova,
	   "netlink: MR fields");
	ok(l.m[0].dev_index == 3 && !strcmp(l.m[0].dev, "rxe0"), "netlink: device of the request");
	pi_rdma_mr_list_free(&l);

	msg_begin(&w, NLMSG_DONE);
	msg_end(&w);
	is_int(pi_rdma_mr_parse_nlmsgs(w.b, w.n, "rxe0", 3, &l), 1, "netlink: NLMSG_DONE ends the dump");
	is_int(l.n, 2, "netlink: MRs before DONE kept");
	pi_rdma_mr_list_free(&l);

	/* an attribute claiming more than the message holds */
	((struct nlattr *)(w.b + NLMSG_HDRLEN))->nla_len = 2000;
	is_int(pi_rdma_mr_parse_nlmsgs(w.b, first, "rxe0", 3, &l), -EBADMSG,
	       "netlink: oversized attribute rejected");
	is_int(l.n, 0, "netlink: nothing kept from a bad message");

	w.n = 0;
	msg_begin(&w, NLMSG_ERROR);
	put(&w, &err, sizeof(err));
	msg_end(&w);
	is_int(pi_rdma_mr_parse_nlmsgs(w.b, w.n, "rxe0", 3, &l), -EINVAL,
	       "netlink: the kernel's error is returned");
	pi_rdma_mr_list_free(&l);
}

static void write_mrs(const char *dir, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rdma/resource-mr", dir);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* a pass over many processes reads the MRs once, not once per process */
static void test_snapshot(void)
{
	char dir[] = "/tmp/pi-rdma-XXXXXX", path[256];
	struct pi_rdma_mr_list l = { 0 };

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/rdma", dir);
	mkdir(path, 0755);
	write_mrs(dir, "dev rxe0 mrn 0 mrlen 4096 pid 300\ndev rxe0 mrn 1 mrlen 4096 pid 301\n");
	pi_root_set(dir);
	pi_rdma_snapshot_begin();
	is_int(pi_rdma_mrs_read(300, &l), 0, "snapshot: pid 300 read");
	is_int(l.n, 1, "pid 300: its one MR");
	pi_rdma_mr_list_free(&l);
	write_mrs(dir, "dev rxe0 mrn 0 mrlen 4096 pid 300\ndev rxe0 mrn 2 mrlen 4096 pid 301\n"
		       "dev rxe0 mrn 3 mrlen 4096 pid 301\n");
	pi_rdma_snapshot_begin();	/* nested: the outer one still holds */
	is_int(pi_rdma_mrs_read(301, &l), 0, "snapshot: pid 301 read");
	ok(l.n == 1 && l.m[0].mrn == 1, "pid 301: the MR of the dump taken first (%zu)", l.n);
	pi_rdma_mr_list_free(&l);
	pi_rdma_snapshot_end();
	is_int(pi_rdma_mrs_read(301, &l), 0, "inner end: still the snapshot");
	is_int(l.n, 1, "pid 301: one MR");
	pi_rdma_mr_list_free(&l);
	pi_rdma_snapshot_end();
	is_int(pi_rdma_mrs_read(301, &l), 0, "after the pass: read again");
	ok(l.n == 2 && l.m[0].mrn == 2 && l.m[1].mrn == 3, "pid 301: the two MRs there now (%zu)", l.n);
	pi_rdma_mr_list_free(&l);
	pi_rdma_snapshot_end();	/* unbalanced: ignored */
	snprintf(path, sizeof(path), "%s/rdma/resource-mr", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rdma", dir);
	rmdir(path);
	rmdir(dir);
	pi_root_set("/");
}

int main(void)
{
	struct pi_rdma_mr_list l = { 0 };
	struct pi_holder_list hl = { 0 };
	const char *text =
		"dev rxe0 mrn 0 rkey 0x2b5 lkey 0x2b5 mrlen 262144 pdn 1 pid 300 comm rdma-client \n"
		"# a comment\n\n"
		"dev rxe0 mrn 1 rkey 0x3df lkey 0x3df mrlen 2097152 pdn 1 pid 300 comm rdma-client\n"
		"dev mlx5_0 mrn 7 mrlen 8192 pdn 3 pid 301 comm other iova 0x7f0000001000\n"
		"dev rxe0 mrn 4 mrlen 4096 comm [ib_core]\n";
	const char *bad = "dev rxe0 mrn x mrlen 4096\n";
	const char *nolen = "dev rxe0 mrn 1 pid 3\n";
	struct pi_status st = { .has_vmpin = true, .has_vmlck = true };
	struct pi_vfio_class vc;

	is_int(pi_rdma_mr_parse_text(text, strlen(text), &l), 4, "four MRs parsed");
	ok(l.n == 4 && l.m[0].mrn == 0 && l.m[0].len == 262144 && l.m[0].lkey == 0x2b5 &&
	   l.m[0].has_keys && l.m[0].pid == 300 && l.m[0].pdn == 1, "MR 0 fields");
	is_str(l.m[0].dev, "rxe0", "device name");
	is_str(l.m[0].comm, "rdma-client", "comm (trailing blank of rdma's output ignored)");
	ok(l.m[2].has_iova && l.m[2].iova == 0x7f0000001000ULL && !l.m[2].has_keys,
	   "iova, no keys");
	ok(l.m[3].pid == 0, "kernel MR: no pid");
	is_int(pi_rdma_mr_parse_text(bad, strlen(bad), &l), -EINVAL, "non-numeric mrn rejected");
	is_int(pi_rdma_mr_parse_text(nolen, strlen(nolen), &l), -EINVAL, "MR without mrlen rejected");
	is_int(l.n, 4, "list unchanged after bad input");

	/* placement: MR 0 (64 pages), MR 1 (512 pages), MR 2 by iova (3 pages) */
	{
		struct pi_pin_run runs[] = {
			{ 0x7f1000000000ULL, 0x7f1000000000ULL + 2 * MB + 256 * 1024, 1, 0 },
			{ 0x7f2000000000ULL, 0x7f2000040000ULL, 1, 0 },
		};
		struct pi_pin_run sub[] = {
			{ 0x7f1000000000ULL, 0x7f1000000000ULL + 2 * MB, 512, 0 },
			{ 0x7f1000000000ULL + 2 * MB, 0x7f1000000000ULL + 2 * MB + 256 * 1024, 1, 0 },
			{ 0x7f2000000000ULL, 0x7f2000040000ULL, 1, 0 },
		};

		l.m[3].len = 0;	/* the kernel MR is not the process's: out of the way */
		is_int(pi_rdma_place(&l, runs, 2, sub, 3), 3, "three MRs placed");
		is_int(l.m[0].place, PI_RDMA_BY_LENGTH, "MR 0 by length");
		ok(l.m[0].start == 0x7f2000000000ULL && l.m[0].end == 0x7f2000040000ULL,
		   "MR 0 on the whole run of 64 pages");
		ok(!l.m[0].ambiguous, "MR 0 unambiguous");
		ok(l.m[1].place == PI_RDMA_BY_LENGTH && l.m[1].start == 0x7f1000000000ULL &&
		   l.m[1].end == 0x7f1000000000ULL + 2 * MB, "MR 1 on the THP sub-run (pin count split)");
		ok(l.m[2].place == PI_RDMA_BY_IOVA && l.m[2].start == 0x7f0000001000ULL &&
		   l.m[2].end == 0x7f0000003000ULL, "MR 2 at its iova");
		is_int(pi_rdma_add_holders(&l, &hl), 0, "holders added");
		is_int(hl.n, 3, "one holder per placed MR");
		is_str(hl.h[0].desc, "rdma mr 0 (lkey 0x2b5)", "holder description with lkey");
		is_str(hl.h[2].desc, "rdma mr 7", "holder description without keys");
		ok(hl.h[2].start == 0x7f0000001000ULL && hl.h[2].end == 0x7f0000003000ULL,
		   "iova holder keeps the registered bounds");
		ok(hl.h[0].kind == PI_HOLDER_RDMA_MR && hl.h[0].fd == -1, "kind rdma_mr");
		ok(pi_holder_find(&hl, 0x7f2000010000ULL) == &hl.h[0], "page found in MR 0");
		is_str(pi_holder_kind_name(PI_HOLDER_VFIO), "vfio", "kind names");
	}
	pi_holder_list_free(&hl);
	pi_rdma_mr_list_free(&l);

	/* two MRs of one length, two runs: both placed, flagged ambiguous */
	{
		const char *two = "dev rxe0 mrn 0 mrlen 8192 pid 1\ndev rxe0 mrn 1 mrlen 6000 pid 1\n";
		struct pi_pin_run runs[] = {
			{ 0x1000, 0x3000, 1, 0 },
			{ 0x10000, 0x12000, 1, 0 },
		};

		pi_rdma_mr_parse_text(two, strlen(two), &l);
		is_int(pi_rdma_place(&l, runs, 2, NULL, 0), 2, "both 2-page MRs placed");
		ok(l.m[0].ambiguous && l.m[0].start == 0x1000, "first takes the first run, ambiguous");
		ok(l.m[1].start == 0x10000, "second takes the other run");
		pi_rdma_mr_list_free(&l);
	}
	/* an MR that starts inside a page covers one page more */
	{
		const char *odd = "dev rxe0 mrn 5 mrlen 8192 pid 1\n";
		struct pi_pin_run runs[] = { { 0x1000, 0x4000, 1, 0 } };

		pi_rdma_mr_parse_text(odd, strlen(odd), &l);
		is_int(pi_rdma_place(&l, runs, 1, NULL, 0), 1, "unaligned MR placed on 3 pages");
		pi_rdma_mr_list_free(&l);
	}

	/* VFIO: 1 MiB pinned without holder, VmPin 0, VmLck 1 MiB, no mlock */
	st.vmpin_kib = 0;
	st.vmlck_kib = 1024;
	is_int(pi_vfio_classify(&st, 0, 1024, 0, &vc), 0, "classified");
	ok(vc.vfio && vc.whole && vc.unexplained_kib == 1024, "VmLck explains the pins: vfio");
	is_int(pi_vfio_classify(&st, 0, 1024, 1024, &vc), 0, "classified with mlock");
	ok(!vc.vfio && vc.lock_kib == 0, "VmLck all mlock: not vfio");
	st.vmpin_kib = 2048;
	is_int(pi_vfio_classify(&st, 1024, 1024, 0, &vc), 0, "classified with VmPin left");
	ok(!vc.vfio && vc.unexplained_kib == 0, "VmPin left over covers the pins: not vfio");
	st.vmpin_kib = 1536;
	pi_vfio_classify(&st, 1024, 1024, 0, &vc);
	ok(vc.vfio && !vc.whole && vc.unexplained_kib == 512, "partly VmPin: vfio, not per page");
	st.has_vmlck = false;
	is_int(pi_vfio_classify(&st, 0, 1024, 0, &vc), -ENODATA, "no VmLck: -ENODATA");
	test_netlink();
	test_snapshot();
	return tap_done();
}
