// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BPF side of the bpf pin source (issue 6). Two programs:
 *
 *  pi_page_alloc  tp_btf/mm_page_alloc: records the struct page pointers of
 *                 order-0 pages allocated by our own process, so the loader
 *                 can locate the struct page array (vmemmap) from pages
 *                 whose PFN it knows from /proc/self/pagemap.
 *  pi_read        SEC("syscall"), run with BPF_PROG_TEST_RUN: for a batch of
 *                 PFNs in pfns[], writes one kpagepin ABI entry per PFN
 *                 into out[]. Reads only, through bpf_probe_read_kernel.
 *
 * Kernel layout differences are handled with CO-RE: every struct and enum
 * used below is a local "flavour" (name___pi) matched by field name against
 * the running kernel's BTF, and guarded by existence checks where kernels
 * differ (page->flags became memdesc_flags_t in 6.17; _pincount moved from
 * page[1].compound_pincount to folio->_pincount; hugetlb moved from a
 * compound destructor to a page flag to a page type).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "pinsrc-bpf.h"
#include "kernel/kpagepin/kpagepin_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- local flavours, relocated against the running kernel ---- */

struct memdesc_flags___pi {
	unsigned long f;
};

/* 6.17+: memdesc_flags_t flags */
struct page___new {
	struct memdesc_flags___pi flags;
} __attribute__((preserve_access_index));

/* up to 6.16: unsigned long flags */
struct page___old {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct atomic___pi {
	int counter;
} __attribute__((preserve_access_index));

struct page___pi {
	unsigned long compound_head;
	void *mapping;
	struct atomic___pi _mapcount;
	unsigned int page_type;
	struct atomic___pi _refcount;
} __attribute__((preserve_access_index));

/* up to 6.1: pin count of a compound page in its first tail page */
struct page___cpin {
	struct atomic___pi compound_mapcount;
	struct atomic___pi compound_pincount;
	unsigned char compound_dtor;
} __attribute__((preserve_access_index));

/* 6.2+: folio->_pincount (an offset from the head page, in page[1]) */
struct folio___pi {
	struct atomic___pi _entire_mapcount;
	struct atomic___pi _pincount;
	unsigned char _folio_dtor;
	unsigned long _flags_1;
} __attribute__((preserve_access_index));

enum pageflags___pi {
	PG_head___pi = 1,
	PG_anon_exclusive___pi = 2,
	PG_hugetlb___pi = 3,
};

enum pagetype___pi {
	PGTY_hugetlb___pi = 1,
};

enum compound_dtor_id___pi {
	HUGETLB_PAGE_DTOR___pi = 1,
};

/* ---- state shared with the loader ---- */

/* set by the loader before attaching: only our own allocations count */
const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PI_BPF_MAX_ALLOCS);
	__type(key, __u64);
	__type(value, __u32);
} pi_allocs SEC(".maps");

/* set by the loader (mmap'ed .bss) before each run */
__u64 vmemmap_base = 0;
__u32 batch_count = 0;
/* set by every run: sizeof(struct page) of the running kernel */
__u32 page_struct_size = 0;
/* the last 4 KiB page of the memory map that faulted, in this run */
__u64 hole_page = 0;
__u64 pfns[PI_BPF_BATCH] = {};
__u64 out[PI_BPF_BATCH] = {};

/* scratch copies of struct page: the page, and its folio's head + page[1] */
__u64 pgbuf[2 * PI_BPF_MAX_PAGE_SIZE / 8] = {};
__u64 hdbuf[2 * PI_BPF_MAX_PAGE_SIZE / 8] = {};

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(pi_page_alloc, struct page *page, unsigned int order)
{
	__u64 key = (__u64)page;
	__u32 val = order;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || order != 0)
		return 0;
	bpf_map_update_elem(&pi_allocs, &key, &val, BPF_ANY);
	return 0;
}

/* ---- reader ---- */

static __always_inline __u64 rd64(const __u64 *buf, __u32 off)
{
	return *(const __u64 *)((const char *)buf + off);
}

static __always_inline __u32 rd32(const __u64 *buf, __u32 off)
{
	return *(const __u32 *)((const char *)buf + off);
}

