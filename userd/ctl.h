/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_CTL_H
#define MODALFS_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include "store.h"

/* Creates the socket (parent dir 0755, socket 0666) and serves it. */
int modalfs_ctl_start(struct modalfs_store *st, const char *path);
void modalfs_ctl_stop(void);

/*
 * Answers one request datagram from a peer with uid `uid`, writing the
 * reply datagrams to fd. Returns 0, or -EINVAL when the datagram is not a
 * control message at all (the connection should be closed).
 */
int modalfs_ctl_handle(struct modalfs_store *st, int fd, void *buf,
		       size_t len, uid_t uid);

#endif
