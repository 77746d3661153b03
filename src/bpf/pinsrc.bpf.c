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
 *  pi_read_fast   the same with direct loads through bpf_rdonly_cast(p, 0),
 *                 6.17+; the loader loads one of the two.
 *
 * Kernel layout differences are handled with CO-RE: every struct and enum
 * used below is a local "flavour" (name___pi) matched by field name against
 * the running kernel's BTF, and guarded by existence checks where kernels
 * differ (page->flags became memdesc_flags_t in recent kernels; _pincount moved from
 * page[1].compound_pincount to folio->_pincount; hugetlb moved from a
 * compound destructor to a page flag to a page type).
 */
#include "vmlinux.h"
#ifndef __VMLINUX_H__
/*
 * vmlinux.h is empty when the build host has no /sys/kernel/btf/vmlinux:
 * the few kernel types this program names are declared here (every field
 * access is CO-RE relocated against the running kernel anyway).
 */
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };
enum bpf_map_type { BPF_MAP_TYPE_HASH = 1 };
enum { BPF_ANY = 0 };
struct page {
	unsigned long flags;
} __attribute__((preserve_access_index));
#endif
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

enum zone_type___pi {
	ZONE_DMA___pi = 0,
	ZONE_DMA32___pi = 1,
	ZONE_NORMAL___pi = 2,
	ZONE_MOVABLE___pi = 3,
	ZONE_DEVICE___pi = 4,
	__MAX_NR_ZONES___pi = 5,
};

enum migratetype___pi {
	MIGRATE_CMA___pi = 1,
};

struct zoneref___pi {
	void *zone;
} __attribute__((preserve_access_index));

/* _zonerefs has MAX_NUMNODES * MAX_NR_ZONES + 1 entries: gives NODES_SHIFT */
struct zonelist___pi {
	struct zoneref___pi _zonerefs[1];
} __attribute__((preserve_access_index));

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
/*
 * Also set by every run, for the loader to work out where page->flags
 * keeps the zone (include/linux/page-flags-layout.h), which BTF does not
 * describe: zone ids of this kernel (-1 when absent), the number of
 * entries of zonelist->_zonerefs, whether it has CMA.
 */
__s32 zone_ids[6] = {};		/* DMA, DMA32, NORMAL, MOVABLE, DEVICE, __MAX_NR_ZONES */
__u32 zonerefs = 0;
__u32 has_cma = 0;
/*
 * Set by the loader: LONGTERM_PINNABLE = zone of page->flags is neither
 * ZONE_MOVABLE nor ZONE_DEVICE (no CMA here); pinnable_on = 0 leaves it out.
 */
__u32 pinnable_on = 0;
__u32 zone_shift = 0;
__u64 zone_mask = 0;
/* set by the loader for one calibration run: out[] gets raw page->flags */
__u32 raw_flags = 0;
/* the last 4 KiB page of the memory map that faulted, in this run */
__u64 hole_page = 0;
/* the head whose copy hdbuf holds, in this run (probe_read reader) */
__u64 cached_head = 0;
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

static __always_inline void export_constants(void)
{
	page_struct_size = bpf_core_type_size(struct page);
	zone_ids[0] = bpf_core_enum_value_exists(enum zone_type___pi, ZONE_DMA___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, ZONE_DMA___pi) : -1;
	zone_ids[1] = bpf_core_enum_value_exists(enum zone_type___pi, ZONE_DMA32___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, ZONE_DMA32___pi) : -1;
	zone_ids[2] = bpf_core_enum_value_exists(enum zone_type___pi, ZONE_NORMAL___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, ZONE_NORMAL___pi) : -1;
	zone_ids[3] = bpf_core_enum_value_exists(enum zone_type___pi, ZONE_MOVABLE___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, ZONE_MOVABLE___pi) : -1;
	zone_ids[4] = bpf_core_enum_value_exists(enum zone_type___pi, ZONE_DEVICE___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, ZONE_DEVICE___pi) : -1;
	zone_ids[5] = bpf_core_enum_value_exists(enum zone_type___pi, __MAX_NR_ZONES___pi) ?
		      bpf_core_enum_value(enum zone_type___pi, __MAX_NR_ZONES___pi) : -1;
	zonerefs = 0;
	if (bpf_core_field_exists(struct zonelist___pi, _zonerefs) &&
	    bpf_core_type_size(struct zoneref___pi))
		zonerefs = bpf_core_field_size(struct zonelist___pi, _zonerefs) /
			   bpf_core_type_size(struct zoneref___pi);
	has_cma = bpf_core_enum_value_exists(enum migratetype___pi, MIGRATE_CMA___pi);
	hole_page = 0;
	cached_head = 0;
}

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

