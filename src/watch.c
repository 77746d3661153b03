// SPDX-License-Identifier: GPL-2.0-or-later
/* Watch mode, --save and --diff (DESIGN section 6): being written (issue 4). */
#include <errno.h>
#include "pininspect.h"

int pi_watch_run(const struct pi_cli *cli, struct pi_sources *src)
{
	(void)cli; (void)src;
	pi_warn("--watch is not available in this build yet");
	return PI_EXIT_TROUBLE;
}

int pi_save_run(const struct pi_cli *cli, struct pi_sources *src)
{
	(void)cli; (void)src;
	pi_warn("--save is not available in this build yet");
	return PI_EXIT_TROUBLE;
}

int pi_diff_run(const struct pi_cli *cli, struct pi_sources *src)
{
	(void)cli; (void)src;
	pi_warn("--diff is not available in this build yet");
	return PI_EXIT_TROUBLE;
}
