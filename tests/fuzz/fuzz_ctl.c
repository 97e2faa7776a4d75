// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: control-channel datagram decoding and handling
 * (userd/ctl.c, ctlmsg.c) as root against a scratch store. The input is a
 * whole datagram, nlmsghdr included, as modalfsctl would send it; replies
 * go to one end of a socketpair and are drained after each input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../../userd/ctl.h"
#include "../../userd/ctlmsg.h"
#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sv[2];
static void *rbuf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int sz = 4 << 20;

	(void)argc;
	(void)argv;
	fuzz_store_init();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		fuzz_die("socketpair", errno);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* A reply that does not fit fails instead of blocking forever. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	rbuf = malloc(MODALFS_CTL_DGRAM_MAX);
	if (!rbuf)
		fuzz_die("malloc", ENOMEM);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *buf;

	if (size > MODALFS_CTL_DGRAM_MAX)
		return -1;
	/* Exactly the datagram, so ASan sees any read past its end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	modalfs_ctl_handle(fuzz_st, sv[0], buf, size, 0);
	free(buf);
	for (;;) {
		struct nlattr *tb[MODALFS_A_MAX + 1];
		struct nlmsghdr *nlh;
		struct genlmsghdr *g;
		ssize_t n = recv(sv[1], rbuf, MODALFS_CTL_DGRAM_MAX, 0);

		if (n <= 0)
			break;
		/*
		 * What the daemon sends must be well formed. The .cmd of a
		 * reply echoes the request's, even an unknown one, so only
		 * header and attributes are checked.
		 */
		nlh = rbuf;
		g = nlmsg_data(nlh);
		if ((size_t)n < NLMSG_HDRLEN + GENL_HDRLEN ||
		    nlh->nlmsg_len != (size_t)n ||
		    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE ||
		    g->version != MODALFS_GENL_VERSION ||
		    modalfs_attrs_parse(tb, MODALFS_A_MAX, modalfs_ctl_policy,
					genlmsg_attrdata(g, 0),
					genlmsg_attrlen(g, 0)) ||
		    !tb[MODALFS_A_ERRNO]) {
			fprintf(stderr, "malformed control reply (%zd bytes)\n",
				n);
			abort();
		}
	}
	return 0;
}