/*
 * What the entry is made of, whichever way it was read. Everything but
 * flags and mapcount is the folio's (its head page and page[1]).
 */
struct pi_raw {
	__u64 flags;		/* this page's flags */
	__u64 hflags;		/* the head's flags */
	__u64 mapping;
	__u32 refcount;
	int mapcount;		/* this page's _mapcount (-1 based), or a page type */
	int pincount;
	int entire;		/* entire (PMD) mapcount, -1 based */
	int hugetlb;
	int large, tail, has_pin;
};

static __always_inline __u64 sat24(__u64 v)
{
	return v > KPP_COUNT_MAX ? KPP_COUNT_MAX : v;
}

static __always_inline __u64 compose(const struct pi_raw *r)
{
	__u32 pg_ae = bpf_core_enum_value(enum pageflags___pi, PG_anon_exclusive___pi);
	__u64 e = sat24(r->refcount) << KPP_REFCOUNT_SHIFT;
	__u32 pins = 0;
	int anon = r->mapping & 1;	/* PAGE_MAPPING_ANON */
	int ae_bit;

	if (anon)
		e |= KPP_F_ANON;
	if (r->large) {
		e |= KPP_F_LARGE;
		if (!r->tail)
			e |= KPP_F_HEAD;
		if (r->has_pin) {
			pins = r->pincount > 0 ? r->pincount : 0;
			e |= KPP_F_PIN_EXACT;
			if (pins)
				e |= KPP_F_MAYBE_PINNED;
		} else if (r->refcount >= KPP_PIN_BIAS) {
			e |= KPP_F_MAYBE_PINNED;
		}
		/*
		 * hugetlb keeps AnonExclusive on the head; THP per page for PTE
		 * mappings, and on the head for the PMD mapping
		 * (__folio_add_anon_rmap(), RMAP_LEVEL_PMD)
		 */
		if (r->hugetlb)
			ae_bit = test_flag(r->hflags, pg_ae);
		else
			ae_bit = test_flag(r->flags, pg_ae) ||
				 (r->entire >= 0 && test_flag(r->hflags, pg_ae));
	} else {
		/* below -1 the field holds a page type, not a mapcount */
		__u32 mapcount = r->mapcount >= -1 ? r->mapcount + 1 : 0;

		if (r->refcount >= KPP_PIN_BIAS) {
			e |= KPP_F_MAYBE_PINNED;
			pins = r->refcount > mapcount ? (r->refcount - mapcount) / KPP_PIN_BIAS : 0;
		}
		ae_bit = test_flag(r->flags, pg_ae);
	}
	if (anon && ae_bit)
		e |= KPP_F_ANON_EXCLUSIVE;
	if (pinnable_on && zone_shift < 64) {
		__u32 zone = (r->flags >> zone_shift) & zone_mask;

		if ((int)zone != zone_ids[3] && (int)zone != zone_ids[4])
			e |= KPP_F_LONGTERM_PINNABLE;
	}
	e |= sat24(pins) << KPP_PINCOUNT_SHIFT;
	return e;
}

/*
 * The struct page address of a PFN, or 0 for none. A fault costs about a
 * microsecond: the last 4 KiB page of the memory map that faulted (a hole)
 * is remembered and PFNs that fall in it are skipped.
 */
