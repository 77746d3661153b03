// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Watch-mode tracepoints through a private libtracefs instance. The raw
 * per-CPU buffers are read with kbuffer and parsed with the kernel's own
 * event formats (libtraceevent), so no field layout is assumed here.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <tracefs.h>
#include <event-parse.h>
#include <kbuffer.h>
#include "pininspect/trace.h"
#include "pininspect/util.h"

#define TRACEFS_DEFAULT "/sys/kernel/tracing"
#define PI_TRACE_MAX_EVENTS 24
/* per CPU; events are only counted, a small buffer that may drop is fine */
#define PI_TRACE_BUFFER_KB 256

struct wanted_event {
	const char *sys, *name;
	enum pi_cause cause;
};

/* Every name is checked against this kernel's tracefs before use. */
static const struct wanted_event wanted[] = {
	{ "migrate", "mm_migrate_pages", PI_CAUSE_MIGRATION },
	{ "migrate", "set_migration_pte", PI_CAUSE_MIGRATION },
	{ "migrate", "remove_migration_pte", PI_CAUSE_MIGRATION },
	{ "compaction", "mm_compaction_begin", PI_CAUSE_COMPACTION },
	{ "compaction", "mm_compaction_end", PI_CAUSE_COMPACTION },
	{ "compaction", "mm_compaction_migratepages", PI_CAUSE_COMPACTION },
	{ "compaction", "mm_compaction_kcompactd_wake", PI_CAUSE_COMPACTION },
	{ "vmscan", "mm_vmscan_direct_reclaim_begin", PI_CAUSE_RECLAIM },
	{ "vmscan", "mm_vmscan_kswapd_wake", PI_CAUSE_RECLAIM },
	{ "vmscan", "mm_vmscan_lru_shrink_inactive", PI_CAUSE_RECLAIM },
	{ "vmscan", "mm_vmscan_memcg_reclaim_begin", PI_CAUSE_RECLAIM },
	{ "vmscan", "mm_vmscan_node_reclaim_begin", PI_CAUSE_RECLAIM },
	{ "sched", "sched_move_numa", PI_CAUSE_NUMA },
	{ "sched", "sched_swap_numa", PI_CAUSE_NUMA },
};

struct pi_trace_ev {
	const struct wanted_event *w;
	char fullname[80];
	int id;				/* tep event id */
	struct tep_event *event;
	struct tep_format_field *tgid;	/* sched_*_numa */
	bool has_reason;		/* mm_migrate_pages: ask the print format */
};

struct pi_trace {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct kbuffer *kbuf;
	struct pi_trace_ev ev[PI_TRACE_MAX_EVENTS];
	size_t nev;
	int *fds;
	size_t nfds;
	void *page;
	size_t page_size;
	struct trace_seq seq;
	char name[64];
};

static bool tracefs_mounted(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char dev[256], dir[256], type[64];

		if (sscanf(line, "%255s %255s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "tracefs")) {
			snprintf(path, len, "%s", dir);
			found = true;
		}
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * Only a dead pid makes an instance stale: a live one may be pininspect
 * under another name (valgrind, a renamed binary) in the middle of its run.
 */
static bool pid_is_dead(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

unsigned int pi_trace_remove_stale(void)
{
	const char *top = tracefs_tracing_dir();
	unsigned int removed = 0;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!top)
		return 0;
	snprintf(path, sizeof(path), "%s/instances", top);
	/* readdir rather than tracefs_instances(): no regex, nothing leaked */
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t plen = strlen(PI_TRACE_INSTANCE_PREFIX);
		struct tracefs_instance *inst;
		uint64_t pid;

		if (strncmp(name, PI_TRACE_INSTANCE_PREFIX, plen) ||
		    pi_parse_u64(name + plen, 10, &pid) < 0 || pid == 0 || pid > INT32_MAX ||
		    name[plen] < '0' || name[plen] > '9')
			continue;
		if ((pid_t)pid == getpid() || !pid_is_dead((pid_t)pid))
			continue;
		inst = tracefs_instance_alloc(NULL, name);
		if (!inst)
			continue;
		/* events off first: a busy instance may refuse rmdir */
		tracefs_event_disable(inst, NULL, NULL);
		if (tracefs_instance_destroy(inst) == 0)
			removed++;
		tracefs_instance_free(inst);
	}
	closedir(d);
	return removed;
}

static int open_cpu_fds(struct pi_trace *t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char *dir = tracefs_instance_get_dir(t->inst);
	int r = 0;

	if (!dir)
		return -ENOMEM;
	if (ncpu < 1)
		ncpu = 1;
	t->fds = calloc((size_t)ncpu, sizeof(*t->fds));
	if (!t->fds) {
		tracefs_put_tracing_file(dir);
		return -ENOMEM;
	}
	for (long cpu = 0; cpu < ncpu; cpu++) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%ld/trace_pipe_raw", dir, cpu);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)	/* offline or absent CPU */
				continue;
			r = -errno;
			break;
		}
		t->fds[t->nfds++] = fd;
	}
	tracefs_put_tracing_file(dir);
	if (r == 0 && !t->nfds)
		r = -ENOENT;
	return r;
}

