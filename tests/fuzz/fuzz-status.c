// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pi_status_parse and pi_stat_parse_starttime on the same bytes: both
 * files carry comm, which the target process chooses.
 */
#include <errno.h>
#include "fuzz.h"
#include "pininspect/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fz_dup(data, size);
	struct pi_status st;
	uint64_t start = 0;
	int r;

	memset(&st, 0xa5, sizeof(st));
	r = pi_status_parse(buf, size, &st);
	if (r == 0) {
		FZ_ASSERT(memchr(st.name, '\0', sizeof(st.name)) != NULL);
		FZ_ASSERT(!strchr(st.name, '\n'));
		FZ_ASSERT(st.tgid >= 0);
	} else {
		FZ_ASSERT(r == -EINVAL || r == -ERANGE);
	}
	r = pi_stat_parse_starttime(buf, size, &start);
	FZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
	free(buf);
	return 0;
}
