// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_uring registered buffers, the holder pin source: the kernel lists
 * them in the ring's fdinfo (io_uring/fdinfo.c) as
 *   UserBufs:\t<n>
 *   <idx>: 0x<addr>/<len>
 * Since 6.15 a busy ring (trylock failed) prints no io_uring section at
 * all, and 6.1 prints the count without the entries: both are retried.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pininspect/holders.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define PI_FDINFO_TRIES	20

static int add_holder(struct pi_holder_list *l, int fd, unsigned int idx,
		      uint64_t addr, uint64_t len)
{
	struct pi_holder *h;
	int r;

	if (!len || addr + len < addr)
		return -EINVAL;
	r = pi_grow((void **)&l->h, &l->cap, l->n + 1, sizeof(*l->h));
	if (r < 0)
		return r;
	h = &l->h[l->n++];
	h->start = addr;
	h->end = addr + len;
	h->fd = fd;
	h->index = idx;
	h->kind = PI_HOLDER_IO_URING;
	snprintf(h->desc, sizeof(h->desc), "io_uring fd %d buf %u", fd, idx);
	return 0;
}

/* "%5u: 0x%llx/%u" */
static int parse_buf_line(const char *p, const char *le, unsigned int *idx,
			  uint64_t *addr, uint64_t *len)
{
	char tmp[64];
	size_t n = (size_t)(le - p);
	char *s, *colon, *slash;
	uint64_t v;

	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	s = tmp;
	while (*s == ' ')
		s++;
	colon = strchr(s, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (pi_parse_u64(s, 10, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*idx = (unsigned int)v;
	s = colon + 1;
	while (*s == ' ')
		s++;
	if (strncmp(s, "0x", 2))
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (pi_parse_u64(s + 2, 16, addr) < 0)
		return -EINVAL;
	if (pi_parse_u64(slash + 1, 10, len) < 0)
		return -EINVAL;
	return 0;
}

int pi_iouring_fdinfo_parse(const char *buf, size_t len, int fd, struct pi_holder_list *l)
{
	const char *p = buf, *end = buf + len;
	uint64_t announced = 0;
	size_t found = 0, before = l->n;
	bool in_bufs = false, seen = false;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (le - p >= 9 && !memcmp(p, "UserBufs:", 9)) {
			char tmp[24];
			const char *v = p + 9;
			size_t n;

			while (v < le && (*v == '\t' || *v == ' '))
				v++;
			n = (size_t)(le - v);
			if (!n || n >= sizeof(tmp))
				goto garbage;
			memcpy(tmp, v, n);
			tmp[n] = '\0';
			if (pi_parse_u64(tmp, 10, &announced) < 0 || announced > (1u << 20))
				goto garbage;
			in_bufs = seen = true;
		} else if (in_bufs) {
			unsigned int idx;
			uint64_t addr, blen;

			if (parse_buf_line(p, le, &idx, &addr, &blen) < 0) {
				in_bufs = false;	/* next section */
			} else {
				r = add_holder(l, fd, idx, addr, blen);
				if (r < 0)
					goto fail;
				found++;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!seen)
		return -ENOENT;
	if (found != announced) {
		l->n = before;
		return -EAGAIN;		/* listed without the entries: ring was busy */
	}
	return (int)found;
garbage:
	r = -EINVAL;
fail:
	l->n = before;
	return r;
}

static bool fd_is_io_uring(int fddir, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(fddir, name, target, sizeof(target) - 1);

	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[io_uring]") == 0;
}

static int read_ring(pid_t pid, int fd, struct pi_holder_list *l)
{
	int r = -ENOENT;

	for (int tries = 0; tries < PI_FDINFO_TRIES; tries++) {
		_cleanup_free_ char *buf = NULL;
		size_t len;

		r = pi_root_readf(&buf, &len, "proc/%d/fdinfo/%d", (int)pid, fd);
		if (r < 0)
			return r;
		r = pi_iouring_fdinfo_parse(buf, len, fd, l);
		if (r != -ENOENT && r != -EAGAIN)
			return r;
		if (!pi_root_is_host())
			break;	/* a fixture does not change between reads */
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return r;
}

int pi_holders_read(pid_t pid, struct pi_holder_list *ret)
{
	struct pi_holder_list l = { 0 };
	struct dirent *de;
	DIR *d;
	int fddir, r = 0;

	fddir = pi_root_openf(O_RDONLY | O_DIRECTORY, "proc/%d/fd", (int)pid);
	if (fddir < 0) {
		*ret = l;
		return fddir;
	}
	d = fdopendir(fddir);
	if (!d) {
		r = -errno;
		close(fddir);
		*ret = l;
		return r;
	}
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.' || pi_parse_pid(de->d_name, &fd) < 0)
			continue;
		if (!fd_is_io_uring(dirfd(d), de->d_name))
			continue;
		l.rings++;
		r = read_ring(pid, fd, &l);
		if (r == -ENOENT || r == -EAGAIN) {
			l.rings_unreadable++;
		} else if (r < 0 && r != -EINVAL) {
			/* fd closed meanwhile is fine; anything else is not */
			if (r != -ENOENT)
				l.rings_unreadable++;
		} else if (r == -EINVAL) {
			l.rings_unreadable++;
		}
		r = 0;
	}
	closedir(d);
	*ret = l;
	return 0;
}

void pi_holder_list_free(struct pi_holder_list *l)
{
	free(l->h);
	memset(l, 0, sizeof(*l));
}

const struct pi_holder *pi_holder_find(const struct pi_holder_list *l, uint64_t addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->h[i].start < addr + 4096 && addr < l->h[i].end)
			return &l->h[i];
	return NULL;
}
