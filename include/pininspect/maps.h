/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_MAPS_H
#define PININSPECT_MAPS_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

enum pi_kind {
	PI_KIND_ANON,		/* private anonymous (incl. heap, stack) */
	PI_KIND_FILE,		/* private file mapping: its anon (COW) pages */
	PI_KIND_SHMEM,
	PI_KIND_HUGETLB,
	PI_KIND_OTHER,		/* [vvar], [vdso], device mappings: never scanned */
};
const char *pi_kind_name(enum pi_kind k);
/* "anon", "file", "shmem", "hugetlb", "other" -> kind: 0 or -EINVAL */
int pi_kind_from_name(const char *name, enum pi_kind *ret);

struct pi_vma {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool read, write, exec, shared;
	enum pi_kind kind;
	char *name;		/* raw bytes as the kernel prints them; "" for none */
};

struct pi_vma_list {
	struct pi_vma *vmas;
	size_t n, cap;
};

/* Parse the text of /proc/PID/maps. Garbage lines give -EINVAL with *ret_line set. */
int pi_maps_parse(const char *buf, size_t len, struct pi_vma_list *ret, size_t *ret_line);
int pi_maps_read(pid_t pid, struct pi_vma_list *ret, size_t *ret_line);
void pi_vma_list_free(struct pi_vma_list *l);
/* display name: path, [heap], [stack], or [anon] */
const char *pi_vma_display_name(const struct pi_vma *v);
const struct pi_vma *pi_vma_find(const struct pi_vma_list *l, uint64_t addr);

#endif
