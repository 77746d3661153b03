/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_MODULE_H
#define PININSPECT_MODULE_H

#include <stddef.h>

/*
 * Insert the kpagepin module through libkmod: the file at path, or (path
 * NULL) the module named kpagepin in the running kernel's module directory.
 * Returns 0 when inserted, 1 when it was loaded already (or is built in),
 * or -errno with the reason in why, in the words a user can act on:
 *   -ENOSYS       the kernel has no module support (CONFIG_MODULES=n)
 *   -EPERM        no CAP_SYS_MODULE, kernel lockdown, modules_disabled
 *   -EKEYREJECTED, -ENOKEY, -EBADMSG   signature refused
 *   -ENOEXEC      built for another kernel (vermagic) or not a module
 *   -ENOENT       no such file / not installed for this kernel
 */
int pi_module_load(const char *path, char *why, size_t whylen);

/* "integrity" or "confidentiality" when kernel lockdown is on, else NULL */
const char *pi_lockdown_mode(void);

#endif
