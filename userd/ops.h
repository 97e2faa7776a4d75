/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_OPS_H
#define MODALFS_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <netlink/msg.h>

#include "store.h"

/*
 * Decodes one MODALFS_CMD_REQUEST (nlh points at a complete message of
 * nlh->nlmsg_len bytes), runs it against the store and returns the REPLY
 * message addressed to genl family id `family`, ready to send. Returns NULL
 * when the request is too malformed to name a request id (it is dropped;
 * the kernel times nothing out on it, so this only happens on a kernel bug)
 * or when memory runs out. *req_id is set when known (0 otherwise).
 */
struct nl_msg *modalfs_ops_handle(struct modalfs_store *st,
				  const struct nlmsghdr *nlh, int family,
				  uint64_t *req_id);

/*
 * The same, for a caller that can take the reply later: a write op is
 * queued to the store's writer thread and NULL returned with *pending
 * set; done(ctx, reply, req_id) is called once, on the writer thread,
 * after its batch committed (reply NULL as above). It must only hand the
 * reply on (it must not call into the store). Any other request is
 * answered at once, as by modalfs_ops_handle, with *pending false. nlh
 * must stay valid until the reply is known.
 */
typedef void (*modalfs_ops_done)(void *ctx, struct nl_msg *reply,
				 uint64_t req_id);
struct nl_msg *modalfs_ops_submit(struct modalfs_store *st,
				  const struct nlmsghdr *nlh, int family,
				  uint64_t *req_id, modalfs_ops_done done,
				  void *ctx, bool *pending);

/*
 * A bare REPLY carrying only err for req_id: what the daemon answers when
 * the real reply cannot be built or sent, so no caller waits forever.
 */
struct nl_msg *modalfs_ops_error_reply(int family, uint64_t req_id, int err);

/* The errno a decoded request failed with, for tests: reads a REPLY. */
int modalfs_ops_reply_errno(struct nl_msg *reply);

#endif
