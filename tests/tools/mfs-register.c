// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-register: send one MODALFS_CMD_REGISTER to the kernel and print the
 * outcome, "registered" or the errno name of the netlink ack (EPERM, ...).
 * Exit 0 iff registered. With --hold SECS the registration is kept that
 * long (the kernel ends it when the socket closes).
 *
 * Tests run it as an unprivileged user to prove that only CAP_SYS_ADMIN
 * can act as the daemon, so it must not need anything else than libnl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "../../netlink/modalfs.h"

struct outcome {
	int done;
	int error;	/* 0 or a positive errno */
};

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct outcome *o = arg;

	(void)nla;
	o->done = 1;
	o->error = -err->error;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct outcome *o = arg;

	(void)msg;
	o->done = 1;
	o->error = 0;
	return NL_STOP;
}

/* Requests the kernel may send once we are registered are not ours to answer. */
static int on_valid(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_SKIP;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

int main(int argc, char **argv)
{
	struct outcome o = { 0, 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	struct nl_cb *cb;
	unsigned int version = MODALFS_GENL_VERSION;
	int hold = 0, family, err, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			hold = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
			version = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--hold SECS] [--version N]\n", argv[0]);
			return 2;
		}
	}

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) < 0) {
		fprintf(stderr, "mfs-register: cannot open a generic netlink socket\n");
		return 2;
	}
	family = genl_ctrl_resolve(sk, MODALFS_GENL_NAME);
	if (family < 0) {
		printf("ENOENT\n");
		fprintf(stderr, "mfs-register: no generic netlink family \"%s\" (module not loaded?)\n",
			MODALFS_GENL_NAME);
		return 1;
	}

	msg = nlmsg_alloc();
	if (!msg ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_ACK,
			 MODALFS_CMD_REGISTER, MODALFS_GENL_VERSION) ||
	    nla_put_u32(msg, MODALFS_A_VERSION, version) < 0) {
		fprintf(stderr, "mfs-register: out of memory\n");
		return 2;
	}
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		fprintf(stderr, "mfs-register: send failed: %s\n", nl_geterror(err));
		return 2;
	}

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return 2;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &o);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &o);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, NULL);
	while (!o.done) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && !o.done) {
			fprintf(stderr, "mfs-register: receive failed: %s\n", nl_geterror(err));
			return 2;
		}
	}
	nl_cb_put(cb);

	if (o.error) {
		printf("%s\n", errname(o.error));
		return 1;
	}
	printf("registered\n");
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned int)hold);
	nl_socket_free(sk);
	return 0;
}
