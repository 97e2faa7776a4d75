/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The cmocka fixture both suites share: a fresh store in a temporary
 * directory with one persisted volume "vol". The store's writer thread
 * (group commit) always runs; ops called directly here run outside it.
 */
#ifndef MODALFS_TEST_FIXTURE_H
#define MODALFS_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../userd/store.h"

struct fx {
	char dir[64];
	struct modalfs_store *st;
	uint64_t vol;
};

static inline int setup_map(void **state, uint64_t map)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct modalfs_volinfo vi;

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/modalfs-unit-XXXXXX");
	if (!mkdtemp(f->dir) || modalfs_store_open(&f->st, f->dir, map) ||
	    modalfs_store_vol_persisted(f->st, "vol", &vi))
		return -1;
	f->vol = vi.vol_id;
	*state = f;
	return 0;
}

static inline int setup(void **state)
{
	return setup_map(state, 0);
}

/* A 2 MiB map, to reach ENOSPC quickly. */
static inline int setup_tiny(void **state)
{
	return setup_map(state, 2 << 20);
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	modalfs_store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

#endif
