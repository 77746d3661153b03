// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --load-module: insert kpagepin with libkmod and turn the kernel's errno
 * into what the user can do about it. Host only (no --root): modules are
 * the running kernel's business.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <libkmod.h>
#include "pininspect/module.h"
#include "pininspect/util.h"

#define KPAGEPIN_NAME	"kpagepin"

static char lockdown_buf[32];

const char *pi_lockdown_mode(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char *open, *close;

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		/* "none [integrity] confidentiality": the bracketed word is the mode */
		open = strchr(line, '[');
		close = open ? strchr(open, ']') : NULL;
		if (open && close && close - open - 1 < (long)sizeof(lockdown_buf)) {
			snprintf(lockdown_buf, sizeof(lockdown_buf), "%.*s", (int)(close - open - 1), open + 1);
			return strcmp(lockdown_buf, "none") ? lockdown_buf : NULL;
		}
		return NULL;
	}
	/* securityfs not mounted: the boot command line says what was asked for */
	f = fopen("/proc/cmdline", "re");
	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	open = strstr(line, "lockdown=");
	if (!open)
		return NULL;
	snprintf(lockdown_buf, sizeof(lockdown_buf), "%.*s", (int)strcspn(open + 9, " \n"), open + 9);
	return strcmp(lockdown_buf, "none") ? lockdown_buf : NULL;
}

static bool has_cap_sys_module(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	return data[CAP_SYS_MODULE / 32].effective & (1u << (CAP_SYS_MODULE % 32));
}

static bool modules_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/modules_disabled", "re");
	int c = EOF;

	if (f) {
		c = fgetc(f);
		fclose(f);
	}
	return c == '1';
}

/* the vermagic the module was built with, or "" */
static void module_vermagic(struct kmod_module *mod, char *out, size_t outlen)
{
	struct kmod_list *info = NULL, *it;

	out[0] = '\0';
	if (kmod_module_get_info(mod, &info) < 0)
		return;
	kmod_list_foreach(it, info) {
		if (strcmp(kmod_module_info_get_key(it), "vermagic") == 0) {
			const char *v = kmod_module_info_get_value(it);

			snprintf(out, outlen, "%.*s", (int)strcspn(v, " "), v);
			break;
		}
	}
	kmod_module_info_free_list(info);
}

static int explain(int err, struct kmod_module *mod, const char *what, char *why, size_t whylen)
{
	const char *lockdown;
	char vermagic[128];
	struct utsname u;

	switch (err) {
	case -ENOSYS:
		snprintf(why, whylen, "this kernel has no module support (CONFIG_MODULES=n): boot a "
			 "kernel with modules, or the patched kernel that has kpagepin built in "
			 "(the bpf source needs neither)");
		break;
	case -EPERM:
	case -EACCES:
		lockdown = pi_lockdown_mode();
		if (!has_cap_sys_module())
			snprintf(why, whylen, "%s: loading modules needs CAP_SYS_MODULE (run as root)", what);
		else if (modules_disabled())
			snprintf(why, whylen, "%s: module loading is disabled until reboot "
				 "(kernel.modules_disabled=1)", what);
		else if (lockdown)
			snprintf(why, whylen, "%s: refused by kernel lockdown (%s): an unsigned "
				 "out-of-tree module cannot load; sign it with a key the kernel trusts, "
				 "or use the bpf source or the patched kernel", what, lockdown);
		else
			snprintf(why, whylen, "%s: %s (a security module or policy refused it)",
				 what, strerror(-err));
		break;
	case -EKEYREJECTED:
	case -ENOKEY:
	case -EBADMSG:
		snprintf(why, whylen, "%s: module signature refused (%s): this kernel enforces "
			 "signatures (module.sig_enforce or MODULE_SIG_FORCE); sign the module with a "
			 "key the kernel trusts", what, strerror(-err));
		break;
	case -ENOEXEC:
		module_vermagic(mod, vermagic, sizeof(vermagic));
		if (uname(&u) == 0 && *vermagic && strcmp(vermagic, u.release))
			snprintf(why, whylen, "%s: built for kernel %s, this is %s: rebuild it "
				 "(make -C kernel/kpagepin KDIR=/lib/modules/%s/build)",
				 what, vermagic, u.release, u.release);
		else
			snprintf(why, whylen, "%s: not a module this kernel accepts (bad format or "
				 "symbol versions; see dmesg)", what);
		break;
	case -ENOENT:
		snprintf(why, whylen, "%s: no such file", what);
		break;
	default:
		snprintf(why, whylen, "%s: %s", what, strerror(-err));
		break;
	}
	return err;
}

/* the kpagepin module of the running kernel, looked up by name */
static int lookup(struct kmod_ctx *ctx, struct kmod_module **ret, char *why, size_t whylen)
{
	struct kmod_list *list = NULL;
	struct utsname u;
	int r;

	*ret = NULL;
	r = kmod_module_new_from_lookup(ctx, KPAGEPIN_NAME, &list);
	if (r == 0 && list) {
		*ret = kmod_module_get_module(list);
		kmod_module_unref_list(list);
		if (kmod_module_get_initstate(*ret) == KMOD_MODULE_BUILTIN ||
		    kmod_module_get_path(*ret))
			return 0;
		kmod_module_unref(*ret);
		*ret = NULL;
	}
	if (access("/proc/modules", F_OK) < 0)
		return explain(-ENOSYS, NULL, KPAGEPIN_NAME, why, whylen);
	if (uname(&u) < 0)
		u.release[0] = '\0';
	snprintf(why, whylen, "no %s module installed for kernel %s (make -C kernel/kpagepin && "
		 "make -C kernel/kpagepin install, or give --load-module=PATH)", KPAGEPIN_NAME,
		 u.release);
	return -ENOENT;
}

int pi_module_load(const char *path, char *why, size_t whylen)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r;

	why[0] = '\0';
	if (path && access(path, R_OK) < 0) {
		r = -errno;
		return explain(r, NULL, path, why, whylen);
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		snprintf(why, whylen, "libkmod: cannot set up a context");
		return -ENOMEM;
	}
	if (path)
		r = kmod_module_new_from_path(ctx, path, &mod);
	else
		r = lookup(ctx, &mod, why, whylen);
	if (r < 0) {
		if (!why[0])
			explain(r, NULL, path ? path : KPAGEPIN_NAME, why, whylen);
		goto out;
	}
	switch (kmod_module_get_initstate(mod)) {
	case KMOD_MODULE_BUILTIN:
	case KMOD_MODULE_LIVE:
	case KMOD_MODULE_COMING:
		r = 1;
		goto out;
	default:
		break;
	}
	r = kmod_module_insert_module(mod, 0, NULL);
	if (r == -EEXIST)
		r = 1;
	else if (r < 0)
		explain(r, mod, path ? path : kmod_module_get_path(mod), why, whylen);
out:
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return r;
}
