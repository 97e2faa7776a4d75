/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_FAULT_H
#define MODALFS_FAULT_H
/*
 * Test-only fault injection at the kernel channel, off unless the daemon
 * is started with MODALFSD_FAULT in its environment. The test suite uses
 * it to show that its checkers (fsx, stress, mfs-posix, the VM scripts)
 * fail on a broken filesystem. A comma-separated list of:
 *
 *   READ_FLIP      flip one byte in the data of every READ reply
 *   READDIR_DROP   drop the first entry of every READDIR reply that
 *                  carries two or more (the entry is never listed)
 *   EIO=OP[:NAME]  answer EIO, without running it, to every request of
 *                  OP (LOOKUP, RENAME, READ, ...) or only to those whose
 *                  NAME or NEW_NAME is NAME
 */
#include <stdbool.h>
#include <stdint.h>
#include <netlink/msg.h>

#define MODALFS_FAULT_EIO_MAX 8

struct modalfs_fault {
	bool active;
	bool read_flip;
	bool readdir_drop;
	int neio;
	struct {
		uint32_t op;
		char name[256];	/* "" matches any request of op */
	} eio[MODALFS_FAULT_EIO_MAX];
};

/* Parses spec (NULL or "" = no faults). 0, or EINVAL with *f inactive. */
int modalfs_fault_parse(struct modalfs_fault *f, const char *spec);

/*
 * Before a request runs: a reply that replaces running it (an EIO, and
 * *req_id set) or NULL to run it normally.
 */
struct nl_msg *modalfs_fault_request(const struct modalfs_fault *f,
				     const struct nlmsghdr *req, int family,
				     uint64_t *req_id);

/* After it ran: returns the reply to send, *reply or a replacement. */
struct nl_msg *modalfs_fault_reply(const struct modalfs_fault *f,
				   const struct nlmsghdr *req,
				   struct nl_msg *reply);
#endif
