// SPDX-License-Identifier: GPL-2.0-or-later
/* pi_kpagepin_parse_version: sys/kernel/debug/kpagepin/version. */
#include <errno.h>
#include "fuzz.h"
#include "pininspect/pinsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fz_dup(data, size);
	struct pi_kpagepin_info info;
	int r;

	memset(&info, 0xa5, sizeof(info));
	r = pi_kpagepin_parse_version(buf, size, &info);
	FZ_ASSERT(r == 0 || r == -EPROTO || r == -EINVAL);
	if (r == 0 || r == -EPROTO) {
		FZ_ASSERT(memchr(info.provider, '\0', sizeof(info.provider)));
		FZ_ASSERT(!strcmp(info.provider, "module") || !strcmp(info.provider, "patch"));
		FZ_ASSERT((r == 0) == (info.abi == KPAGEPIN_ABI_VERSION));
	}
	free(buf);
	return 0;
}