static void enable_events(struct pi_trace *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(wanted) && t->nev < PI_TRACE_MAX_EVENTS; i++) {
		const struct wanted_event *w = &wanted[i];
		struct tep_event *e = tep_find_event_by_name(t->tep, w->sys, w->name);
		struct pi_trace_ev *ev = &t->ev[t->nev];

		/* absent from this kernel, or a format libtraceevent cannot parse */
		if (!e || !tracefs_event_file_exists(t->inst, w->sys, w->name, "enable"))
			continue;
		if (tracefs_event_enable(t->inst, w->sys, w->name) < 0)
			continue;
		memset(ev, 0, sizeof(*ev));
		ev->w = w;
		ev->event = e;
		ev->id = e->id;
		snprintf(ev->fullname, sizeof(ev->fullname), "%s:%s", w->sys, w->name);
		if (w->cause == PI_CAUSE_NUMA)
			ev->tgid = tep_find_field(e, "tgid");
		if (!strcmp(w->name, "mm_migrate_pages"))
			ev->has_reason = tep_find_field(e, "reason") != NULL;
		t->nev++;
	}
}

int pi_trace_open(struct pi_trace **ret, struct pi_trace_open_info *info, char *why, size_t whylen)
{
	static const char *systems[] = { "migrate", "compaction", "vmscan", "sched", NULL };
	struct pi_trace *t;
	const char *dir;
	char val[32];
	int r;

	memset(info, 0, sizeof(*info));
	if (!tracefs_mounted(info->path, sizeof(info->path))) {
		if (mount("nodev", TRACEFS_DEFAULT, "tracefs", 0, NULL) < 0) {
			r = -errno;
			snprintf(why, whylen, "tracefs is not mounted and mounting it on %s failed: %s",
				 TRACEFS_DEFAULT, strerror(errno));
			return r;
		}
		info->mounted = true;
		snprintf(info->path, sizeof(info->path), "%s", TRACEFS_DEFAULT);
	}
	dir = tracefs_tracing_dir();
	if (!dir) {
		snprintf(why, whylen, "libtracefs cannot find the tracing directory");
		return -ENOENT;
	}
	info->stale_removed = pi_trace_remove_stale();

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), PI_TRACE_INSTANCE_PREFIX "%d", (int)getpid());
	/* a leftover of our own pid (a reused pid after a SIGKILL) is taken over */
	t->inst = tracefs_instance_create(t->name);
	if (!t->inst) {
		r = errno ? -errno : -ENOMEM;
		snprintf(why, whylen, "cannot create tracefs instance %s: %s", t->name, strerror(-r));
		free(t);
		return r;
	}
	t->tep = tracefs_local_events_system(dir, systems);
	if (!t->tep) {
		snprintf(why, whylen, "cannot parse the event formats under %s/events", dir);
		r = -EINVAL;
		goto fail;
	}
	tracefs_trace_off(t->inst);
	snprintf(val, sizeof(val), "%d", PI_TRACE_BUFFER_KB);
	(void)tracefs_instance_file_write(t->inst, "buffer_size_kb", val);
	/* wake a poller on the first event, not when the buffer is half full */
	(void)tracefs_instance_file_write(t->inst, "buffer_percent", "0");
	enable_events(t);
	if (!t->nev) {
		snprintf(why, whylen, "none of the migrate, compaction, vmscan or NUMA events exist here");
		r = -ENOENT;
		goto fail;
	}
	t->kbuf = tep_kbuffer(t->tep);
	t->page_size = (size_t)getpagesize();
	{
		long long kb = 0;

		if (tracefs_instance_file_read_number(t->inst, "buffer_subbuf_size_kb", &kb) == 0 &&
		    kb > 0 && kb <= 1024)
			t->page_size = (size_t)kb * 1024;
	}
	t->page = malloc(t->page_size);
	if (!t->kbuf || !t->page) {
		r = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	trace_seq_init(&t->seq);
	r = open_cpu_fds(t);
	if (r < 0) {
		snprintf(why, whylen, "cannot open %s per-CPU trace_pipe_raw: %s", t->name, strerror(-r));
		goto fail;
	}
	tracefs_trace_on(t->inst);
	*ret = t;
	return 0;
fail:
	pi_trace_close(t);
	return r;
}

