/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_ROOT_H
#define PININSPECT_ROOT_H

#include <dirent.h>
#include <stdio.h>
#include <stddef.h>

/*
 * Every /proc, /sys and debugfs path is opened relative to one root
 * directory ("/" by default) so the tool runs on fixture trees. Paths
 * given to these functions are relative ("proc/1/maps"). Under a root
 * other than "/", symlinks cannot lead out of it (RESOLVE_IN_ROOT).
 */
int pi_root_set(const char *dir);
const char *pi_root_get(void);
int pi_root_is_host(void);
int pi_root_fd(void);

/* open(2) under the root: fd or -errno */
int pi_root_open(const char *relpath, int flags);
/* whole small file (maps, status, fdinfo) into a NUL-terminated buffer */
int pi_root_read_file(const char *relpath, char **ret_buf, size_t *ret_len);
/* like pi_root_read_file with a printf-style path */
int pi_root_readf(char **ret_buf, size_t *ret_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pi_root_openf(int flags, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* opendir(3) under the root: 0 and *ret, or -errno */
int pi_root_opendir(const char *relpath, DIR **ret);
/* 0 if the path exists under the root, else -errno */
int pi_root_access(const char *relpath);

#endif
