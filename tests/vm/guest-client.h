/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the static guest clients (rdma-client.c, vfio-client.c): they
 * hold their pins until a signal and report their accounting from status.
 */
#ifndef GUEST_CLIENT_H
#define GUEST_CLIENT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "KEY: N kB" from /proc/self/status, 0 when absent */
static uint64_t status_kib(const char *key)
{
	char line[256];
	uint64_t v = 0;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

#endif
