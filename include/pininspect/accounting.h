/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_ACCOUNTING_H
#define PININSPECT_ACCOUNTING_H

/*
 * Pin accounting and fork safety (issue 10, items 4 and 5), for --map and
 * the audit checks memlock-headroom and fork-safety.
 *
 * The kernel charges pins differently per holder: io_uring and RDMA charge
 * mm->pinned_vm (VmPin; io_uring also the user's locked_vm), VFIO charges
 * mm->locked_vm (VmLck, like mlock). Every charge is checked against
 * RLIMIT_MEMLOCK, so the headroom of a process is the soft limit minus the
 * larger of the two counters.
 *
 * io_uring checks another sum too (io_uring/rsrc.c __io_account_mem): the
 * registered buffers of every ring of the user (struct user_struct of the
 * ring creator's real uid, rings created without CAP_IPC_LOCK), against the
 * registering task's soft limit. pi_accounting_user_sums() adds up the
 * io_uring buffer pages of the processes of one pass per uid; the headroom
 * reported is the smaller of the process's and that user's.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

/* ---- RLIMIT_MEMLOCK from /proc/PID/limits ---- */

struct pi_memlock {
	bool known;
	bool soft_unlimited, hard_unlimited;
	uint64_t soft, hard;	/* bytes */
};

/* "Max locked memory" line of /proc/PID/limits: 0, -ENOENT without it, -EINVAL */
int pi_limits_parse(const char *buf, size_t len, struct pi_memlock *ret);
int pi_limits_read(pid_t pid, struct pi_memlock *ret);

/* cgroup v2 path ("0::/path") or the first hierarchy's path; 0 or -errno */
int pi_cgroup_parse(const char *buf, size_t len, char *path, size_t pathlen);
int pi_cgroup_read(pid_t pid, char *path, size_t pathlen);

/* ---- reconciliation ---- */

struct pi_accounting {
	pid_t pid;
	uint64_t pinned_found;		/* pinned pages this process maps (exact source) */
	bool has_vmpin, has_vmlck;
	uint64_t vmpin_kib, vmlck_kib;
	struct pi_memlock memlock;
	bool headroom_known;		/* limit known and not unlimited */
	int64_t headroom_kib;		/* soft limit - max(VmPin, VmLck); negative: over */
	/*
	 * found*4 - VmPin: > 0 pinned pages not charged to this VmPin (VFIO
	 * charges VmLck; or another process pinned them); < 0 VmPin charges
	 * pages not mapped here (orphaned pins, whole THPs, a desync).
	 */
	int64_t vmpin_delta_kib;
	char cgroup[256];		/* "" unknown */
	/*
	 * CAP_IPC_LOCK in CapEff: io_uring, RDMA, VFIO and mlock skip the
	 * RLIMIT_MEMLOCK check, so the headroom does not bind.
	 */
	bool cap_known, cap_ipc_lock;
	/*
	 * io_uring's charge to the user (issue 10 item 4). iouring_kib: the
	 * pages of this process's registered buffers (fdinfo ranges rounded out
	 * to pages), or VmPin when that is more and no RDMA MR shares it
	 * (pi_iouring_charge_kib: whole folios of huge pages). The ring memory
	 * itself (SQ/CQ, SQEs: 2 pages for a small ring on 6.18) is charged to
	 * the user without showing in fdinfo or VmPin: not counted.
	 */
	bool uid_known;
	uid_t uid;			/* real uid: the user_struct io_uring charges */
	uint64_t iouring_kib;
	/* set by pi_accounting_user_sums (user_known), then used by _compute */
	bool user_known;
	uint64_t user_iouring_kib;	/* io_uring buffers of all seen processes of uid */
	uint64_t user_procs;		/* processes of uid summed (with io_uring buffers) */
	int64_t proc_headroom_kib;	/* soft limit - max(VmPin, VmLck) */
	int64_t user_headroom_kib;	/* soft limit - user_iouring_kib (user_known) */
	bool headroom_by_user;		/* headroom_kib is the user's, smaller */
};

/* pages of the io_uring buffer [start, end) rounded out to pages, in KiB */
uint64_t pi_iouring_buffer_kib(uint64_t start, uint64_t end);
struct pi_holder_list;
/* pi_iouring_buffer_kib summed over the io_uring buffers of a holder list */
uint64_t pi_iouring_holders_kib(const struct pi_holder_list *hl);
/*
 * io_uring's charge of a process from its buffers' pages (buffer_kib) and
 * VmPin: io_uring adds the same acct_pages to the ring creator's pinned_vm
 * as to the user's locked_vm, whole folios included, so when VmPin is more
 * than the buffer pages of a process with rings and no RDMA MR (the other
 * pinned_vm charger), VmPin is the charge (a buffer in a THP or hugetlb
 * page: the whole folio). Otherwise the buffer pages. 0 without buffers.
 */
