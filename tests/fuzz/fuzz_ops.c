// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the daemon's kernel request decoding and dispatch
 * (userd/ops.c, attrs.c) against a scratch store. The input is what
 * follows the nlmsghdr (genlmsghdr + attributes); the netlink layer
 * guarantees nlmsg_len, so the harness sets it from the input size.
 * Every request must produce a reply of at most MODALFS_MSG_MAX bytes or
 * be dropped, and the store must stay consistent.
 */
#include <stdint.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/ops.h"
#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr *nlh;
	struct nl_msg *reply;
	uint64_t id;

	if (size > MODALFS_MSG_MAX)
		return -1;
	nlh = malloc(NLMSG_HDRLEN + size);
	if (!nlh)
		return 0;
	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN + size;
	nlh->nlmsg_type = FUZZ_FAMILY;
	memcpy(nlmsg_data(nlh), data, size);
	reply = modalfs_ops_handle(fuzz_st, nlh, FUZZ_FAMILY, &id);
	if (reply) {
		struct nlmsghdr *r = nlmsg_hdr(reply);
		int err = modalfs_ops_reply_errno(reply);

		if (r->nlmsg_len > MODALFS_MSG_MAX || err < 0 || err >= 4096 ||
		    !id) {
			fprintf(stderr, "bad reply: len %u errno %d id %llu\n",
				r->nlmsg_len, err, (unsigned long long)id);
			abort();
		}
		nlmsg_free(reply);
	}
	free(nlh);
	/* Now and then: every invariant still holds. */
	if (++runs % 4096 == 0 && modalfs_store_check_open(fuzz_st, stderr)) {
		fprintf(stderr, "store inconsistent after %lu runs\n", runs);
		abort();
	}
	return 0;
}
