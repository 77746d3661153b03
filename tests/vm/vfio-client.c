/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-client - maps memory for DMA through VFIO type1, as a VMM does.
 *
 *   vfio-client GROUP [--len=BYTES]
 *
 * Opens /dev/vfio/vfio and /dev/vfio/GROUP (a device bound to vfio-pci
 * behind an IOMMU: qemu's intel-iommu and edu device in the guest), sets
 * the type1 IOMMU and maps --len bytes (default 1 MiB) of written 4 KiB
 * pages with VFIO_IOMMU_MAP_DMA at iova 0. type1 pins them with
 * FOLL_LONGTERM and charges locked_vm (VmLck), not VmPin. Then prints
 *   {"pid": N, "addr": "0x..", "len": N, "vmpin_kib": N, "vmlck_kib": N}
 * and waits for SIGTERM/SIGINT.
 * Exit status: 0 on a signal, 1 on errors, 77 without VFIO.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#define EXIT_SKIP	77

#include "guest-client.h"

static int fail(const char *what)
{
	fprintf(stderr, "vfio-client: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	size_t len = 1 << 20;
	char path[64];
	int container, group;
	char *buf;

	if (argc < 2) {
		fprintf(stderr, "usage: vfio-client GROUP [--len=BYTES]\n");
		return 1;
	}
	if (argc > 2 && !strncmp(argv[2], "--len=", 6))
		len = strtoul(argv[2] + 6, NULL, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		fprintf(stderr, "vfio-client: /dev/vfio/vfio: %s\n", strerror(errno));
		return EXIT_SKIP;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU)) {
		fprintf(stderr, "vfio-client: no type1 IOMMU\n");
		return EXIT_SKIP;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) < 0)
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vfio-client: group %s not viable (bind all its devices to vfio-pci)\n",
			argv[1]);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		return fail("VFIO_SET_IOMMU");

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(buf, 0x5a, len);
	map.vaddr = (uintptr_t)buf;
	map.size = len;
	map.iova = 0;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		return fail("VFIO_IOMMU_MAP_DMA");

	printf("{\"pid\": %d, \"addr\": \"%p\", \"len\": %zu, \"vmpin_kib\": %" PRIu64
	       ", \"vmlck_kib\": %" PRIu64 "}\n", (int)getpid(), (void *)buf, len,
	       status_kib("VmPin"), status_kib("VmLck"));
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}