void pi_trace_close(struct pi_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nfds; i++)
		close(t->fds[i]);
	free(t->fds);
	if (t->inst) {
		tracefs_trace_off(t->inst);
		tracefs_event_disable(t->inst, NULL, NULL);
		/* open trace_pipe_raw files would make rmdir fail: they are closed above */
		tracefs_instance_destroy(t->inst);
		tracefs_instance_free(t->inst);
	}
	if (t->seq.buffer)
		trace_seq_destroy(&t->seq);
	if (t->kbuf)
		kbuffer_free(t->kbuf);
	if (t->tep)
		tep_free(t->tep);
	free(t->page);
	free(t);
}

size_t pi_trace_nevents(const struct pi_trace *t)
{
	return t ? t->nev : 0;
}

const char *pi_trace_event_name(const struct pi_trace *t, size_t i)
{
	return i < t->nev ? t->ev[i].fullname : NULL;
}

const char *pi_trace_instance_name(const struct pi_trace *t)
{
	return t->name;
}

size_t pi_trace_pollfds(const struct pi_trace *t, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; t && i < t->nfds && n < max; i++) {
		fds[n].fd = t->fds[i];
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

static struct pi_trace_ev *find_ev(struct pi_trace *t, int id)
{
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].id == id)
			return &t->ev[i];
	return NULL;
}

/* mm_migrate_pages prints "... reason=compaction": the kernel's own symbol table */
static void migrate_reason(struct pi_trace *t, struct tep_record *rec, char *buf, size_t len)
{
	const char *p;

	buf[0] = '\0';
	trace_seq_reset(&t->seq);
	tep_print_event(t->tep, &t->seq, rec, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&t->seq);
	p = t->seq.buffer ? strstr(t->seq.buffer, "reason=") : NULL;
	if (!p)
		return;
	p += strlen("reason=");
	snprintf(buf, len, "%.*s", (int)strcspn(p, " \n"), p);
}

int pi_trace_drain(struct pi_trace *t, unsigned int max_pages, pi_trace_fn fn, void *ud,
		   uint64_t *ret_lost)
{
	int count = 0;

	for (size_t c = 0; c < t->nfds; c++) {
		for (unsigned int pg = 0; pg < max_pages; pg++) {
			ssize_t n = read(t->fds[c], t->page, t->page_size);
			unsigned long long ts;
			void *data;
			int missed;

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -errno;
			}
			if (n == 0)
				break;
			if ((size_t)n < t->page_size)
				memset((char *)t->page + n, 0, t->page_size - (size_t)n);
			if (kbuffer_load_subbuffer(t->kbuf, t->page) < 0)
				break;
			missed = kbuffer_missed_events(t->kbuf);
			if (missed > 0 && ret_lost)
				*ret_lost += (uint64_t)missed;
			for (data = kbuffer_read_event(t->kbuf, &ts); data;
			     data = kbuffer_next_event(t->kbuf, &ts)) {
				struct tep_record rec = {
					.ts = ts, .cpu = (int)c, .data = data,
					.size = kbuffer_event_size(t->kbuf),
				};
				struct pi_trace_ev *ev = find_ev(t, tep_data_type(t->tep, &rec));
				struct pi_trace_event out;
				char reason[48];

				if (!ev)
					continue;
				memset(&out, 0, sizeof(out));
				out.idx = (unsigned int)(ev - t->ev);
				out.name = ev->fullname;
				out.cause = ev->w->cause;
				out.tgid = -1;
				if (ev->has_reason) {
					migrate_reason(t, &rec, reason, sizeof(reason));
					if (*reason)
						out.reason = reason;
				}
				if (ev->tgid) {
					unsigned long long v;

					if (tep_read_number_field(ev->tgid, data, &v) == 0)
						out.tgid = (int)v;
				}
				fn(&out, ud);
				count++;
			}
		}
	}
	return count;
}
