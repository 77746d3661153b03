/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_STATUS_H
#define PININSPECT_STATUS_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

struct pi_status {
	char name[64];		/* raw comm as the kernel escapes it in status */
	uid_t uid_real, uid_effective;
	bool has_vmpin, has_vmlck;
	uint64_t vmpin_kib, vmlck_kib;
	pid_t tgid;
};

int pi_status_parse(const char *buf, size_t len, struct pi_status *ret);
int pi_status_read(pid_t pid, struct pi_status *ret);
/* field 22 of /proc/PID/stat, to tell a reused pid: 0 or -errno */
int pi_stat_starttime(pid_t pid, uint64_t *ret);
int pi_stat_parse_starttime(const char *buf, size_t len, uint64_t *ret);

#endif
