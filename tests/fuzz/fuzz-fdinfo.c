// SPDX-License-Identifier: GPL-2.0-or-later
/* pi_iouring_fdinfo_parse: io_uring fdinfo text, twice into the same list. */
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
	pi_holder_list_free(&l);
	free(buf);
	return 0;
}
