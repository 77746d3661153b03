// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include "pininspect/pinsrc.h"

static const char *const source_names[] = {
	[PI_SRC_NONE] = "none",
	[PI_SRC_IOURING] = "io_uring",
	[PI_SRC_BPF] = "bpf",
	[PI_SRC_KPAGEPIN] = "kpagepin",
};

const char *pi_source_name(enum pi_source s)
{
	if ((unsigned int)s >= sizeof(source_names) / sizeof(source_names[0]))
		return "none";
	return source_names[s];
}

int pi_source_from_name(const char *name, enum pi_source *ret)
{
	for (unsigned int i = 0; i < sizeof(source_names) / sizeof(source_names[0]); i++) {
		if (strcmp(name, source_names[i]) == 0) {
			*ret = (enum pi_source)i;
			return 0;
		}
	}
	return -EINVAL;
}

void pi_pinsrc_close(struct pi_pinsrc *s)
{
	if (s && s->close)
		s->close(s);
}