static __always_inline __u64 page_ptr(__u64 pfn, __u32 sz)
{
	__u64 base = vmemmap_base, ptr;

	if (sz < 32 || sz > PI_BPF_MAX_PAGE_SIZE || pfn >= PI_BPF_MAX_PFN || !base)
		return 0;
	ptr = base + pfn * sz;
	if ((ptr & ~4095ULL) == hole_page || ((ptr + sz - 1) & ~4095ULL) == hole_page)
		return 0;
	return ptr;
}

static __always_inline void note_hole(__u64 ptr, __u32 sz)
{
	hole_page = ptr & ~4095ULL;
	if ((ptr & ~4095ULL) != ((ptr + sz - 1) & ~4095ULL) &&
	    !bpf_probe_read_kernel(pgbuf, 8, (void *)ptr))
		hole_page = (ptr + sz - 1) & ~4095ULL;
}

/* a head must be a struct page of the same array, before us, close */
static __always_inline int head_ok(__u64 head, __u64 ptr, __u32 sz)
{
	return head < ptr && head >= vmemmap_base && (head - vmemmap_base) % sz == 0 &&
	       (ptr - head) / sz < PI_BPF_MAX_FOLIO_PAGES;
}

/* ---- portable reader: bpf_probe_read_kernel into scratch copies ---- */

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

/* entire (PMD) mapcount, -1 based; -1 when unknown */
static __always_inline int folio_entire(const __u64 *hd, __u32 sz)
{
	if (bpf_core_field_exists(struct folio___pi, _entire_mapcount))
		return (int)rd32(hd, bpf_core_field_offset(struct folio___pi, _entire_mapcount));
	if (bpf_core_field_exists(struct page___cpin, compound_mapcount))
		return (int)rd32(hd, sz + bpf_core_field_offset(struct page___cpin, compound_mapcount));
	return -1;
}

static __u64 pi_entry(__u64 pfn)
{
	__u32 sz = bpf_core_type_size(struct page);
	__u32 foff = flags_off(), pinoff;
	__u64 ptr = page_ptr(pfn, sz), head, ch;
	struct pi_raw r = {};
	const __u64 *hd;

	if (!ptr)
		return KPP_F_NOPAGE;
	if (bpf_probe_read_kernel(pgbuf, sz, (void *)ptr)) {
		note_hole(ptr, sz);
		return KPP_F_NOPAGE;
	}
	r.flags = rd64(pgbuf, foff);
	if (r.flags == ~0ULL)		/* poisoned, uninitialised memmap */
		return KPP_F_NOPAGE;
	r.mapcount = (int)rd32(pgbuf, bpf_core_field_offset(struct page___pi, _mapcount));
	ch = rd64(pgbuf, bpf_core_field_offset(struct page___pi, compound_head));
	r.tail = ch & 1;
	hd = pgbuf;
	if (r.tail) {
		head = ch - 1;
		if (!head_ok(head, ptr, sz))
			return KPP_F_NOPAGE;
		/* the tails of a folio come in a row: read their head once a run */
		if (head != cached_head) {
			cached_head = 0;
			if (bpf_probe_read_kernel(hdbuf, 2 * sz, (void *)head))
				return KPP_F_NOPAGE;
			cached_head = head;
		}
		hd = hdbuf;
	}
	r.hflags = rd64(hd, foff);
	r.large = r.tail || test_flag(r.hflags, bpf_core_enum_value(enum pageflags___pi, PG_head___pi));
	/* a head: its page[1] too (pin count, hugetlb, entire mapcount) */
	if (r.large && !r.tail && bpf_probe_read_kernel(pgbuf, 2 * sz, (void *)ptr))
		return KPP_F_NOPAGE;
	r.refcount = rd32(hd, bpf_core_field_offset(struct page___pi, _refcount));
	r.mapping = rd64(hd, bpf_core_field_offset(struct page___pi, mapping));
	if (r.large) {
		pinoff = pincount_off(sz);
		if (pinoff && pinoff + 4 <= 2 * sz) {
			r.pincount = (int)rd32(hd, pinoff);
			r.has_pin = 1;
		}
		r.hugetlb = folio_is_hugetlb(hd, sz);
		r.entire = folio_entire(hd, sz);
	}
	return raw_flags ? r.flags : compose(&r);
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

	export_constants();
	if (n > PI_BPF_BATCH)
		return -7;	/* -E2BIG */
	bpf_loop(n, pi_one, NULL, 0);
	return 0;
}

