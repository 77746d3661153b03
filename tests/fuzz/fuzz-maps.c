// SPDX-License-Identifier: GPL-2.0-or-later
/* pi_maps_parse on arbitrary /proc/PID/maps text (VMA names are attacker bytes). */
#include <errno.h>
#include "fuzz.h"
#include "pininspect/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fz_dup(data, size);
	struct pi_vma_list l;
	size_t line = 0;
	int r;

	r = pi_maps_parse(buf, size, &l, &line);
	if (r < 0) {
		FZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		FZ_ASSERT(line >= 1);
		free(buf);
		return 0;
	}
	FZ_ASSERT(l.n <= l.cap);
	for (size_t i = 0; i < l.n; i++) {
		const struct pi_vma *v = &l.vmas[i];
		const char *name = pi_vma_display_name(v);

		FZ_ASSERT(v->start < v->end);
		FZ_ASSERT(!((v->start | v->end) & 0xfff));
		FZ_ASSERT(i == 0 || l.vmas[i - 1].end <= v->start);
		FZ_ASSERT(v->name && name && *name);
		FZ_ASSERT(!strchr(v->name, '\n'));
		FZ_ASSERT((unsigned int)v->kind <= PI_KIND_OTHER);
		FZ_ASSERT(strcmp(pi_kind_name(v->kind), "") != 0);
		FZ_ASSERT(pi_vma_find(&l, v->start) == v);
		FZ_ASSERT(pi_vma_find(&l, v->end - 1) == v);
		FZ_ASSERT(v->start == 0 || pi_vma_find(&l, v->start - 1) != v);
	}
	pi_vma_list_free(&l);
	FZ_ASSERT(l.n == 0 && l.vmas == NULL);
	free(buf);
	return 0;
}
