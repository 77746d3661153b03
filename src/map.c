// SPDX-License-Identifier: GPL-2.0-or-later
/* System-wide pin map (issue 10): being written. */
#include <errno.h>
#include "pininspect.h"

int pi_map_run(const struct pi_cli *cli, struct pi_sources *src)
{
	(void)cli; (void)src;
	pi_warn("--map is not available in this build yet");
	return PI_EXIT_TROUBLE;
}
