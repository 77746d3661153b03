/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pinload - test workload for pininspect.
 *
 * Maps anonymous memory, touches every page, pins chosen parts as io_uring
 * registered buffers (FOLL_LONGTERM pins, accounted in VmPin), prints one
 * JSON line describing what it pinned and waits.  On SIGUSR1 it runs the
 * actions given with --on-usr1, so tests can provoke real kernel behaviour
 * on pinned memory (desync by MADV_DONTNEED, mremap, fork, munmap, ...).
 *
 * Output (stdout, one line each, flushed):
 *   {"pid": N, "buffers": [{"addr": "0x..", "len": N}, ...], "vmpin_kib": N,
 *    "ring_fd": N, "areas": [{"kind": "anon", "addr": "0x..", "len": N,
 *    "thp_kib": N}, ...]}
 *   {"event": "usr1", "action": "dontneed:0", "ok": true, ..., "vmpin_kib": N}
 *
 * Exit status: 0 on SIGTERM/SIGINT/SIGHUP or stdin EOF, 1 on errors,
 * 77 when io_uring cannot be used here (automake's "skip").
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE	/* reallocarray, mremap flags */
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <liburing.h>

#ifndef MADV_PAGEOUT
# define MADV_PAGEOUT 21
#endif

#define THP_SIZE	(2UL << 20)
#define EXIT_SKIP	77
/* io_uring refuses registered buffers larger than this */
#define URING_MAX_BUF	(1UL << 30)

enum area_kind { AREA_ANON, AREA_THP, AREA_FILE_COW, AREA_MEMFD, AREA_HUGETLB };

static const char *const area_kind_names[] = {
	[AREA_ANON] = "anon",
	[AREA_THP] = "thp",
	[AREA_FILE_COW] = "file-cow",
	[AREA_MEMFD] = "memfd",
	[AREA_HUGETLB] = "hugetlb",
};

struct area {
	enum area_kind	kind;
	char		*addr;
	size_t		len;
};

/* A buffer as given on the command line, resolved to an address later. */
struct bufspec {
	enum area_kind	kind;
	size_t		offset;		/* AREA_ANON only */
	size_t		len;		/* AREA_ANON, AREA_THP */
};

struct buffer {
	char		*addr;
	size_t		len;
	size_t		align;		/* alignment to keep when moving it */
	bool		mapped;
};

/* Address ranges we own and that are mapped, for touch and pageout. */
struct range {
	uintptr_t	start;
	uintptr_t	end;
};

enum action_type {
	ACT_DONTNEED,
	ACT_MREMAP,
	ACT_FORK,
	ACT_FORK_CLOSE,
	ACT_HANDOFF,
	ACT_MUNMAP,
	ACT_PAGEOUT,
	ACT_PAGEOUT_BUF,
	ACT_UNREGISTER,
	ACT_TOUCH,
};

struct action_info {
	const char	*name;
	bool		takes_buffer;
	enum action_type type;
};

/* "pageout" appears twice: without an argument it is the unpinned part. */
static const struct action_info action_infos[] = {
	{ "dontneed",	true,	ACT_DONTNEED },
	{ "mremap",	true,	ACT_MREMAP },
	{ "fork",	false,	ACT_FORK },
	{ "fork-close",	false,	ACT_FORK_CLOSE },
	{ "handoff",	false,	ACT_HANDOFF },
	{ "munmap",	true,	ACT_MUNMAP },
	{ "pageout",	false,	ACT_PAGEOUT },
	{ "pageout",	true,	ACT_PAGEOUT_BUF },
	{ "unregister",	false,	ACT_UNREGISTER },
	{ "touch",	false,	ACT_TOUCH },
};

struct action {
	enum action_type type;
	const char	*name;
	unsigned int	buf;
};

struct pinload {
	/* options */
	size_t		size;
	bool		thp;
	bool		no_buffers;
	bool		watch_stdin;
	const char	*comm;
	const char	*cow_path;
	size_t		cow_size;
	size_t		cow_write_off;
	size_t		cow_write_len;	/* 0: the whole mapping */

	struct bufspec	*specs;
	size_t		nspecs;
	struct action	*actions;
	size_t		nactions;

	/* state */
	size_t		page;
	struct area	*areas;
	size_t		nareas;
	struct buffer	*bufs;
	size_t		nbufs;
	struct range	*ranges;
	size_t		nranges;
	struct io_uring	ring;
	bool		ring_ok;
	bool		registered;
	pid_t		*children;
	size_t		nchildren;
	bool		handed_off;	/* "handoff" ran: exit after this SIGUSR1 */
	int		sigfd;
};

static void warnx_(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnx_(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pinload: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xreallocarray(void *p, size_t n, size_t sz)
{
	void *q = reallocarray(p, n, sz);

	if (!q) {
		warnx_("memory", "%s", strerror(ENOMEM));
		exit(EXIT_FAILURE);
	}
	return q;
}

static uintptr_t round_down(uintptr_t x, size_t a)
{
	return x & ~((uintptr_t)a - 1);
}

static uintptr_t round_up(uintptr_t x, size_t a)
{
	return round_down(x + a - 1, a);
}

/* "4096", "0x1000", "256K", "2M", "1GiB" -> bytes. */
static int parse_size(const char *s, size_t *ret)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	default: break;
	}
	if (mult != 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (v > SIZE_MAX / mult)
		return -ERANGE;
	*ret = v * mult;
	return 0;
}

static int parse_uint(const char *s, unsigned int *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pinload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'pinload --help' for more information.\n", stderr);
	exit(EXIT_FAILURE);
}

static void add_action(struct pinload *pl, const char *text)
{
	char *copy = strdup(text), *tok, *save = NULL;

	if (!copy)
		usage_error("%s", strerror(ENOMEM));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		const struct action_info *ai = NULL;
		struct action act = { 0 };
		size_t i;

		if (colon)
			*colon = '\0';
		for (i = 0; i < sizeof(action_infos) / sizeof(action_infos[0]); i++) {
			if (!strcmp(action_infos[i].name, tok) &&
			    action_infos[i].takes_buffer == !!colon) {
				ai = &action_infos[i];
				break;
			}
		}
		if (!ai) {
			for (i = 0; i < sizeof(action_infos) / sizeof(action_infos[0]); i++)
				if (!strcmp(action_infos[i].name, tok))
					usage_error("--on-usr1 %s %s", tok, colon ?
						    "takes no buffer index" : "needs a buffer index: ':N'");
			usage_error("unknown --on-usr1 action '%s'", tok);
		}
		if (colon && parse_uint(colon + 1, &act.buf))
			usage_error("--on-usr1 %s: bad buffer index '%s'", tok, colon + 1);
		act.type = ai->type;
		act.name = ai->name;
		pl->actions = xreallocarray(pl->actions, pl->nactions + 1, sizeof(act));
		pl->actions[pl->nactions++] = act;
	}
	free(copy);
}

static void add_spec(struct pinload *pl, enum area_kind kind, size_t off, size_t len)
{
	pl->specs = xreallocarray(pl->specs, pl->nspecs + 1, sizeof(*pl->specs));
	pl->specs[pl->nspecs++] = (struct bufspec){ .kind = kind, .offset = off, .len = len };
}

static int parse_off_len(const char *arg, size_t *off, size_t *len)
{
	const char *colon = strchr(arg, ':');
	char head[64];

	if (!colon || (size_t)(colon - arg) >= sizeof(head))
		return -EINVAL;
	memcpy(head, arg, colon - arg);
	head[colon - arg] = '\0';
	if (parse_size(head, off) || parse_size(colon + 1, len) || !*len)
		return -EINVAL;
	return 0;
}

static void __attribute__((noreturn)) usage(void)
{
	fputs(
"Usage: pinload [options]\n"
"\n"
"Pin anonymous memory with io_uring registered buffers and wait.\n"
"\n"
"Options:\n"
"  -s, --size=BYTES            anonymous area size (K/M/G suffixes; default 1M)\n"
"      --thp                   2 MiB-aligned area with MADV_HUGEPAGE\n"
"      --no-thp                MADV_NOHUGEPAGE on the area (default)\n"
"  -b, --buffer=OFFSET:LEN     register [OFFSET, OFFSET+LEN) of the area as a\n"
"                              buffer (repeatable; default 0:256K)\n"
"      --memfd-buffer=LEN      register a shared memfd mapping of LEN (shmem)\n"
"      --hugetlb-buffer=LEN    register a shared MFD_HUGETLB memfd mapping (needs\n"
"                              reserved huge pages; exit 77 without)\n"
"      --thp-buffer=LEN        register a separate 2 MiB-aligned MADV_HUGEPAGE\n"
"                              area of LEN bytes (repeatable)\n"
"      --no-buffers            register nothing (no pins)\n"
"      --file-cow=PATH         map PATH (created, --file-cow-size long) privately\n"
"                              and write to it: its pages become anon COW pages\n"
"      --file-cow-size=BYTES   size of the file (default 1M)\n"
"      --file-cow-write=OFFSET:LEN  write only this part (default: all of it)\n"
"      --file-cow-register     register the whole file mapping as a buffer\n"
"      --comm=NAME             set the task name (PR_SET_NAME)\n"
"      --on-usr1=ACTION[,...]  run these on each SIGUSR1, in order:\n"
"                                dontneed:N  MADV_DONTNEED buffer N, then write it\n"
"                                mremap:N    move buffer N to a new address\n"
"                                fork        fork a child that lives until we exit\n"
"                                fork-close  same, the child closes the ring\n"
"                                handoff     fork a child that keeps the ring but\n"
"                                            unmaps the area, then exit: the pins\n"
"                                            outlive every mapping (the child\n"
"                                            exits on SIGTERM, or after 300 s)\n"
"                                munmap:N    unmap buffer N\n"
"                                pageout     MADV_PAGEOUT of the unpinned part\n"
"                                pageout:N   MADV_PAGEOUT of buffer N\n"
"                                unregister  IORING_UNREGISTER_BUFFERS\n"
"                                touch       write every mapped page\n"
"      --no-stdin              ignore stdin (default: exit when it reaches EOF)\n"
"  -h, --help                  show this help\n"
"\n"
"Buffers are numbered in the order given. Exit status: 0 on SIGTERM, SIGINT,\n"
"SIGHUP or stdin EOF; 1 on errors; 77 if io_uring cannot be used here.\n",
	      stdout);
	exit(EXIT_SUCCESS);
}

enum {
	OPT_THP = 256,
	OPT_NO_THP,
	OPT_THP_BUFFER,
	OPT_MEMFD_BUFFER,
	OPT_HUGETLB_BUFFER,
	OPT_NO_BUFFERS,
	OPT_FILE_COW,
	OPT_FILE_COW_SIZE,
	OPT_FILE_COW_WRITE,
	OPT_FILE_COW_REGISTER,
	OPT_COMM,
	OPT_ON_USR1,
	OPT_NO_STDIN,
};

static void parse_args(struct pinload *pl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size",		required_argument, NULL, 's' },
		{ "thp",		no_argument,	   NULL, OPT_THP },
		{ "no-thp",		no_argument,	   NULL, OPT_NO_THP },
		{ "buffer",		required_argument, NULL, 'b' },
		{ "thp-buffer",		required_argument, NULL, OPT_THP_BUFFER },
		{ "no-buffers",		no_argument,	   NULL, OPT_NO_BUFFERS },
		{ "memfd-buffer",	required_argument, NULL, OPT_MEMFD_BUFFER },
		{ "hugetlb-buffer",	required_argument, NULL, OPT_HUGETLB_BUFFER },
		{ "file-cow",		required_argument, NULL, OPT_FILE_COW },
		{ "file-cow-size",	required_argument, NULL, OPT_FILE_COW_SIZE },
		{ "file-cow-write",	required_argument, NULL, OPT_FILE_COW_WRITE },
		{ "file-cow-register",	no_argument,	   NULL, OPT_FILE_COW_REGISTER },
		{ "comm",		required_argument, NULL, OPT_COMM },
		{ "on-usr1",		required_argument, NULL, OPT_ON_USR1 },
		{ "no-stdin",		no_argument,	   NULL, OPT_NO_STDIN },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool cow_register = false;
	size_t off, len, i;
	int c;

	while ((c = getopt_long(argc, argv, "s:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &pl->size) || !pl->size)
				usage_error("--size: bad size '%s'", optarg);
			break;
		case OPT_THP:
			pl->thp = true;
			break;
		case OPT_NO_THP:
			pl->thp = false;
			break;
		case 'b':
			if (parse_off_len(optarg, &off, &len))
				usage_error("--buffer: expected OFFSET:LEN, got '%s'", optarg);
			add_spec(pl, AREA_ANON, off, len);
			break;
		case OPT_THP_BUFFER:
			if (parse_size(optarg, &len) || !len)
				usage_error("--thp-buffer: bad size '%s'", optarg);
			add_spec(pl, AREA_THP, 0, len);
			break;
		case OPT_MEMFD_BUFFER:
			if (parse_size(optarg, &len) || !len)
				usage_error("--memfd-buffer: bad size '%s'", optarg);
			add_spec(pl, AREA_MEMFD, 0, len);
			break;
		case OPT_HUGETLB_BUFFER:
			if (parse_size(optarg, &len) || !len)
				usage_error("--hugetlb-buffer: bad size '%s'", optarg);
			add_spec(pl, AREA_HUGETLB, 0, len);
			break;
		case OPT_NO_BUFFERS:
			pl->no_buffers = true;
			break;
		case OPT_FILE_COW:
			pl->cow_path = optarg;
			break;
		case OPT_FILE_COW_SIZE:
			if (parse_size(optarg, &pl->cow_size) || !pl->cow_size)
				usage_error("--file-cow-size: bad size '%s'", optarg);
			break;
		case OPT_FILE_COW_WRITE:
			if (parse_off_len(optarg, &pl->cow_write_off, &pl->cow_write_len))
				usage_error("--file-cow-write: expected OFFSET:LEN, got '%s'", optarg);
			break;
		case OPT_FILE_COW_REGISTER:
			if (!cow_register)
				add_spec(pl, AREA_FILE_COW, 0, 0);
			cow_register = true;
			break;
		case OPT_COMM:
			pl->comm = optarg;
			break;
		case OPT_ON_USR1:
			add_action(pl, optarg);
			break;
		case OPT_NO_STDIN:
			pl->watch_stdin = false;
			break;
		case 'h':
			usage();
		default:
			fputs("Try 'pinload --help' for more information.\n", stderr);
			exit(EXIT_FAILURE);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	if (pl->no_buffers && pl->nspecs)
		usage_error("--no-buffers conflicts with --buffer, --thp-buffer and --file-cow-register");
	if (!pl->no_buffers && !pl->nspecs)
		add_spec(pl, AREA_ANON, 0, 256 << 10);
	if (cow_register && !pl->cow_path)
		usage_error("--file-cow-register needs --file-cow");
	if (pl->cow_write_len && pl->cow_write_off + pl->cow_write_len > pl->cow_size)
		usage_error("--file-cow-write is outside the %zu bytes of --file-cow-size",
			    pl->cow_size);
	for (i = 0; i < pl->nspecs; i++) {
		const struct bufspec *s = &pl->specs[i];

		if (s->kind == AREA_ANON &&
		    (s->offset > pl->size || s->len > pl->size - s->offset))
			usage_error("--buffer %zu:%zu is outside the %zu-byte area",
				    s->offset, s->len, pl->size);
	}
	for (i = 0; i < pl->nactions; i++) {
		if (pl->actions[i].type != ACT_DONTNEED &&
		    pl->actions[i].type != ACT_MREMAP &&
		    pl->actions[i].type != ACT_MUNMAP &&
		    pl->actions[i].type != ACT_PAGEOUT_BUF)
			continue;
		if (pl->actions[i].buf >= pl->nspecs)
			usage_error("--on-usr1 %s:%u: there are only %zu buffers",
				    pl->actions[i].name, pl->actions[i].buf, pl->nspecs);
	}
}

static void range_add(struct pinload *pl, uintptr_t start, uintptr_t end)
{
	pl->ranges = xreallocarray(pl->ranges, pl->nranges + 1, sizeof(*pl->ranges));
	pl->ranges[pl->nranges++] = (struct range){ start, end };
}

/* Forget [start, end) from the owned ranges, splitting where needed. */
static void range_remove(struct pinload *pl, uintptr_t start, uintptr_t end)
{
	size_t i, n = pl->nranges;

	for (i = 0; i < n; i++) {
		struct range *r = &pl->ranges[i];

		if (r->end <= start || r->start >= end)
			continue;
		if (r->start < start && r->end > end) {
			uintptr_t tail = r->end;

			r->end = start;
			range_add(pl, end, tail);
			r = &pl->ranges[i];	/* realloc may have moved it */
		} else if (r->start < start) {
			r->end = start;
		} else if (r->end > end) {
			r->start = end;
		} else {
			r->start = r->end = 0;	/* empty, skipped by users */
		}
	}
}

/*
 * Map LEN bytes aligned to ALIGN inside a larger PROT_NONE reservation.
 * The PROT_NONE rest stays around as guards so that the kernel never merges
 * two of our areas (or a moved buffer) into one VMA: each shows up as its
 * own line in /proc/PID/maps.
 */
static void *map_guarded_shared(size_t len, size_t align, size_t page, int fd, bool shared)
{
	size_t span = len + 2 * align + 2 * page;
	char *res, *p;
	uintptr_t at;

	res = mmap(NULL, span, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	at = round_up((uintptr_t)res + page, align);
	p = mmap((void *)at, len, PROT_READ | PROT_WRITE,
		 MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE) |
		 (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(res, span);
		errno = err;
		return NULL;
	}
	return p;
}

static void *map_guarded(size_t len, size_t align, size_t page, int fd)
{
	return map_guarded_shared(len, align, page, fd, false);
}

static void touch_range(uintptr_t start, uintptr_t end, size_t page)
{
	uintptr_t a;

	/* non-zero so that no page can be the shared zero page or KSM-merged */
	for (a = start; a < end; a += page)
		*(volatile char *)a = (char)(((a / page) & 0x7f) | 1);
}

static void read_range(uintptr_t start, uintptr_t end, size_t page)
{
	uintptr_t a;

	for (a = start; a < end; a += page)
		(void)*(volatile char *)a;
}

static struct area *add_area(struct pinload *pl, enum area_kind kind, size_t len,
			     size_t align, int fd, int advice)
{
	struct area *ar;
	char *p;

	p = map_guarded(len, align, pl->page, fd);
	if (!p) {
		warnx_("mmap", "%zu bytes: %s", len, strerror(errno));
		return NULL;
	}
	/*
	 * Advise before the first touch: that is when THPs get allocated.
	 * The kernel may lack THP (EINVAL): go on with small pages, thp_kib
	 * in the output tells.
	 */
	if (advice >= 0 && madvise(p, len, advice) && errno != EINVAL) {
		warnx_("madvise", "%s", strerror(errno));
		return NULL;
	}
	pl->areas = xreallocarray(pl->areas, pl->nareas + 1, sizeof(*pl->areas));
	ar = &pl->areas[pl->nareas++];
	*ar = (struct area){ .kind = kind, .addr = p, .len = len };
	range_add(pl, (uintptr_t)p, (uintptr_t)p + len);
	return ar;
}

static int setup_memory(struct pinload *pl)
{
	struct area *main_area, *ar;
	char *main_addr;
	size_t i;

	main_area = add_area(pl, AREA_ANON, round_up(pl->size, pl->page),
			     pl->thp ? THP_SIZE : pl->page, -1,
			     pl->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (!main_area)
		return -1;
	touch_range((uintptr_t)main_area->addr,
		    (uintptr_t)main_area->addr + main_area->len, pl->page);
	/* pl->areas may move when it grows below */
	main_addr = main_area->addr;

	pl->bufs = xreallocarray(NULL, pl->nspecs ? pl->nspecs : 1, sizeof(*pl->bufs));
	for (i = 0; i < pl->nspecs; i++) {
		const struct bufspec *s = &pl->specs[i];
		struct buffer *b = &pl->bufs[i];

		switch (s->kind) {
		case AREA_ANON:
			*b = (struct buffer){ main_addr + s->offset, s->len,
					      pl->thp ? THP_SIZE : pl->page, true };
			break;
		case AREA_THP:
			ar = add_area(pl, AREA_THP, round_up(s->len, THP_SIZE),
				      THP_SIZE, -1, MADV_HUGEPAGE);
			if (!ar)
				return -1;
			touch_range((uintptr_t)ar->addr, (uintptr_t)ar->addr + ar->len,
				    pl->page);
			*b = (struct buffer){ ar->addr, s->len, THP_SIZE, true };
			break;
		case AREA_MEMFD:
		case AREA_HUGETLB: {
			bool huge = s->kind == AREA_HUGETLB;
			size_t alen = round_up(s->len, huge ? THP_SIZE : pl->page);
			int fd = memfd_create(huge ? "pinload-hugetlb" : "pinload-memfd",
					      MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
			char *p;

			if (fd < 0 || ftruncate(fd, (off_t)alen)) {
				warnx_("memfd", "%s", strerror(errno));
				if (fd >= 0)
					close(fd);
				return -1;
			}
			/* shared: the pages are shmem/hugetlb folios, not anon */
			p = map_guarded_shared(alen, huge ? THP_SIZE : pl->page, pl->page, fd, true);
			close(fd);
			if (!p) {
				/* hugetlb reserves at mmap: none reserved gives ENOMEM */
				warnx_("mmap memfd", "%s%s", strerror(errno), huge ?
				       " (reserve huge pages: /proc/sys/vm/nr_hugepages)" : "");
				exit(huge && errno == ENOMEM ? 77 : 1);
			}
			pl->areas = xreallocarray(pl->areas, pl->nareas + 1, sizeof(*pl->areas));
			pl->areas[pl->nareas++] = (struct area){ .kind = s->kind, .addr = p, .len = alen };
			range_add(pl, (uintptr_t)p, (uintptr_t)p + alen);
			touch_range((uintptr_t)p, (uintptr_t)p + alen, pl->page);
			*b = (struct buffer){ p, s->len, huge ? THP_SIZE : pl->page, true };
			break;
		}
		case AREA_FILE_COW:
			/* filled in below, once the file is mapped */
			*b = (struct buffer){ NULL, 0, pl->page, true };
			break;
		}
	}
	pl->nbufs = pl->nspecs;

	if (pl->cow_path) {
		size_t wlen = pl->cow_write_len ? pl->cow_write_len : pl->cow_size;
		uintptr_t start;
		int fd;

		fd = open(pl->cow_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			warnx_(pl->cow_path, "%s", strerror(errno));
			return -1;
		}
		if (ftruncate(fd, pl->cow_size)) {
			warnx_(pl->cow_path, "ftruncate: %s", strerror(errno));
			close(fd);
			return -1;
		}
		ar = add_area(pl, AREA_FILE_COW, round_up(pl->cow_size, pl->page),
			      pl->page, fd, -1);
		close(fd);
		if (!ar)
			return -1;
		start = (uintptr_t)ar->addr;
		/* map the file pages first, then COW-break the chosen part */
		read_range(start, start + ar->len, pl->page);
		touch_range(round_down(start + pl->cow_write_off, pl->page),
			    start + pl->cow_write_off + wlen, pl->page);
		for (i = 0; i < pl->nbufs; i++) {
			if (pl->specs[i].kind == AREA_FILE_COW) {
				pl->bufs[i].addr = ar->addr;
				pl->bufs[i].len = pl->cow_size;
			}
		}
	}
	return 0;
}

/* VmPin from /proc/self/status in KiB, or -1 when the kernel has none. */
static long read_vmpin(void)
{
	char line[256];
	long kib = -1;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmPin:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

/* AnonHugePages of the VMA that starts at ADDR, in KiB. */
static long read_thp_kib(const void *addr)
{
	uintptr_t want = (uintptr_t)addr;
	bool in_vma = false;
	char line[512];
	long kib = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in_vma = start == want;
			continue;
		}
		if (in_vma && !strncmp(line, "AnonHugePages:", 14)) {
			kib = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

static int sysctl_io_uring_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Returns 0, or the exit status to use (after saying why). */
static int setup_ring(struct pinload *pl)
{
	struct iovec *iov;
	size_t i, total = 0;
	int rc;

	rc = io_uring_queue_init(4, &pl->ring, 0);
	if (rc < 0) {
		int dis = sysctl_io_uring_disabled();

		if (rc == -ENOSYS) {
			warnx_("io_uring unavailable", "kernel has no io_uring (ENOSYS)");
			return EXIT_SKIP;
		}
		if (rc == -EPERM) {
			if (dis > 0)
				warnx_("io_uring unavailable",
				       "disabled by sysctl kernel.io_uring_disabled=%d (EPERM)", dis);
			else
				warnx_("io_uring unavailable",
				       "io_uring_setup not permitted (EPERM; seccomp or LSM?)");
			return EXIT_SKIP;
		}
		if (rc == -ENOMEM) {
			warnx_("io_uring unavailable",
			       "cannot create a ring: ENOMEM (RLIMIT_MEMLOCK too low? try ulimit -l or root)");
			return EXIT_SKIP;
		}
		warnx_("io_uring_queue_init", "%s", strerror(-rc));
		return EXIT_FAILURE;
	}
	pl->ring_ok = true;
	if (!pl->nbufs)
		return 0;

	iov = xreallocarray(NULL, pl->nbufs, sizeof(*iov));
	for (i = 0; i < pl->nbufs; i++) {
		iov[i].iov_base = pl->bufs[i].addr;
		iov[i].iov_len = pl->bufs[i].len;
		total += pl->bufs[i].len;
	}
	rc = io_uring_register_buffers(&pl->ring, iov, pl->nbufs);
	free(iov);
	if (rc == -ENOMEM) {
		struct rlimit rl;

		getrlimit(RLIMIT_MEMLOCK, &rl);
		warnx_("io_uring unavailable",
		       "registering %zu bytes of buffers: ENOMEM (RLIMIT_MEMLOCK is %llu bytes; "
		       "raise ulimit -l or run as root)", total,
		       (unsigned long long)rl.rlim_cur);
		return EXIT_SKIP;
	}
	if (rc == -EPERM) {
		warnx_("io_uring unavailable", "registering buffers: EPERM");
		return EXIT_SKIP;
	}
	if (rc < 0) {
		const char *hint = "";

		for (i = 0; i < pl->nbufs; i++)
			if (pl->bufs[i].len > URING_MAX_BUF)
				hint = " (a buffer is larger than 1 GiB)";
		if (rc == -EOPNOTSUPP && pl->cow_path)
			hint = " (this kernel refuses file-backed registered buffers)";
		warnx_("io_uring_register_buffers", "%s%s", strerror(-rc), hint);
		return EXIT_FAILURE;
	}
	pl->registered = true;
	return 0;
}

static void print_vmpin(long kib)
{
	if (kib < 0)
		fputs("null", stdout);
	else
		printf("%ld", kib);
}

static int flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		warnx_("stdout", "%s", strerror(errno));
		return -1;
	}
	return 0;
}

static int print_ready(struct pinload *pl)
{
	size_t i;

	printf("{\"pid\": %d, \"buffers\": [", (int)getpid());
	for (i = 0; i < pl->nbufs; i++)
		printf("%s{\"addr\": \"0x%" PRIxPTR "\", \"len\": %zu}", i ? ", " : "",
		       (uintptr_t)pl->bufs[i].addr, pl->bufs[i].len);
	fputs("], \"vmpin_kib\": ", stdout);
	print_vmpin(read_vmpin());
	printf(", \"ring_fd\": %d, \"areas\": [", pl->ring.ring_fd);
	for (i = 0; i < pl->nareas; i++) {
		const struct area *ar = &pl->areas[i];

		printf("%s{\"kind\": \"%s\", \"addr\": \"0x%" PRIxPTR "\", \"len\": %zu, \"thp_kib\": %ld}",
		       i ? ", " : "", area_kind_names[ar->kind], (uintptr_t)ar->addr,
		       ar->len, read_thp_kib(ar->addr));
	}
	fputs("]}\n", stdout);
	return flush_stdout();
}

/* Page-aligned extent of buffer B. */
static void buf_pages(const struct pinload *pl, const struct buffer *b,
		      uintptr_t *start, uintptr_t *end)
{
	*start = round_down((uintptr_t)b->addr, pl->page);
	*end = round_up((uintptr_t)b->addr + b->len, pl->page);
}

/* Is the page at A part of a registered, still mapped buffer? */
static bool page_registered(const struct pinload *pl, uintptr_t a)
{
	size_t i;

	for (i = 0; pl->registered && i < pl->nbufs; i++) {
		uintptr_t bs, be;

		if (!pl->bufs[i].mapped)
			continue;
		buf_pages(pl, &pl->bufs[i], &bs, &be);
		if (a >= bs && a < be)
			return true;
	}
	return false;
}

static void __attribute__((noreturn)) child_main(struct pinload *pl, pid_t parent,
						 bool close_ring)
{
	sigset_t none;
	int fd;

	/* die with the parent, even when it is SIGKILLed */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(pl->sigfd);
	if (close_ring)
		close(pl->ring.ring_fd);
	/* do not keep the parent's pipes open: readers would never see EOF */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	for (;;)
		pause();
}

/*
 * Run one action.  Returns 0 or -errno; EXTRA gets the action-specific
 * JSON members (", \"key\": value...").
 */
static int run_action(struct pinload *pl, const struct action *act,
		      char *extra, size_t extrasz)
{
	struct buffer *b = NULL;
	uintptr_t start = 0, end = 0;
	size_t i, total;
	pid_t pid;
	int rc;

	extra[0] = '\0';
	if (act->type == ACT_DONTNEED || act->type == ACT_MREMAP ||
	    act->type == ACT_MUNMAP || act->type == ACT_PAGEOUT_BUF) {
		b = &pl->bufs[act->buf];
		if (!b->mapped) {
			snprintf(extra, extrasz, ", \"buffer\": %u", act->buf);
			return -ENOENT;
		}
		buf_pages(pl, b, &start, &end);
		snprintf(extra, extrasz, ", \"buffer\": %u, \"addr\": \"0x%" PRIxPTR "\", \"len\": %zu",
			 act->buf, (uintptr_t)b->addr, b->len);
	}

	switch (act->type) {
	case ACT_DONTNEED:
		/* the registered pages stay pinned; the write maps fresh ones */
		if (madvise((void *)start, end - start, MADV_DONTNEED))
			return -errno;
		touch_range(start, end, pl->page);
		return 0;

	case ACT_MREMAP: {
		size_t len = end - start;
		size_t align = b->align;
		char *res, *to, *old;
		uintptr_t at;

		/* keep the offset within a huge page so PMDs move whole */
		res = mmap(NULL, len + 2 * align + 2 * pl->page, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED)
			return -errno;
		at = round_up((uintptr_t)res + pl->page, align) + (start & (align - 1));
		to = mremap((void *)start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			    (void *)at);
		if (to == MAP_FAILED) {
			rc = -errno;
			munmap(res, len + 2 * align + 2 * pl->page);
			return rc;
		}
		range_remove(pl, start, end);
		range_add(pl, (uintptr_t)to, (uintptr_t)to + len);
		old = b->addr;
		b->addr = to + ((uintptr_t)b->addr - start);
		snprintf(extra, extrasz,
			 ", \"buffer\": %u, \"old_addr\": \"0x%" PRIxPTR "\", \"addr\": \"0x%" PRIxPTR
			 "\", \"len\": %zu",
			 act->buf, (uintptr_t)old, (uintptr_t)b->addr, b->len);
		return 0;
	}

	case ACT_FORK:
	case ACT_FORK_CLOSE: {
		pid_t parent = getpid();

		fflush(stdout);
		pl->children = xreallocarray(pl->children, pl->nchildren + 1,
					     sizeof(*pl->children));
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0)
			child_main(pl, parent, act->type == ACT_FORK_CLOSE);
		pl->children[pl->nchildren++] = pid;
		snprintf(extra, extrasz, ", \"child\": %d", (int)pid);
		return 0;
	}

	case ACT_HANDOFF:
		/*
		 * The ring outlives this process in a child that maps none of
		 * the area: once we exit, the registered pages are pinned and
		 * mapped by nobody, the child's ring the only holder.
		 */
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);
			sigset_t none;

			close(pl->sigfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGALRM, SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			alarm(300);	/* never outlive a test that forgot us */
			for (i = 0; i < pl->nranges; i++)
				munmap((void *)pl->ranges[i].start,
				       pl->ranges[i].end - pl->ranges[i].start);
			if (fd >= 0) {
				dup2(fd, STDIN_FILENO);
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
			}
			for (;;)
				pause();
		}
		pl->handed_off = true;
		snprintf(extra, extrasz, ", \"child\": %d", (int)pid);
		return 0;

	case ACT_MUNMAP:
		/* an orphaned pin: VmPin and the pins stay, the mapping goes */
		if (munmap((void *)start, end - start))
			return -errno;
		range_remove(pl, start, end);
		b->mapped = false;
		return 0;

	case ACT_PAGEOUT_BUF:
		if (madvise((void *)start, end - start, MADV_PAGEOUT))
			return -errno;
		return 0;

	case ACT_PAGEOUT:
		/* every owned page outside the registered buffers, in runs */
		total = 0;
		for (i = 0; i < pl->nranges; i++) {
			uintptr_t a, run = 0;

			for (a = pl->ranges[i].start; a <= pl->ranges[i].end; a += pl->page) {
				bool skip = a == pl->ranges[i].end || page_registered(pl, a);

				if (!skip && !run)
					run = a;
				if (skip && run) {
					if (madvise((void *)run, a - run, MADV_PAGEOUT))
						return -errno;
					total += a - run;
					run = 0;
				}
			}
		}
		snprintf(extra, extrasz, ", \"len\": %zu", total);
		return 0;

	case ACT_UNREGISTER:
		if (!pl->registered)
			return -ENOENT;
		rc = io_uring_unregister_buffers(&pl->ring);
		if (rc < 0)
			return rc;
		pl->registered = false;
		return 0;

	case ACT_TOUCH:
		total = 0;
		for (i = 0; i < pl->nranges; i++) {
			touch_range(pl->ranges[i].start, pl->ranges[i].end, pl->page);
			total += pl->ranges[i].end - pl->ranges[i].start;
		}
		snprintf(extra, extrasz, ", \"len\": %zu", total);
		return 0;
	}
	return -EINVAL;
}

static int on_usr1(struct pinload *pl)
{
	char extra[256];
	size_t i;

	for (i = 0; i < pl->nactions; i++) {
		const struct action *act = &pl->actions[i];
		char name[32];
		int rc;

		if (act->type == ACT_DONTNEED || act->type == ACT_MREMAP ||
		    act->type == ACT_MUNMAP || act->type == ACT_PAGEOUT_BUF)
			snprintf(name, sizeof(name), "%s:%u", act->name, act->buf);
		else
			snprintf(name, sizeof(name), "%s", act->name);

		rc = run_action(pl, act, extra, sizeof(extra));
		printf("{\"event\": \"usr1\", \"action\": \"%s\", \"ok\": %s", name,
		       rc ? "false" : "true");
		if (rc)
			printf(", \"error\": \"%s\"", strerror(-rc));
		printf("%s, \"vmpin_kib\": ", extra);
		print_vmpin(read_vmpin());
		fputs("}\n", stdout);
		if (rc)
			warnx_(name, "%s", strerror(-rc));
		if (flush_stdout())
			return -1;
	}
	return 0;
}

static void reap_children(struct pinload *pl, bool kill_them)
{
	size_t i;

	for (i = 0; i < pl->nchildren; i++) {
		pid_t pid = pl->children[i];

		if (pid <= 0)
			continue;
		if (kill_them) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pl->children[i] = 0;
		} else if (waitpid(pid, NULL, WNOHANG) == pid) {
			pl->children[i] = 0;
		}
	}
}

/* Returns the exit status. */
static int main_loop(struct pinload *pl)
{
	struct pollfd pfd[2];
	bool first = true;
	int nfds;

	pfd[0] = (struct pollfd){ .fd = pl->sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	nfds = pl->watch_stdin ? 2 : 1;

	for (;;) {
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			warnx_("poll", "%s", strerror(errno));
			return EXIT_FAILURE;
		}
		if (nfds == 2 && pfd[1].revents) {
			char buf[4096];
			ssize_t n = -1;

			if (!(pfd[1].revents & POLLNVAL))
				n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				if (first)
					fputs("pinload: stdin is at EOF, exiting "
					      "(use --no-stdin to keep running)\n", stderr);
				return EXIT_SUCCESS;
			}
		}
		first = false;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(pl->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			switch (si.ssi_signo) {
			case SIGUSR1:
				if (on_usr1(pl))
					return EXIT_FAILURE;
				if (pl->handed_off)
					return EXIT_SUCCESS;
				break;
			case SIGCHLD:
				reap_children(pl, false);
				break;
			default:
				return EXIT_SUCCESS;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct pinload pl = {
		.size = 1 << 20,
		.watch_stdin = true,
		.cow_size = 1 << 20,
		.sigfd = -1,
	};
	sigset_t set;
	int rc;

	parse_args(&pl, argc, argv);
	pl.page = sysconf(_SC_PAGESIZE);

	/*
	 * A closed stdin would hand fd 0 to the signalfd or the ring, and
	 * polling "stdin" would poll those: put /dev/null there (EOF).
	 */
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) != fd)
			return EXIT_FAILURE;
	}

	/* root may pin any amount; others stay within their memlock limit */
	if (geteuid() == 0) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		/*
		 * Without CAP_SYS_RESOURCE (containers) the hard limit stays;
		 * CAP_IPC_LOCK, which root usually keeps, exempts the pins anyway.
		 */
		if (setrlimit(RLIMIT_MEMLOCK, &rl) && !getrlimit(RLIMIT_MEMLOCK, &rl)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_MEMLOCK, &rl);
		}
	}
	if (pl.comm && prctl(PR_SET_NAME, pl.comm))
		warnx_("prctl PR_SET_NAME", "%s", strerror(errno));

	/* signals are handled in the main loop through a signalfd */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pl.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (pl.sigfd < 0) {
		warnx_("signalfd", "%s", strerror(errno));
		return EXIT_FAILURE;
	}
	/* a reader that goes away must not kill us before we reap children */
	signal(SIGPIPE, SIG_IGN);

	if (setup_memory(&pl))
		return EXIT_FAILURE;
	rc = setup_ring(&pl);
	if (rc)
		return rc;
	if (print_ready(&pl))
		rc = EXIT_FAILURE;
	else
		rc = main_loop(&pl);

	reap_children(&pl, true);
	if (pl.ring_ok)
		io_uring_queue_exit(&pl.ring);
	free(pl.children);
	free(pl.ranges);
	free(pl.bufs);
	free(pl.areas);
	free(pl.actions);
	free(pl.specs);
	return rc;
}
