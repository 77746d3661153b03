/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_KPAGE_H
#define PININSPECT_KPAGE_H

#include <stdint.h>
#include <stddef.h>

/* include/uapi/linux/kernel-page-flags.h */
#define KPF_LOCKED		0
#define KPF_ERROR		1
#define KPF_REFERENCED		2
#define KPF_UPTODATE		3
#define KPF_DIRTY		4
#define KPF_LRU			5
#define KPF_ACTIVE		6
#define KPF_SLAB		7
#define KPF_WRITEBACK		8
#define KPF_RECLAIM		9
#define KPF_BUDDY		10
#define KPF_MMAP		11
#define KPF_ANON		12
#define KPF_SWAPCACHE		13
#define KPF_SWAPBACKED		14
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define KPF_UNEVICTABLE		18
#define KPF_HWPOISON		19
#define KPF_NOPAGE		20
#define KPF_KSM			21
#define KPF_THP			22
#define KPF_OFFLINE		23
#define KPF_ZERO_PAGE		24
#define KPF_IDLE		25
#define KPF_PGTABLE		26
#define KPF_RESERVED		32
#define KPF_MLOCKED		33
#define KPF_MAPPEDTODISK	34	/* on an anon page: PG_anon_exclusive */
#define KPF_PRIVATE		35
#define KPF_PRIVATE_2		36
#define KPF_OWNER_PRIVATE	37
#define KPF_ARCH		38
#define KPF_UNCACHED		39
#define KPF_SOFTDIRTY		40
#define KPF_ARCH_2		41
#define KPF_ARCH_3		42
#define KPF_ANON_EXCLUSIVE	KPF_MAPPEDTODISK
#define KPF_BIT(b)		(1ULL << (b))

/* One flag-name table serves --pages "flags" output and documentation. */
struct pi_flag_name {
	int bit;
	const char *name;
};
extern const struct pi_flag_name pi_kpf_names[];
extern const size_t pi_kpf_names_count;

struct pi_kpage_file;

/* relpath under the root, e.g. "proc/kpageflags" or "sys/kernel/debug/kpagepin/pages" */
int pi_kpage_open(const char *relpath, struct pi_kpage_file **ret);
void pi_kpage_close(struct pi_kpage_file *f);

/*
 * out[i] = entry for pfns[i]. PFNs need not be sorted: they are sorted
 * and merged into runs internally, one pread per run. Entries past the
 * end of the file read as 0 and are flagged in missing (may be NULL).
 * Returns 0 or -errno.
 */
int pi_kpage_read(struct pi_kpage_file *f, const uint64_t *pfns, size_t n,
		  uint64_t *out, size_t *ret_missing);

/* Decode n little-endian u64 from buf (helper for fuzzing and fixtures). */
void pi_le64_decode(const unsigned char *buf, size_t n, uint64_t *out);

#endif