/*
 * ---- fast reader (6.17+): direct loads through bpf_rdonly_cast(p, 0) ----
 * Loads through untrusted read-only memory are PROBE_MEM loads: a fault
 * reads as 0 (exception table) instead of failing the program.
 */

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline __u64 page_flags(const void *p)
{
	if (bpf_core_field_exists(struct page___new, flags))
		return ((const struct page___new *)p)->flags.f;
	return ((const struct page___old *)p)->flags;
}

static __u64 pi_entry_fast(__u64 pfn)
{
	__u32 sz = bpf_core_type_size(struct page);
	__u64 ptr = page_ptr(pfn, sz), head, ch, probe;
	const struct page___pi *p, *h;
	const struct folio___pi *f;
	struct pi_raw r = {};

	if (!ptr)
		return KPP_F_NOPAGE;
	p = bpf_rdonly_cast((void *)ptr, 0);
	/* a load that faults reads as 0: tell a hole from a zeroed page */
	r.flags = page_flags(p);
	ch = p->compound_head;
	r.refcount = p->_refcount.counter;
	if (!r.flags && !ch && !r.refcount && bpf_probe_read_kernel(&probe, sizeof(probe), (void *)ptr)) {
		note_hole(ptr, sz);
		return KPP_F_NOPAGE;
	}
	if (r.flags == ~0ULL)
		return KPP_F_NOPAGE;
	r.mapcount = p->_mapcount.counter;
	r.tail = ch & 1;
	h = p;
	head = ptr;
	if (r.tail) {
		head = ch - 1;
		if (!head_ok(head, ptr, sz))
			return KPP_F_NOPAGE;
		h = bpf_rdonly_cast((void *)head, 0);
		r.refcount = h->_refcount.counter;
	}
	r.hflags = page_flags(h);
	r.large = r.tail || test_flag(r.hflags, bpf_core_enum_value(enum pageflags___pi, PG_head___pi));
	r.mapping = (__u64)h->mapping;
	if (r.large) {
		f = bpf_rdonly_cast((void *)head, 0);
		if (bpf_core_field_exists(struct folio___pi, _pincount)) {
			r.pincount = f->_pincount.counter;
			r.has_pin = 1;
		}
		r.entire = -1;
		if (bpf_core_field_exists(struct folio___pi, _entire_mapcount))
			r.entire = f->_entire_mapcount.counter;
		if (bpf_core_enum_value_exists(enum pagetype___pi, PGTY_hugetlb___pi))
			r.hugetlb = (h->page_type >> 24) ==
				    bpf_core_enum_value(enum pagetype___pi, PGTY_hugetlb___pi);
		else if (bpf_core_enum_value_exists(enum pageflags___pi, PG_hugetlb___pi) &&
			 bpf_core_field_exists(struct folio___pi, _flags_1))
			r.hugetlb = test_flag(f->_flags_1,
					      bpf_core_enum_value(enum pageflags___pi, PG_hugetlb___pi));
		else if (bpf_core_enum_value_exists(enum compound_dtor_id___pi, HUGETLB_PAGE_DTOR___pi) &&
			 bpf_core_field_exists(struct folio___pi, _folio_dtor))
			r.hugetlb = f->_folio_dtor ==
				    bpf_core_enum_value(enum compound_dtor_id___pi, HUGETLB_PAGE_DTOR___pi);
	}
	return raw_flags ? r.flags : compose(&r);
}

static long pi_one_fast(__u32 i, void *ctx)
{
	if (i >= PI_BPF_BATCH)
		return 1;
	out[i] = pi_entry_fast(pfns[i]);
	return 0;
}

SEC("syscall")
int pi_read_fast(void *ctx)
{
	__u32 n = batch_count;

	export_constants();
	if (n > PI_BPF_BATCH)
		return -7;	/* -E2BIG */
	bpf_loop(n, pi_one_fast, NULL, 0);
	return 0;
}