static __always_inline __u32 flags_off(void)
{
	if (bpf_core_field_exists(struct page___new, flags))
		return bpf_core_field_offset(struct page___new, flags);
	return bpf_core_field_offset(struct page___old, flags);
}

/* byte offset of the pin count from the head's struct page; 0 = unknown */
static __always_inline __u32 pincount_off(__u32 sz)
{
	if (bpf_core_field_exists(struct folio___pi, _pincount))
		return bpf_core_field_offset(struct folio___pi, _pincount);
	if (bpf_core_field_exists(struct page___cpin, compound_pincount))
		return sz + bpf_core_field_offset(struct page___cpin, compound_pincount);
	return 0;
}

static __always_inline int test_flag(__u64 flags, __u32 bit)
{
	return bit < 64 && ((flags >> bit) & 1);
}

/* hd holds the head page and page[1] */
static __always_inline int folio_is_hugetlb(const __u64 *hd, __u32 sz)
{
	if (bpf_core_enum_value_exists(enum pagetype___pi, PGTY_hugetlb___pi)) {
		__u32 t = rd32(hd, bpf_core_field_offset(struct page___pi, page_type));

		return (t >> 24) == bpf_core_enum_value(enum pagetype___pi, PGTY_hugetlb___pi);
	}
	if (bpf_core_enum_value_exists(enum pageflags___pi, PG_hugetlb___pi)) {
		/* 6.9: PG_hugetlb in the flags of page[1] */
		return test_flag(rd64(hd, sz + flags_off()),
				 bpf_core_enum_value(enum pageflags___pi, PG_hugetlb___pi));
	}
	if (bpf_core_enum_value_exists(enum compound_dtor_id___pi, HUGETLB_PAGE_DTOR___pi)) {
		__u32 v = bpf_core_enum_value(enum compound_dtor_id___pi, HUGETLB_PAGE_DTOR___pi);

		if (bpf_core_field_exists(struct folio___pi, _folio_dtor))
			return *((const __u8 *)hd + bpf_core_field_offset(struct folio___pi, _folio_dtor)) == v;
		if (bpf_core_field_exists(struct page___cpin, compound_dtor))
			return *((const __u8 *)hd + sz + bpf_core_field_offset(struct page___cpin, compound_dtor)) == v;
	}
	return 0;
}

/* the folio is mapped by a PMD somewhere (entire mapcount, -1 based) */
static __always_inline int folio_entire_mapped(const __u64 *hd, __u32 sz)
{
	if (bpf_core_field_exists(struct folio___pi, _entire_mapcount))
		return (int)rd32(hd, bpf_core_field_offset(struct folio___pi, _entire_mapcount)) >= 0;
	if (bpf_core_field_exists(struct page___cpin, compound_mapcount))
		return (int)rd32(hd, sz + bpf_core_field_offset(struct page___cpin, compound_mapcount)) >= 0;
	return 0;
}

static __always_inline __u64 sat24(__u64 v)
{
	return v > KPP_COUNT_MAX ? KPP_COUNT_MAX : v;
}

