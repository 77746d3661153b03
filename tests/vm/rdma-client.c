/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdma-client - registers RDMA memory regions for the guest test.
 *
 * Opens the first verbs device (soft-RoCE rxe0 in the guest), allocates a
 * protection domain and registers:
 *   MR "4k":  --len4k bytes (default 256 KiB) of 4 KiB pages (MADV_NOHUGEPAGE)
 *   MR "thp": one 2 MiB transparent huge page (MADV_HUGEPAGE, 2 MiB aligned)
 *   MR "odp": 64 KiB with IBV_ACCESS_ON_DEMAND, which must not pin; rxe on
 *             6.1 has no ODP and refuses it (EINVAL): recorded, not fatal.
 * Every page is written before registration. Then it prints one JSON line
 *   {"pid": N, "device": "rxe0", "mrs": [{"name": "4k", "addr": "0x..",
 *    "len": N, "lkey": N, "rkey": N, "thp": bool}, ...],
 *    "odp": "registered" | "EINVAL" | ..., "vmpin_kib": N, "vmlck_kib": N}
 * and waits for SIGTERM/SIGINT or stdin EOF (--no-stdin: signals only).
 *
 * Built statically with the rxe provider linked in:
 *   cc -static -DRDMA_STATIC_PROVIDERS=rxe rdma-client.c \
 *      $(pkg-config --static --libs libibverbs)
 * Exit status: 0 on a signal or EOF, 1 on errors, 77 without a device.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/mman.h>

#include <infiniband/verbs.h>

#define THP_SIZE	(2UL << 20)
#define EXIT_SKIP	77

struct mr_info {
	const char *name;
	void *addr;
	size_t len;
	struct ibv_mr *mr;
	bool thp;
};

#include "guest-client.h"

/* 2 MiB aligned anonymous memory; THP when asked, else 4 KiB pages */
static void *map_aligned(size_t len, bool thp)
{
	size_t maplen = len + THP_SIZE;
	char *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + maplen > a + len)
		munmap(a + len, (size_t)(p + maplen - (a + len)));
	if (madvise(a, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) < 0 && thp)
		fprintf(stderr, "rdma-client: MADV_HUGEPAGE: %s\n", strerror(errno));
	memset(a, 0x5a, len);
	return a;
}

static bool is_thp(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256];
	uintptr_t want = (uintptr_t)addr, s, e;
	bool in = false, thp = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		/* a VMA header: "start-end perms ..."; field lines start with a name */
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &s, &e) == 2)
			in = s <= want && want < e;
		else if (in && !strncmp(line, "AnonHugePages:", 14))
			thp = strtoull(line + 14, NULL, 10) >= 2048;
	}
	fclose(f);
	return thp;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct mr_info mrs[2] = { { .name = "4k" }, { .name = "thp" } };
	const char *odp = "not tried";
	char odpbuf[32];
	bool use_stdin = true;
	size_t len4k = 256 << 10;
	int n = 0;
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-stdin"))
			use_stdin = false;
		else if (!strncmp(argv[i], "--len4k=", 8))
			len4k = strtoul(argv[i] + 8, NULL, 0);
		else {
			fprintf(stderr, "usage: rdma-client [--no-stdin] [--len4k=BYTES]\n");
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);

	list = ibv_get_device_list(&n);
	if (!list || n < 1) {
		fprintf(stderr, "rdma-client: no RDMA device (%s)\n", strerror(errno));
		return EXIT_SKIP;
	}
	ctx = ibv_open_device(list[0]);
	if (!ctx) {
		fprintf(stderr, "rdma-client: open %s: %s\n", ibv_get_device_name(list[0]),
			strerror(errno));
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		fprintf(stderr, "rdma-client: ibv_alloc_pd: %s\n", strerror(errno));
		return 1;
	}

	mrs[0].len = len4k;
	mrs[1].len = THP_SIZE;
	for (int i = 0; i < 2; i++) {
		mrs[i].addr = map_aligned(mrs[i].len, i == 1);
		if (!mrs[i].addr) {
			fprintf(stderr, "rdma-client: mmap: %s\n", strerror(errno));
			return 1;
		}
		mrs[i].thp = is_thp(mrs[i].addr);
		mrs[i].mr = ibv_reg_mr(pd, mrs[i].addr, mrs[i].len, access);
		if (!mrs[i].mr) {
			fprintf(stderr, "rdma-client: ibv_reg_mr %s: %s\n", mrs[i].name,
				strerror(errno));
			return 1;
		}
	}

	{
		void *a = map_aligned(64 << 10, false);
		struct ibv_mr *m = a ? ibv_reg_mr(pd, a, 64 << 10,
						  IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND) : NULL;

		if (m) {
			snprintf(odpbuf, sizeof(odpbuf), "registered lkey %u", m->lkey);
			odp = odpbuf;
		} else {
			int e = errno;

			odp = e == EINVAL ? "EINVAL" : e == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(e);
		}
	}

	printf("{\"pid\": %d, \"device\": \"%s\", \"mrs\": [", (int)getpid(),
	       ibv_get_device_name(list[0]));
	for (int i = 0; i < 2; i++)
		printf("%s{\"name\": \"%s\", \"addr\": \"%p\", \"len\": %zu, \"lkey\": %u, "
		       "\"rkey\": %u, \"thp\": %s}", i ? ", " : "", mrs[i].name, mrs[i].addr,
		       mrs[i].len, mrs[i].mr->lkey, mrs[i].mr->rkey, mrs[i].thp ? "true" : "false");
	printf("], \"odp\": \"%s\", \"vmpin_kib\": %" PRIu64 ", \"vmlck_kib\": %" PRIu64 "}\n",
	       odp, status_kib("VmPin"), status_kib("VmLck"));
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		char buf[64];

		if (!use_stdin) {
			pause();
			continue;
		}
		if (poll(&pfd, 1, -1) < 0)
			continue;
		if (read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	for (int i = 0; i < 2; i++)
		ibv_dereg_mr(mrs[i].mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return 0;
}
