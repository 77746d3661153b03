/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_PROBE_H
#define PININSPECT_PROBE_H

#include <stdbool.h>
#include "pininspect/pinsrc.h"

/* What this kernel (or root tree) offers; DESIGN section 7. */
struct pi_probe {
	char release[128];
	bool pagemap_scan;
	bool pfn_visible;		/* we may read PFNs (CAP_SYS_ADMIN) */
	bool kpageflags;		/* readable */
	int kpageflags_err;
	bool kpagecount;
	bool tracefs;
	char tracefs_path[256];
	bool debugfs;
	enum { PI_KPP_ABSENT, PI_KPP_LOADED, PI_KPP_BUILTIN, PI_KPP_LOADABLE, PI_KPP_BAD_ABI } kpagepin;
	struct pi_kpagepin_info kpagepin_info;
	int kpagepin_err;
	bool host_root;			/* probing the running kernel, not a --root tree */
	bool bpf_built;
	bool bpf_tried;			/* pi_probe_thorough() ran */
	bool bpf_usable;
	char bpf_why[256];		/* why not, when !bpf_usable */
	bool btf;
	bool io_uring;			/* io_uring_disabled sysctl lets us use it */
};

/*
 * keep_kpagepin (may be NULL): the kpagepin source the probe opened, kept
 * open for the caller instead of opened a second time; NULL when it failed.
 */
int pi_probe_run(struct pi_probe *ret, struct pi_pinsrc **keep_kpagepin);
/*
 * What only --probe needs, after pi_probe_run(): whether an absent kpagepin
 * is loadable or builtin (libkmod), and a trial load of the bpf source (~20 ms).
 */
void pi_probe_thorough(struct pi_probe *pr);
bool pi_probe_cap_sys_admin(void);

#endif
