// SPDX-License-Identifier: GPL-2.0-or-later
/* Audit mode (issue 5): being written. */
#include <errno.h>
#include "pininspect.h"

int pi_audit_run(const struct pi_cli *cli, struct pi_sources *src)
{
	(void)cli; (void)src;
	pi_warn("--audit is not available in this build yet");
	return PI_EXIT_TROUBLE;
}

int pi_audit_list_checks(FILE *out)
{
	(void)out;
	return -EOPNOTSUPP;
}
