// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One root for every /proc, /sys and debugfs path, so the whole tool runs
 * unchanged against fixture trees (like util-linux's ul_path prefix).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include "pininspect/root.h"
#include "pininspect/util.h"

static char root_path[PATH_MAX] = "/";
static int root_dirfd = -1;
static int root_host = 1;

int pi_root_set(const char *dir)
{
	int fd;

	if (!dir || !*dir)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (strlen(dir) >= sizeof(root_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	if (root_dirfd >= 0)
		close(root_dirfd);
	root_dirfd = fd;
	strcpy(root_path, dir);
	root_host = strcmp(dir, "/") == 0;
	return 0;
}

const char *pi_root_get(void)
{
	return root_path;
}

int pi_root_is_host(void)
{
	return root_host;
}

int pi_root_fd(void)
{
	if (root_dirfd < 0) {
		root_dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root_dirfd < 0)
			return -errno;
	}
	return root_dirfd;
}

int pi_root_open(const char *relpath, int flags)
{
	int dirfd = pi_root_fd();
	int fd;

	if (dirfd < 0)
		return dirfd;
	while (*relpath == '/')
		relpath++;
	if (!root_host) {
		/* A fixture tree must not lead us out of it through symlinks. */
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		fd = (int)syscall(SYS_openat2, dirfd, relpath, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd < 0 ? -errno : fd;
		/* pre-5.6 kernels: refuse symlinks in the last component at least */
		flags |= O_NOFOLLOW;
	}
	fd = openat(dirfd, relpath, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pi_root_opendir(const char *relpath, DIR **ret)
{
	int fd = pi_root_open(relpath, O_RDONLY | O_DIRECTORY);
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int pi_root_access(const char *relpath)
{
	int fd = pi_root_open(relpath, O_PATH);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

__attribute__((format(printf, 3, 0)))
static int vformat_path(char *path, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(path, size, fmt, ap);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int pi_root_openf(int flags, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vformat_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	return r < 0 ? r : pi_root_open(path, flags);
}

/* /proc files report size 0: read until EOF, bounded so a hostile tree cannot exhaust memory */
#define PI_READ_FILE_MAX (256u << 20)

static int read_fd_all(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= PI_READ_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int pi_root_read_file(const char *relpath, char **ret_buf, size_t *ret_len)
{
	int fd = pi_root_open(relpath, O_RDONLY);
	int r;

	if (fd < 0)
		return fd;
	r = read_fd_all(fd, ret_buf, ret_len);
	close(fd);
	return r;
}

int pi_root_readf(char **ret_buf, size_t *ret_len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vformat_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	return r < 0 ? r : pi_root_read_file(path, ret_buf, ret_len);
}
