/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_RDMA_H
#define PININSPECT_RDMA_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#include "pininspect/holders.h"
#include "pininspect/status.h"

/*
 * RDMA memory regions as the kernel's RDMA netlink resource tracker lists
 * them (RDMA_NLDEV_CMD_RES_MR_GET, what `rdma resource show mr` prints).
 * A user MR pins its pages with FOLL_LONGTERM and charges them to VmPin.
 * The kernel gives pid, length, MR number and (with CAP_NET_ADMIN) the
 * keys, but no address on the kernels we know (6.1 .. 6.18): an MR is
 * placed on the process's pinned pages by its length unless an iova is
 * given.
 */
enum pi_rdma_place {
	PI_RDMA_UNPLACED,	/* no iova, and no run of pinned pages of its length */
	PI_RDMA_BY_IOVA,	/* the kernel gave the address */
	PI_RDMA_BY_LENGTH,	/* a run of unattributed pinned pages of its length */
};
const char *pi_rdma_place_name(enum pi_rdma_place p);	/* "unplaced", "iova", "length" */

struct pi_rdma_mr {
	char dev[64];		/* "rxe0" */
	uint32_t dev_index;
	uint32_t mrn;		/* restrack id: "mrn" */
	uint32_t pdn, lkey, rkey;
	bool has_pdn, has_keys, has_iova;
	uint64_t iova, len;
	pid_t pid;		/* as the kernel reports it (the registering thread); 0: kernel MR */
	char comm[32];		/* kernel name of a kernel MR, or the task's comm when given */
	/* placement on the process's pages (pi_rdma_place) */
	enum pi_rdma_place place;
	bool ambiguous;		/* several runs of that length were free */
	uint64_t start, end;	/* page aligned [start, end) when placed */
};

struct pi_rdma_mr_list {
	struct pi_rdma_mr *m;
	size_t n, cap;
	unsigned int devices;	/* RDMA devices seen */
	bool from_file;		/* read from the fixture file under --root */
};

/*
 * Every MR of every RDMA device through NETLINK_RDMA. No RDMA support
 * loaded (no NETLINK_RDMA family) or no device: 0 with an empty list.
 */
int pi_rdma_mrs_read_netlink(struct pi_rdma_mr_list *ret);

/*
 * The answer to one RES_MR_GET dump request, as received (netlink
 * messages, attributes right after each nlmsghdr): MRs appended with dev
 * and dev_index. 1 once NLMSG_DONE was seen, 0 when more is to come,
 * -EBADMSG for a malformed attribute, the kernel's -errno for an error
 * message; nothing is appended on error.
 */
int pi_rdma_mr_parse_nlmsgs(const void *buf, size_t len, const char *dev, uint32_t dev_index,
			    struct pi_rdma_mr_list *l);

/*
 * `rdma resource show mr` text output, one MR per line:
 *   dev rxe0 mrn 3 rkey 0x1a2b lkey 0x1a2b mrlen 262144 pdn 1 pid 200 comm rdma-client
 * optionally with "iova 0x..". Returns MRs added, -EINVAL on garbage.
 * Under --root, the file "rdma/resource-mr" in that format stands in for
 * netlink (no file: no MRs).
 */
int pi_rdma_mr_parse_text(const char *buf, size_t len, struct pi_rdma_mr_list *l);

/*
 * The user MRs of process pid: pid itself or one of its threads
 * (/proc/PID/task/TID) registered them. Host root: netlink; another
 * root: its rdma/resource-mr file.
 */
int pi_rdma_mrs_read(pid_t pid, struct pi_rdma_mr_list *ret);
void pi_rdma_mr_list_free(struct pi_rdma_mr_list *l);
/*
 * Between begin and end (they nest), pi_rdma_mrs_read filters one dump of
 * the system's MRs, taken at its first call, instead of dumping them for
 * every process: bracket a pass over many processes with them.
 */
void pi_rdma_snapshot_begin(void);
void pi_rdma_snapshot_end(void);

/* A run of pinned pages no other holder explains, page aligned [start, end). */
struct pi_pin_run {
	uint64_t start, end;
	int64_t pins;		/* lowest pin count in the run; -1 unknown */
	unsigned int used;	/* MRs placed on it (pi_rdma_place) */
};

/*
 * Place unplaced MRs with an iova at that address, and the others on runs
 * of the length of their pages (ceil(len / 4 KiB), or one more page when
 * the MR starts inside a page): whole runs first, then the sub-runs split
 * where the pin count changes (runs must then be ordered and contiguous
 * where split). A run takes at most as many MRs as its pin count. Returns
 * the number of MRs placed.
 */
int pi_rdma_place(struct pi_rdma_mr_list *l, struct pi_pin_run *runs, size_t nruns,
		  struct pi_pin_run *subruns, size_t nsubruns);

/* Append one holder per placed MR ("rdma mr 3 (lkey 0x1a2b)"). */
int pi_rdma_add_holders(const struct pi_rdma_mr_list *l, struct pi_holder_list *hl);

/*
 * VFIO type1 charges the pages it pins to locked_vm (VmLck), not VmPin.
 * Pinned pages that neither io_uring nor RDMA holders explain, and that
 * VmPin cannot cover either, are the "vfio" holder class when VmLck, less
 * the mlock()ed memory (smaps_rollup Locked), is at least their size.
 */
struct pi_vfio_class {
	uint64_t unexplained_kib;	/* pinned, no holder, beyond what VmPin leaves */
	uint64_t lock_kib;		/* VmLck - mlocked: locked_vm not from mlock */
	bool vfio;			/* VmLck covers the unexplained pins */
	bool whole;			/* VmPin covers none of them: every unattributed pin is vfio */
};
/*
 * holder_kib: pinned pages attributed to io_uring/RDMA holders;
 * free_kib: pinned pages without a holder; mlocked_kib: smaps_rollup
 * Locked (pass 0 when unknown). -ENODATA when status has no VmLck.
 */
int pi_vfio_classify(const struct pi_status *st, uint64_t holder_kib, uint64_t free_kib,
		     uint64_t mlocked_kib, struct pi_vfio_class *ret);
/* smaps_rollup "Locked:" of pid in KiB; -errno when unreadable */
int pi_smaps_locked_kib(pid_t pid, uint64_t *ret);
/* Append a "vfio (VmLck)" holder over [start, end). */
int pi_vfio_add_holder(struct pi_holder_list *hl, uint64_t start, uint64_t end);

#endif
