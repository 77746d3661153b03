// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The other readers of process- or system-controlled text, one per input
 * selected by its first byte: /proc/PID/limits, /proc/PID/cgroup,
 * /proc/PID/smaps (VMA names), `rdma resource show mr` text (comm),
 * /proc/zoneinfo, /proc/iomem, and the --pfn-range and --fail-on option
 * parsers. Each must return 0 or a negative errno, never read past the
 * buffer, and leave consistent results behind.
 */
#include <errno.h>
#include "fuzz.h"
#include "pininspect/accounting.h"
#include "pininspect/diff.h"
#include "pininspect/pinmap.h"
#include "pininspect/rdma.h"

enum { P_LIMITS, P_CGROUP, P_SMAPS, P_RDMA, P_ZONEINFO, P_IOMEM, P_PFNRANGE, P_FAILON, P_NR };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *str;
	size_t len;
	int r;

	if (!size)
		return 0;
	len = size - 1;
	buf = fz_dup(data + 1, len);
	str = fz_strdup(data + 1, len);
	switch (data[0] % P_NR) {
	case P_LIMITS: {
		struct pi_memlock m;

		r = pi_limits_parse(buf, len, &m);
		FZ_ASSERT(r == 0 || r == -ENOENT || r == -EINVAL || r == -ERANGE);
		break;
	}
	case P_CGROUP: {
		char path[64];

		memset(path, 0x5a, sizeof(path));
		r = pi_cgroup_parse(buf, len, path, sizeof(path));
		FZ_ASSERT(r <= 0);
		if (r == 0)
			FZ_ASSERT(memchr(path, '\0', sizeof(path)));
		break;
	}
	case P_SMAPS: {
		struct pi_smaps s = { 0 };

		r = pi_smaps_parse(buf, len, &s);
		FZ_ASSERT(r <= 0);
		if (r == 0) {
			FZ_ASSERT(s.n <= s.cap);
			for (size_t i = 0; i < s.n; i++)
				(void)s.v[i];	/* ranges are as the text says: no order promised */
		}
		pi_smaps_free(&s);
		break;
	}
	case P_RDMA: {
		struct pi_rdma_mr_list l = { 0 };

		r = pi_rdma_mr_parse_text(buf, len, &l);
		FZ_ASSERT(r == -EINVAL || r == -ENOMEM || (r >= 0 && (size_t)r == l.n));
		pi_rdma_mr_list_free(&l);
		break;
	}
	case P_ZONEINFO:
	case P_IOMEM: {
		struct pi_layout l = { 0 };

		if (data[0] % P_NR == P_ZONEINFO)
			r = pi_zoneinfo_parse(buf, len, &l);
		else
			r = pi_iomem_parse(buf, len, &l);
		FZ_ASSERT(r <= 0);
		for (size_t i = 0; i < l.nram; i++)
			(void)pi_layout_ram_pages(&l, 0, UINT64_MAX);
		pi_layout_free(&l);
		break;
	}
	case P_PFNRANGE: {
		struct pi_pfn_range pr;
		struct pi_pfn_ranges a = { 0 }, b = { 0 };

		r = pi_pfn_range_parse(str, &pr);
		FZ_ASSERT(r <= 0);
		if (r == 0) {
			FZ_ASSERT(pr.start < pr.end);
			if (pi_pfn_ranges_add(&a, pr.start, pr.end) == 0 &&
			    pi_pfn_ranges_add(&a, pr.start / 2, pr.start / 2 + 1) == 0 &&
			    pi_pfn_ranges_add(&b, pr.start, pr.end) == 0) {
				pi_pfn_ranges_normalize(&a);
				pi_pfn_ranges_normalize(&b);
				FZ_ASSERT(pi_pfn_ranges_intersect(&a, &b) == 0);
				FZ_ASSERT(pi_pfn_ranges_pages(&a) == pr.end - pr.start);
			}
		}
		pi_pfn_ranges_free(&a);
		pi_pfn_ranges_free(&b);
		break;
	}
	case P_FAILON: {
		unsigned int mask = 0;
		const char *bad = NULL;
		size_t badlen = 0;

		r = pi_transition_parse_list(str, &mask, &bad, &badlen);
		FZ_ASSERT(r == 0 || r == -EINVAL);
		if (r == 0)
			FZ_ASSERT(mask < (1U << PI_T__MAX));
		else if (bad)
			FZ_ASSERT(bad >= str && bad + badlen <= str + strlen(str));
		break;
	}
	}
	free(buf);
	free(str);
	return 0;
}
