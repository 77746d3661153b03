/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_TRACE_H
#define PININSPECT_TRACE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <poll.h>
#include <sys/types.h>

/*
 * mm tracepoints for watch mode, in a private tracefs instance named
 * "pininspect-<pid>" so other tracing users are not disturbed. Events
 * are read from the per-CPU trace_pipe_raw files, which the caller polls
 * with its own timeout.
 */
struct pi_trace;

#define PI_TRACE_INSTANCE_PREFIX "pininspect-"

/* Broad cause an event stands for. */
enum pi_cause {
	PI_CAUSE_MIGRATION,	/* the reason (compaction, numa_misplaced, ...) when known */
	PI_CAUSE_COMPACTION,
	PI_CAUSE_RECLAIM,
	PI_CAUSE_NUMA,
};

struct pi_trace_event {
	unsigned int idx;	/* index in the enabled event set */
	const char *name;	/* "migrate:mm_migrate_pages" */
	enum pi_cause cause;
	const char *reason;	/* mm_migrate_pages reason as the kernel prints it, or NULL */
	int tgid;		/* sched_move_numa: the task's tgid; else -1 */
};

typedef void (*pi_trace_fn)(const struct pi_trace_event *ev, void *userdata);

struct pi_trace_open_info {
	bool mounted;		/* tracefs was not mounted: we mounted it */
	char path[256];		/* tracefs mount point */
	unsigned int stale_removed;	/* instances of dead pininspect runs removed */
};

/*
 * Mount tracefs when needed, remove stale instances, create ours and
 * enable the events of the set that this kernel has. -errno with a
 * human reason in why.
 */
int pi_trace_open(struct pi_trace **ret, struct pi_trace_open_info *info, char *why, size_t whylen);
/* Disable, close and remove the instance. NULL is fine. */
void pi_trace_close(struct pi_trace *t);

size_t pi_trace_nevents(const struct pi_trace *t);
const char *pi_trace_event_name(const struct pi_trace *t, size_t i);
const char *pi_trace_instance_name(const struct pi_trace *t);

/* Fill up to max pollfds (POLLIN on each CPU's trace_pipe_raw); returns the count. */
size_t pi_trace_pollfds(const struct pi_trace *t, struct pollfd *fds, size_t max);
/*
 * Read what the buffers hold now, at most max_pages sub-buffers per CPU
 * so a storm cannot starve the caller. Returns the number of events
 * (>= 0) or -errno; *ret_lost counts events the kernel dropped.
 */
int pi_trace_drain(struct pi_trace *t, unsigned int max_pages, pi_trace_fn fn, void *userdata,
		   uint64_t *ret_lost);

/*
 * Remove instances named pininspect-<pid> whose pid is dead (left by a
 * SIGKILLed run). Returns the number removed.
 */
unsigned int pi_trace_remove_stale(void);

#endif
