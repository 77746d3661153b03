// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench/floor: the least work a page-level report of a process can do
 * with /proc files alone, as a yardstick for pininspect and page-types.
 *
 *   floor [--pagemap-only] PID
 *
 * For every VMA of /proc/PID/maps: /proc/PID/pagemap in preads of
 * FLOOR_CHUNK entries, then one /proc/kpageflags entry per present page:
 * the chunk's PFNs sorted and merged into runs, one pread per run.
 * Prints page counts so the work cannot be optimised away. Not installed,
 * not part of make check.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_CHUNK	65536		/* pagemap entries per pread: 512 KiB */
#define KPF_BUF		8192		/* kpageflags entries per pread */
#define KPF_GAP		8		/* PFN gaps this small are read through */
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define KPF_ANON	(1ULL << 12)
#define KPF_EXCL	(1ULL << 34)

static uint64_t pme[FLOOR_CHUNK], pfns[FLOOR_CHUNK], kbuf[KPF_BUF];
static uint64_t n_present, n_anon, n_excl, n_preads;

static int full_pread(int fd, void *buf, size_t len, off_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t r = pread(fd, (char *)buf + *got, len - *got, off + (off_t)*got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return *got ? 0 : -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	n_preads++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* kpageflags for pfns[0..n): sorted, merged into runs (gaps up to KPF_GAP read through) */
static int read_kpf(int kfd, uint64_t *pfns, size_t n)
{
	size_t i = 0, got;

	qsort(pfns, n, sizeof(*pfns), cmp_u64);
	while (i < n) {
		uint64_t first = pfns[i];
		size_t j = i + 1;

		while (j < n && pfns[j] - pfns[j - 1] <= KPF_GAP && pfns[j] - first < KPF_BUF)
			j++;
		if (full_pread(kfd, kbuf, (size_t)(pfns[j - 1] - first + 1) * 8,
			       (off_t)(first * 8), &got) < 0)
			return -1;
		for (size_t k = i; k < j; k++) {
			uint64_t e, off = pfns[k] - first;

			if (off >= got / 8)
				continue;
			e = kbuf[off];
			n_anon += !!(e & KPF_ANON);
			n_excl += (e & (KPF_ANON | KPF_EXCL)) == (KPF_ANON | KPF_EXCL);
		}
		i = j;
	}
	return 0;
}

static int scan_vma(int pfd, int kfd, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		size_t n = (size_t)((end - a) >> 12), got, npfn = 0;

		if (n > FLOOR_CHUNK)
			n = FLOOR_CHUNK;
		if (full_pread(pfd, pme, n * 8, (off_t)((a >> 12) * 8), &got) < 0)
			return -1;
		n = got / 8;
		if (!n)
			break;
		for (size_t i = 0; i < n; i++) {
			if (!(pme[i] & PM_PRESENT))
				continue;
			n_present++;
			if (pme[i] & PM_PFN_MASK)
				pfns[npfn++] = pme[i] & PM_PFN_MASK;
		}
		if (kfd >= 0 && npfn && read_kpf(kfd, pfns, npfn) < 0)
			return -1;
		a += (uint64_t)n << 12;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[64], line[4096];
	int pagemap_only = 0, pfd, kfd = -1;
	const char *pid;
	FILE *maps;

	if (argc == 3 && !strcmp(argv[1], "--pagemap-only")) {
		pagemap_only = 1;
		pid = argv[2];
	} else if (argc == 2) {
		pid = argv[1];
	} else {
		fprintf(stderr, "usage: floor [--pagemap-only] PID\n");
		return 64;
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (!pagemap_only)
		kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (!maps || pfd < 0 || (!pagemap_only && kfd < 0)) {
		perror("floor: open");
		return 2;
	}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) != 2)
			continue;
		if (strstr(line, "[vsyscall]"))
			continue;
		if (scan_vma(pfd, kfd, s, e) < 0) {
			perror("floor: read");
			return 2;
		}
	}
	printf("present %" PRIu64 " anon %" PRIu64 " exclusive %" PRIu64 " preads %" PRIu64 "\n",
	       n_present, n_anon, n_excl, n_preads);
	fclose(maps);
	close(pfd);
	if (kfd >= 0)
		close(kfd);
	return 0;
}
