// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The --save file reader of --diff (src/watch.c load_saved, a small JSON
 * parser: such files travel between hosts and people), then the snapshot
 * sort and diff code of src/lib/diff.c on what it loaded. watch.c is
 * included so its static reader can be called; its warnings are muted.
 */
#include <fcntl.h>
#include <unistd.h>
#include "fuzz.h"

#include "src/pininspect.h"
static void fz_quiet(const char *fmt, ...) { (void)fmt; }
static void fz_quiet_errno(int err, const char *fmt, ...) { (void)err; (void)fmt; }
#define pi_warn fz_quiet
#define pi_errno fz_quiet_errno
#include "src/watch.c"
#undef pi_warn
#undef pi_errno

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/pi-fuzz-save.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	return 0;
}

static void rm_file(void) __attribute__((destructor));
static void rm_file(void)
{
	if (*path)
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pi_diff_opts opts = { .nr_swap_devices = 1, .keep_preserved = true };
	struct saved sv;
	FILE *f = fopen(path, "we");

	FZ_ASSERT(f);
	FZ_ASSERT(fwrite(data, 1, size, f) == size);
	fclose(f);
	if (load_saved(path, &sv) < 0)
		return 0;
	for (size_t i = 0; i < sv.n; i++) {
		const struct pi_snapshot *s = &sv.s[i];
		struct pi_diff d = { 0 };
		struct pi_snapshot next = { 0 };

		FZ_ASSERT(s->pid > 0);
		FZ_ASSERT(memchr(s->comm, '\0', sizeof(s->comm)));
		for (size_t k = 1; k < s->n; k++)
			FZ_ASSERT(s->p[k - 1].addr < s->p[k].addr);	/* sorted, no duplicates */
		for (size_t k = 0; k < s->n; k++)
			FZ_ASSERT(pi_snapshot_find(s, s->p[k].addr) == &s->p[k]);
		/* the diff of a snapshot against itself and against the next one */
		if (pi_diff_snapshots(s, s, &opts, &d, &next) == 0) {
			for (size_t k = 0; k < d.n; k++)
				FZ_ASSERT(d.r[k].start < d.r[k].end && (unsigned int)d.r[k].t < PI_T__MAX);
		}
		pi_diff_free(&d);
		if (i + 1 < sv.n) {
			struct pi_diff d2 = { 0 };

			pi_diff_snapshots(s, &sv.s[i + 1], &opts, &d2, NULL);
			pi_diff_free(&d2);
		}
		pi_snapshot_free(&next);
	}
	saved_free(&sv);
	return 0;
}
