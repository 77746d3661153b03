// SPDX-License-Identifier: GPL-2.0-or-later
/* What this kernel offers (DESIGN section 7). Never prints. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <libkmod.h>
#include "pininspect/probe.h"
#include "pininspect/pagemap.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

bool pi_probe_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

static bool pfn_file_readable(const char *rel, int *err)
{
	uint64_t v;
	int fd = pi_root_open(rel, O_RDONLY);

	if (fd < 0) {
		*err = fd;
		return false;
	}
	/* PFN 0 may be past a short fixture; any successful read will do */
	if (pread(fd, &v, sizeof(v), 0) < 0) {
		*err = -errno;
		close(fd);
		return false;
	}
	close(fd);
	*err = 0;
	return true;
}

static int kpagepin_module_state(void)
{
	struct kmod_ctx *kctx;
	struct kmod_list *list = NULL, *it;
	int state = PI_KPP_ABSENT;

	kctx = kmod_new(NULL, NULL);
	if (!kctx)
		return PI_KPP_ABSENT;
	if (kmod_module_new_from_lookup(kctx, "kpagepin", &list) == 0) {
		kmod_list_foreach(it, list) {
			struct kmod_module *mod = kmod_module_get_module(it);
			int st = kmod_module_get_initstate(mod);

			if (st == KMOD_MODULE_BUILTIN)
				state = PI_KPP_BUILTIN;
			else if (st == KMOD_MODULE_LIVE)
				state = PI_KPP_LOADED;
			else if (kmod_module_get_path(mod))
				state = PI_KPP_LOADABLE;
			kmod_module_unref(mod);
		}
		kmod_module_unref_list(list);
	}
	kmod_unref(kctx);
	return state;
}

int pi_probe_run(struct pi_probe *pr, struct pi_pinsrc **keep_kpagepin)
{
	_cleanup_free_ char *buf = NULL;
	struct pi_pinsrc *src = NULL;
	struct pi_pagemap *pm;
	size_t len;
	int err;

	memset(pr, 0, sizeof(*pr));
	if (keep_kpagepin)
		*keep_kpagepin = NULL;
	if (pi_root_read_file("proc/sys/kernel/osrelease", &buf, &len) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(pr->release, sizeof(pr->release), "%s", buf);
	} else if (pi_root_is_host()) {
		struct utsname u;

		if (uname(&u) == 0)
			snprintf(pr->release, sizeof(pr->release), "%s", u.release);
	}
	if (pi_root_is_host() && pi_pagemap_open(getpid(), &pm) == 0) {
		struct pi_vrange *r = NULL;
		size_t n;
		uint64_t here = (uintptr_t)pr & ~4095ULL;

		pr->pagemap_scan = pi_pagemap_scan(pm, here, here + 4096, &r, &n) == 0;
		free(r);
		pi_pagemap_close(pm);
	}
	pr->pfn_visible = pi_root_is_host() ? pi_probe_cap_sys_admin() : true;
	pr->kpageflags = pfn_file_readable("proc/kpageflags", &pr->kpageflags_err);
	pr->kpagecount = pfn_file_readable("proc/kpagecount", &err);
	if (pi_root_access("sys/kernel/tracing/events") == 0) {
		pr->tracefs = true;
		snprintf(pr->tracefs_path, sizeof(pr->tracefs_path), "/sys/kernel/tracing");
	} else if (pi_root_access("sys/kernel/debug/tracing/events") == 0) {
		pr->tracefs = true;
		snprintf(pr->tracefs_path, sizeof(pr->tracefs_path), "/sys/kernel/debug/tracing");
	}
	pr->debugfs = pi_root_access("sys/kernel/debug/tracing") == 0 ||
		      pi_root_access("sys/kernel/debug/" KPAGEPIN_DIR) == 0;
	err = pi_pinsrc_kpagepin_open(&src, &pr->kpagepin_info);
	pr->kpagepin_err = err;
	if (err == 0) {
		pr->kpagepin = PI_KPP_LOADED;
		if (keep_kpagepin)
			*keep_kpagepin = src;
		else
			pi_pinsrc_close(src);
	} else if (err == -EPROTO) {
		pr->kpagepin = PI_KPP_BAD_ABI;
	}
	pr->host_root = pi_root_is_host();
#ifdef HAVE_BPF
	pr->bpf_built = true;
#endif
	pr->btf = pi_root_access("sys/kernel/btf/vmlinux") == 0;
	free(buf);
	buf = NULL;
	pr->io_uring = true;
	if (pi_root_read_file("proc/sys/kernel/io_uring_disabled", &buf, &len) == 0)
		pr->io_uring = buf[0] == '0';
	return 0;
}

void pi_probe_thorough(struct pi_probe *pr)
{
	struct pi_pinsrc *src = NULL;
	int r;

	/* loading libkmod's indexes is for --probe only, not every report */
	if (pr->kpagepin == PI_KPP_ABSENT && pi_root_is_host())
		pr->kpagepin = kpagepin_module_state();

	pr->bpf_tried = true;
	pr->bpf_why[0] = '\0';
	if (!pi_root_is_host()) {
		snprintf(pr->bpf_why, sizeof(pr->bpf_why), "not used under --root");
		return;
	}
	r = pi_pinsrc_bpf_open(&src, pr->bpf_why, sizeof(pr->bpf_why));
	pr->bpf_usable = r == 0;
	if (r == 0)
		pi_pinsrc_close(src);
	else if (!pr->bpf_why[0])
		snprintf(pr->bpf_why, sizeof(pr->bpf_why), "%s", strerror(-r));
}
