/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_GENL_H
#define MODALFS_GENL_H

#include "store.h"

/*
 * Starts the kernel channel: a thread that resolves the "modalfs" genl
 * family (retrying every second while it is absent), registers, and feeds
 * REQUESTs to `threads` workers. On a registration error that retrying
 * cannot fix it calls fatal(exit_code) from that thread, and each time
 * it has registered it calls registered() (may be NULL) from it.
 */
int modalfs_genl_start(struct modalfs_store *st, int threads,
		       void (*fatal)(int code), void (*registered)(void));
/* Stops receiving, lets workers answer what they hold, closes the socket. */
void modalfs_genl_stop(void);

/*
 * Sends MODALFS_CMD_NOTIFY (type = MODALFS_NOTIFY_*) to the kernel from the
 * registered socket. name is NULL except for MODALFS_NOTIFY_INVAL_ENTRY.
 * Safe from any thread. Returns 0, or -errno (-ENOTCONN when not
 * registered with the kernel).
 */
int modalfs_genl_notify(uint32_t type, uint64_t vol, uint64_t ino,
			const char *name);

#endif