uint64_t pi_iouring_charge_kib(uint64_t buffer_kib, bool has_vmpin, uint64_t vmpin_kib,
			       unsigned int rdma_mrs);
/*
 * Sum iouring_kib per uid over the n entries (those with uid_known; a
 * process with CAP_IPC_LOCK charges nothing: io_uring leaves ctx->user
 * unset), set user_iouring_kib/user_procs on every entry with uid_known
 * and recompute. A ring shared by several processes (fork) is counted in
 * each of them: the sum errs on the low-headroom side. Reorders a (by uid).
 */
void pi_accounting_user_sums(struct pi_accounting **a, size_t n);

/*
 * fill the derived fields from the raw ones: proc_headroom_kib, with
 * user_known also user_headroom_kib; headroom_kib the smaller of the two
 * (headroom_by_user when the user's binds), but the process's with
 * CAP_IPC_LOCK (io_uring then checks no user sum; the headroom is shown,
 * never warned about, as before)
 */
void pi_accounting_compute(struct pi_accounting *a);
/* status, limits, cgroup of pid; pinned_found given by the caller */
int pi_accounting_read(pid_t pid, uint64_t pinned_found, struct pi_accounting *ret);
/* CapEff line of a status text: 0, -ENOENT without one */
int pi_status_capeff_parse(const char *buf, size_t len, uint64_t *ret);
/*
 * Warn level of the headroom, for the audit's memlock-headroom check and
 * --map's warning alike: opt_kib (--memlock-headroom) when >= 0, else 10%
 * of the soft limit, at most 1 MiB.
 */
uint64_t pi_memlock_threshold_kib(const struct pi_accounting *a, int64_t opt_kib);
/* warn level: headroom below threshold_kib (memlock-headroom audit check); never with CAP_IPC_LOCK */
static inline bool pi_accounting_low_headroom(const struct pi_accounting *a, uint64_t threshold_kib)
{
	return a->headroom_known && !a->cap_ipc_lock && a->headroom_kib < (int64_t)threshold_kib;
}

struct pi_cgroup_sum {
	char path[256];
	uint64_t procs;
	uint64_t pinned_found, vmpin_kib, vmlck_kib;
};

/* sum accounting entries per cgroup path (entries with an unknown cgroup are skipped) */
int pi_cgroup_sums(const struct pi_accounting *a, size_t n, struct pi_cgroup_sum **ret,
		   size_t *ret_n);

/* ---- fork safety: smaps VmFlags ---- */

struct pi_smaps_vma {
	uint64_t start, end;
	bool dontfork;		/* dc: MADV_DONTFORK */
	bool wipeonfork;	/* wf: MADV_WIPEONFORK */
	bool locked;		/* lo: mlock */
	bool io;		/* io / pf: device mapping */
};

struct pi_smaps {
	struct pi_smaps_vma *v;
	size_t n, cap;
};

int pi_smaps_parse(const char *buf, size_t len, struct pi_smaps *ret);
int pi_smaps_read(pid_t pid, struct pi_smaps *ret);
void pi_smaps_free(struct pi_smaps *s);
/* vm.max_map_count */
int pi_max_map_count_read(uint64_t *ret);

struct pi_fork_safety {
	uint64_t pages;			/* pages of [start, end) rounded out to pages */
	uint64_t dontfork_pages;	/* of those, in a VMA with dc */
	bool covered;			/* every page DONTFORK */
	bool partial;			/* some pages DONTFORK, some not */
	/*
	 * The first / last page also holds bytes outside [start, end): with
	 * DONTFORK the child loses them too, without it the child's copy of
	 * the pinned page is a COW hazard for the parent on old kernels.
	 */
	bool head_shared, tail_shared;
	size_t vma_count;		/* VMAs of the process */
	uint64_t max_map_count;		/* 0 unknown */
};

/* range [start, end) in bytes, as registered (need not be page aligned) */
void pi_fork_safety(const struct pi_smaps *s, uint64_t start, uint64_t end,
		    uint64_t max_map_count, struct pi_fork_safety *ret);

#endif
