// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkfixture's description parser (tests/helpers/mkfixture.c) on arbitrary
 * descriptions. mkfixture is a one-shot program: it exits on the first
 * error and leaves cleanup to the kernel. To fuzz it in-process without
 * changing it, this file includes it with
 *   - exit() turned into a longjmp back here,
 *   - its allocations going through a small tracking arena, so what an
 *     error path leaves behind is released (a one-shot program need not),
 *     while a description that parses must free everything (checked),
 *   - its stderr pointed at /dev/null (every bad input prints a message).
 * After a successful parse, the pure builders (status, stat, maps extent)
 * run on every process.
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "fuzz.h"

struct fz_hdr {
	struct fz_hdr *prev, *next;
	size_t size, pad;	/* keeps the payload 16-byte aligned */
};
static struct fz_hdr fz_head = { &fz_head, &fz_head, 0, 0 };
static size_t fz_live;

static void fz_link(struct fz_hdr *h)
{
	h->next = fz_head.next;
	h->prev = &fz_head;
	fz_head.next->prev = h;
	fz_head.next = h;
	fz_live++;
}

static void fz_unlink(struct fz_hdr *h)
{
	h->prev->next = h->next;
	h->next->prev = h->prev;
	fz_live--;
}

static void *fz_malloc(size_t n)
{
	struct fz_hdr *h;

	if (n > SIZE_MAX - sizeof(*h))
		return NULL;
	h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->size = n;
	fz_link(h);
	return h + 1;
}

static void fz_free(void *p)
{
	struct fz_hdr *h;

	if (!p)
		return;
	h = (struct fz_hdr *)p - 1;
	fz_unlink(h);
	free(h);
}

static void *fz_realloc(void *p, size_t n)
{
	struct fz_hdr *h, *nh;

	if (!p)
		return fz_malloc(n);
	if (n > SIZE_MAX - sizeof(*h))
		return NULL;
	h = (struct fz_hdr *)p - 1;
	fz_unlink(h);
	nh = realloc(h, sizeof(*h) + n);
	if (!nh) {
		fz_link(h);
		return NULL;
	}
	nh->size = n;
	fz_link(nh);
	return nh + 1;
}

static void *fz_reallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		return NULL;
	return fz_realloc(p, n * sz);
}

static char *fz_strdup_(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = fz_malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

static void fz_free_all(void)
{
	while (fz_head.next != &fz_head)
		fz_free(fz_head.next + 1);
}

static ssize_t fz_getline(char **line, size_t *cap, FILE *f)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (n + 2 > *cap || !*line) {
			size_t nc = *cap < 64 ? 64 : *cap * 2;
			char *nl = fz_realloc(*line, nc);

			if (!nl)
				return -1;
			*line = nl;
			*cap = nc;
		}
		(*line)[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (!n)
		return -1;
	(*line)[n] = '\0';
	return (ssize_t)n;
}

static jmp_buf fz_jmp;
static bool fz_armed;
static FILE *fz_devnull;

static void __attribute__((noreturn)) fz_exit(int status)
{
	if (fz_armed)
		longjmp(fz_jmp, status ? status : 256);
	exit(status);
}

#undef stderr
#define stderr fz_devnull
#define exit fz_exit
#define malloc fz_malloc
#define realloc fz_realloc
#define reallocarray fz_reallocarray
#define free fz_free
#undef strdup
#define strdup fz_strdup_
#define getline fz_getline
#define main mkfixture_main
#include "tests/helpers/mkfixture.c"
#undef main
#undef getline
#undef strdup
#undef free
#undef reallocarray
#undef realloc
#undef malloc
#undef exit
#undef stderr

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fixture fx;
	FILE *in;

	if (!size)
		return 0;
	if (!fz_devnull)
		fz_devnull = fopen("/dev/null", "w");
	FZ_ASSERT(fz_devnull);
	in = fmemopen((void *)data, size, "r");
	FZ_ASSERT(in);
	memset(&fx, 0, sizeof(fx));
	fx.desc = "fuzz";
	fx.in = in;
	fx.outfd = -1;
	fx.outdir = "/nonexistent";
	fz_armed = true;
	if (setjmp(fz_jmp) == 0) {
		parse(&fx);
		for (size_t i = 0; i < fx.nprocs; i++) {
			const struct proc *pr = &fx.procs[i];
			struct buf b = { 0 };
			uint64_t top;

			build_status(pr, &b);
			FZ_ASSERT(b.len && b.data[b.len - 1] == '\n');
			b.len = 0;
			build_stat(pr, &b);
			FZ_ASSERT(b.len && b.data[b.len - 1] == '\n');
			fz_free(b.data);
			top = maps_extent(&pr->maps);
			FZ_ASSERT(top <= USER_VA_END);
		}
		free_fixture(&fx);
		fz_armed = false;
		FZ_ASSERT(fz_live == 0);	/* a parsed description frees all it took */
	} else {
		/* a bad description: mkfixture would exit 1 here */
		fz_armed = false;
		fz_free_all();
	}
	fclose(in);
	return 0;
}
