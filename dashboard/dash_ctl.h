/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The dashboard's questions to modalfsd, over the control socket through
 * modalfsctl's client code (tools/ctl_client.c). Each call opens its own
 * connection, so page handlers on different threads never share one.
 * Failures return an errno and put the daemon's sentence (or a sentence
 * of our own) in err.
 */
#ifndef MODALFS_DASH_CTL_H
#define MODALFS_DASH_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../tools/ctl_client.h"
#include "../userd/ctlstats.h"

#define DASH_ERR_MAX 512

struct dash_vol {
	char name[MODALFS_VOL_NAME_MAX + 1];
	char app_id[MODALFS_APP_ID_MAX + 1];
	char app_name[MODALFS_VOL_NAME_MAX + 1];	/* "" if none */
	uint32_t kind, mounts;
	int64_t created;
	uint64_t bytes, files;
};

struct dash_entry {
	char name[MODALFS_NAME_MAX + 1];
	struct modalfs_iattr attr;
};

/* The control socket (default MODALFS_CTL_SOCKET). */
void dash_ctl_socket(const char *path);

/* All volumes, in the daemon's order; *v is malloc'd (free it). */
int dash_ctl_list(struct dash_vol **v, size_t *n, char *err);
/* The entries of directory path (or path itself if a file). */
int dash_ctl_ls(const char *vol, const char *path, struct dash_entry **e,
		size_t *n, char *err);
int dash_ctl_delete(const char *vol, bool force, char *err);
int dash_ctl_stats(struct modalfs_ctl_stats *s, char *err);

/* A download: one connection kept open across GETs of one file. */
struct dash_get {
	struct ctl_conn c;
	char vol[MODALFS_VOL_NAME_MAX + 1];
	char path[MODALFS_PATH_MAX + 1];
	uint64_t size;		/* from the first GET */
};
/* Opens the connection and reads nothing; fills g->size via a first GET. */
int dash_get_open(struct dash_get *g, const char *vol, const char *path,
		  char *err);
/* Up to max bytes at off into buf; *got 0 means end of file. */
int dash_get_read(struct dash_get *g, uint64_t off, char *buf, size_t max,
		  size_t *got, char *err);
void dash_get_close(struct dash_get *g);

#endif