static __u64 pi_entry(__u64 pfn)
{
	__u32 sz = bpf_core_type_size(struct page);
	__u32 foff = flags_off();
	__u64 base = vmemmap_base, ptr, head, flags, hflags, ch, e = 0;
	__u32 refcount, pins = 0, pg_head, pg_ae, pinoff;
	int large, tail, anon, ae_bit;
	const __u64 *hd;

	if (sz < 32 || sz > PI_BPF_MAX_PAGE_SIZE || pfn >= PI_BPF_MAX_PFN || !base)
		return KPP_F_NOPAGE;
	ptr = base + pfn * sz;
	/*
	 * A fault costs about a microsecond: remember the last 4 KiB page of
	 * the memory map that faulted (a hole) and skip PFNs that fall in it.
	 */
	if ((ptr & ~4095ULL) == hole_page || ((ptr + sz - 1) & ~4095ULL) == hole_page)
		return KPP_F_NOPAGE;
	if (bpf_probe_read_kernel(pgbuf, sz, (void *)ptr)) {
		hole_page = ptr & ~4095ULL;
		if ((ptr & ~4095ULL) != ((ptr + sz - 1) & ~4095ULL) &&
		    !bpf_probe_read_kernel(pgbuf, 8, (void *)ptr))
			hole_page = (ptr + sz - 1) & ~4095ULL;
		return KPP_F_NOPAGE;
	}
	flags = rd64(pgbuf, foff);
	if (flags == ~0ULL)		/* poisoned, uninitialised memmap */
		return KPP_F_NOPAGE;

	pg_head = bpf_core_enum_value(enum pageflags___pi, PG_head___pi);
	pg_ae = bpf_core_enum_value(enum pageflags___pi, PG_anon_exclusive___pi);
	ch = rd64(pgbuf, bpf_core_field_offset(struct page___pi, compound_head));
	tail = ch & 1;
	hd = pgbuf;
	head = ptr;
	if (tail) {
		head = ch - 1;
		/* a head must be a struct page of the same array, before us, close */
		if (head >= ptr || head < base || (head - base) % sz ||
		    (ptr - head) / sz >= PI_BPF_MAX_FOLIO_PAGES)
			return KPP_F_NOPAGE;
		if (bpf_probe_read_kernel(hdbuf, 2 * sz, (void *)head))
			return KPP_F_NOPAGE;
		hd = hdbuf;
	}
	hflags = rd64(hd, foff);
	large = tail || test_flag(hflags, pg_head);
	/* a head: its page[1] too (pin count, hugetlb, entire mapcount) */
	if (large && !tail && bpf_probe_read_kernel(pgbuf, 2 * sz, (void *)ptr))
		return KPP_F_NOPAGE;
	refcount = rd32(hd, bpf_core_field_offset(struct page___pi, _refcount));
	anon = rd64(hd, bpf_core_field_offset(struct page___pi, mapping)) & 1;	/* PAGE_MAPPING_ANON */

	e = sat24(refcount) << KPP_REFCOUNT_SHIFT;
	if (anon)
		e |= KPP_F_ANON;
	if (large) {
		e |= KPP_F_LARGE;
		if (!tail)
			e |= KPP_F_HEAD;
		pinoff = pincount_off(sz);
		if (pinoff && pinoff + 4 <= 2 * sz) {
			int pc = (int)rd32(hd, pinoff);

			pins = pc > 0 ? pc : 0;
			e |= KPP_F_PIN_EXACT;
			if (pins)
				e |= KPP_F_MAYBE_PINNED;
		} else if (refcount >= KPP_PIN_BIAS) {
			e |= KPP_F_MAYBE_PINNED;
		}
		/*
		 * hugetlb keeps AnonExclusive on the head; THP per page for PTE
		 * mappings, and on the head for the PMD mapping
		 * (__folio_add_anon_rmap(), RMAP_LEVEL_PMD)
		 */
		if (folio_is_hugetlb(hd, sz))
			ae_bit = test_flag(hflags, pg_ae);
		else
			ae_bit = test_flag(flags, pg_ae) ||
				 (folio_entire_mapped(hd, sz) && test_flag(hflags, pg_ae));
	} else {
		int mc = (int)rd32(pgbuf, bpf_core_field_offset(struct page___pi, _mapcount));
		/* below -1 the field holds a page type, not a mapcount */
		__u32 mapcount = mc >= -1 ? mc + 1 : 0;

		if (refcount >= KPP_PIN_BIAS) {
			e |= KPP_F_MAYBE_PINNED;
			pins = refcount > mapcount ? (refcount - mapcount) / KPP_PIN_BIAS : 0;
		}
		ae_bit = test_flag(flags, pg_ae);
	}
	if (anon && ae_bit)
		e |= KPP_F_ANON_EXCLUSIVE;
	e |= sat24(pins) << KPP_PINCOUNT_SHIFT;
	return e;
}

static long pi_one(__u32 i, void *ctx)
{
	if (i >= PI_BPF_BATCH)
		return 1;
	out[i] = pi_entry(pfns[i]);
	return 0;
}

SEC("syscall")
int pi_read(void *ctx)
{
	__u32 n = batch_count;

	page_struct_size = bpf_core_type_size(struct page);
	hole_page = 0;
	if (n > PI_BPF_BATCH)
		return -7;	/* -E2BIG */
	bpf_loop(n, pi_one, NULL, 0);
	return 0;
}
