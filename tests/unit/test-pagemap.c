// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "pininspect/pagemap.h"
#include "pininspect/root.h"

int main(void)
{
	char dir[] = "/tmp/pi-pagemap-XXXXXX";
	char path[256];
	struct pi_pagemap *pm;
	struct pi_vrange *ranges = NULL;
	size_t n;
	uint64_t out[16];
	int fd;

	if (!mkdtemp(dir))
		return 1;
	pi_root_set(dir);
	snprintf(path, sizeof(path), "%s/proc/42", dir);
	snprintf(path, sizeof(path), "%s/proc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/42", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/42/pagemap", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	for (uint64_t i = 0; i < 8; i++) {
		uint64_t v = PM_PRESENT | PM_MMAP_EXCLUSIVE | (0x1000 + i);

		if (pwrite(fd, &v, 8, (off_t)((0x10000 + i) * 8)) != 8)
			return 1;
	}
	close(fd);

	is_int(pi_pagemap_open(42, &pm), 0, "open fixture pagemap");
	is_int(pi_pagemap_read(pm, 0x10000000, 4, out), 4, "four entries read");
	ok((out[0] & PM_PFN_MASK) == 0x1000 && (out[3] & PM_PFN_MASK) == 0x1003, "PFNs decoded");
	ok(out[0] & PM_MMAP_EXCLUSIVE, "mapped-once bit");
	is_int(pi_pagemap_read(pm, 0x10004000, 16, out), 4, "read past the end is short");
	is_int(pi_pagemap_scan(pm, 0x10000000, 0x10008000, &ranges, &n), -EOPNOTSUPP,
	       "PAGEMAP_SCAN on a plain file is unsupported");
	ok(!pi_pagemap_has_scan(pm), "and remembered");
	ok(!pi_pagemap_pfns_hidden(pm), "PFNs visible");
	pi_pagemap_close(pm);
	is_int(pi_pagemap_open(43, &pm), -ENOENT, "dead pid is -ENOENT");

	/* the live kernel: our own pagemap, PAGEMAP_SCAN where the kernel has it */
	pi_root_set("/");
	{
		char *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t a = (uintptr_t)buf;
		int r;

		buf[0] = 1;
		buf[5 * 4096] = 1;
		is_int(pi_pagemap_open(getpid(), &pm), 0, "open own pagemap");
		r = pi_pagemap_scan(pm, a, a + (1 << 20), &ranges, &n);
		if (r == -EOPNOTSUPP) {
			printf("ok %d # SKIP kernel without PAGEMAP_SCAN\n", ++tap_n);
		} else {
			ok(r == 0 && n == 2 && ranges[0].start == a && ranges[0].end == a + 4096 &&
			   ranges[1].start == a + 5 * 4096, "PAGEMAP_SCAN finds exactly the touched pages");
			free(ranges);
		}
		is_int(pi_pagemap_read(pm, a, 8, out), 8, "read own entries");
		ok((out[0] & PM_PRESENT) && !(out[1] & PM_PRESENT), "present bits match what we touched");
		pi_pagemap_close(pm);
		munmap(buf, 1 << 20);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
