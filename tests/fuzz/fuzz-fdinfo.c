// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pi_iouring_fdinfo_parse: io_uring fdinfo text, twice into the same list;
 * then the holder lookup index against a linear search.
 */
#include <errno.h>
#include "fuzz.h"
#include "pininspect/holders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fz_dup(data, size);
	struct pi_holder_list l = { 0 };

	for (int round = 0; round < 2; round++) {
		size_t before = l.n;
		int r = pi_iouring_fdinfo_parse(buf, size, 3 + round, &l);

		if (r < 0) {
			FZ_ASSERT(r == -EINVAL || r == -ENOENT || r == -EAGAIN || r == -ENOMEM);
			FZ_ASSERT(l.n == before);
			continue;
		}
		FZ_ASSERT(l.n == before + (size_t)r);
		for (size_t i = before; i < l.n; i++) {
			const struct pi_holder *h = &l.h[i];

			FZ_ASSERT(h->start < h->end);
			FZ_ASSERT(h->fd == 3 + round);
			FZ_ASSERT(memchr(h->desc, '\0', sizeof(h->desc)));
			FZ_ASSERT(pi_holder_find(&l, h->start) != NULL);
		}
	}
	/* the lookup index answers like the linear search, page by page */
	if (l.n && pi_holder_list_index(&l) == 0) {
		for (size_t i = 0; i < l.n && i < 64; i++) {
			uint64_t at[] = { l.h[i].start, l.h[i].end, l.h[i].start - 4096, l.h[i].end + 4096,
					  l.h[i].end - 1, l.h[i].start + 4096 };

			for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
				uint64_t a = at[k] & ~(uint64_t)4095, until = UINT64_MAX;
				const struct pi_holder *want = NULL;

				for (size_t j = 0; j < l.n && !want; j++)
					if ((l.h[j].start <= a || l.h[j].start - a < 4096) && a < l.h[j].end)
						want = &l.h[j];
				FZ_ASSERT(pi_holder_find(&l, a) == want);
				for (size_t j = 0; j < l.n; j++) {
					uint64_t b0 = l.h[j].start & ~(uint64_t)4095;
					uint64_t b1 = l.h[j].end > UINT64_MAX - 4095 ? UINT64_MAX :
						      (l.h[j].end + 4095) & ~(uint64_t)4095;

					if (b0 > a && b0 < until)
						until = b0;
					if (b1 > a && b1 < until)
						until = b1;
				}
				FZ_ASSERT(pi_holder_next_bound(&l, a) == until);
			}
		}
	}
	pi_holder_list_free(&l);
	free(buf);
	return 0;
}
