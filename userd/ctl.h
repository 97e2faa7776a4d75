/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_CTL_H
#define MODALFS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/*
 * Creates the socket (parent dir 0755, socket 0666) and serves it, and
 * starts the reaper thread, which first finishes interrupted volume
 * deletions and then, every second, stops anonymous apps whose owner
 * process is gone.
 */
int modalfs_ctl_start(struct modalfs_store *st, const char *path);
void modalfs_ctl_stop(void);

/*
 * Answers one request datagram from a peer (its SO_PEERCRED), writing the
 * reply datagrams to fd. Returns 0, or -EINVAL when the datagram is not a
 * control message at all (the connection should be closed).
 */
int modalfs_ctl_handle_peer(struct modalfs_store *st, int fd, void *buf,
			    size_t len, pid_t pid, uid_t uid, gid_t gid);
/* The same for a peer known by uid only (no anonymous apps). */
int modalfs_ctl_handle(struct modalfs_store *st, int fd, void *buf,
		       size_t len, uid_t uid);

/*
 * One reaper pass: stops anonymous apps whose owner is gone (apps with a
 * mounted volume are left for a later pass) and deletes ephemeral volumes
 * whose app does not exist. Returns how many it stopped or deleted, or
 * -errno.
 */
int modalfs_ctl_reap(struct modalfs_store *st);

/* Field 22 (start time) of /proc/PID/stat; zombie: state Z or X. */
int modalfs_ctl_proc_start(pid_t pid, uint64_t *start, bool *zombie);
/*
 * For one /proc/PID/mountinfo line: 1 and the volume name if it is a
 * modalfs mount ("... - modalfs NAME:/path ..."), else 0.
 */
int modalfs_ctl_mountinfo_volume(const char *line, char *name);
/* Mounts of volume name on this host, over all mount namespaces. */
int modalfs_ctl_mount_count(const char *name, uint32_t *n);

#endif
