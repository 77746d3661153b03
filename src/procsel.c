// SPDX-License-Identifier: GPL-2.0-or-later
/* Select processes by name: libproc2 on the host; under --root a fixture walk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <libproc2/pids.h>
#include "pininspect.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

static int add_pid(pid_t pid, pid_t **pids, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < *n; i++)
		if ((*pids)[i] == pid)
			return 0;
	if (pi_grow((void **)pids, cap, *n + 1, sizeof(**pids)) < 0)
		return -ENOMEM;
	(*pids)[(*n)++] = pid;
	return 0;
}

/*
 * libproc2 hard-codes /proc, so a fixture root is walked by hand: add every
 * pid under ROOT/proc whose name is NAME (or every pid when NAME is NULL).
 */
static int walk_root_proc(const char *name, pid_t **pids, size_t *n, size_t *cap)
{
	struct dirent *de;
	DIR *d;
	int r = pi_root_opendir("proc", &d);

	if (r < 0)
		return r;
	while ((de = readdir(d)) && r == 0) {
		struct pi_status st;
		int pid;

		if (pi_parse_pid(de->d_name, &pid) < 0)
			continue;
		if (!name || (pi_status_read(pid, &st) == 0 && strcmp(st.name, name) == 0))
			r = add_pid(pid, pids, n, cap);
	}
	closedir(d);
	return r;
}

int pi_procsel_by_command(const char *name, pid_t **pids, size_t *n, size_t *cap)
{
	enum pids_item items[] = { PIDS_ID_TGID, PIDS_CMD };
	struct pids_info *info = NULL;
	struct pids_stack *stack;
	int r;

	if (!pi_root_is_host())
		return walk_root_proc(name, pids, n, cap);
	r = procps_pids_new(&info, items, (int)ARRAY_SIZE(items));
	if (r < 0)
		return r;
	while ((stack = procps_pids_get(info, PIDS_FETCH_TASKS_ONLY))) {
		int tgid = PIDS_VAL(0, s_int, stack, info);
		const char *cmd = PIDS_VAL(1, str, stack, info);

		if (cmd && strcmp(cmd, name) == 0 && tgid != getpid()) {
			r = add_pid(tgid, pids, n, cap);
			if (r < 0)
				break;
		}
	}
	procps_pids_unref(&info);
	return r < 0 ? r : 0;
}

int pi_procsel_all(pid_t **pids, size_t *n, size_t *cap)
{
	enum pids_item items[] = { PIDS_ID_TGID };
	struct pids_info *info = NULL;
	struct pids_stack *stack;
	int r;

	if (!pi_root_is_host())
		return walk_root_proc(NULL, pids, n, cap);
	r = procps_pids_new(&info, items, (int)ARRAY_SIZE(items));
	if (r < 0)
		return r;
	while ((stack = procps_pids_get(info, PIDS_FETCH_TASKS_ONLY))) {
		int tgid = PIDS_VAL(0, s_int, stack, info);

		if (tgid != getpid() && (r = add_pid(tgid, pids, n, cap)) < 0)
			break;
	}
	procps_pids_unref(&info);
	return r < 0 ? r : 0;
}
