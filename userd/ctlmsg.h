/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Control channel messages (header section 5), shared by modalfsd and
 * modalfsctl. Datagrams are plain nlmsghdr + genlmsghdr + attributes built
 * with libnl and sent as raw bytes over the unix SOCK_SEQPACKET socket.
 */
#ifndef MODALFS_CTLMSG_H
#define MODALFS_CTLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netlink/msg.h>

#include "attrs.h"
#include "store.h"

/* nlmsg_type of control datagrams: there is no genl family id here. */
#define MODALFS_CTL_NLMSG_TYPE	0x20
/* Largest control datagram either side sends or accepts (a full PUT/GET). */
#define MODALFS_CTL_DGRAM_MAX	MODALFS_CTL_MSG_MAX
/* LIST and LS replies are cut into datagrams of about this size. */
#define MODALFS_CTL_LIST_CHUNK	8192

extern const struct modalfs_pol modalfs_ctl_policy[MODALFS_A_MAX + 1];
extern const struct modalfs_pol modalfs_volume_policy[MODALFS_VOLUME_MAX + 1];
extern const struct modalfs_pol modalfs_ctl_attr_policy[MODALFS_ATTR_MAX + 1];
extern const struct modalfs_pol modalfs_entry_policy[MODALFS_ENTRY_MAX + 1];

/* One volume of a control reply: the store's view plus what ctl adds. */
struct modalfs_ctl_volume {
	struct modalfs_volinfo vi;
	uint32_t mounts;
	char app_name[MODALFS_VOL_NAME_MAX + 1];	/* "" if none */
};

struct nl_msg *modalfs_ctlmsg_new(uint8_t cmd, uint32_t seq, bool request);
/* Sends the message as one datagram; 0 or -errno. */
int modalfs_ctlmsg_send(int fd, struct nl_msg *msg);
/*
 * Validates one received datagram of len bytes: header, version, command
 * range, and attributes against modalfs_ctl_policy. Returns 0 or -EINVAL.
 */
int modalfs_ctlmsg_parse(void *buf, size_t len, struct nlmsghdr **nlh,
			 uint8_t *cmd, struct nlattr **tb);
int modalfs_ctl_put_volume(struct nl_msg *msg,
			   const struct modalfs_ctl_volume *v);
int modalfs_ctl_get_volume(struct nlattr *nest, struct modalfs_ctl_volume *v);
int modalfs_ctl_get_attr(struct nlattr *nest, struct modalfs_iattr *a);
int modalfs_ctl_put_entry(struct nl_msg *msg, const char *name,
			  const struct modalfs_iattr *a);
/* name must hold MODALFS_NAME_MAX + 1 bytes. */
int modalfs_ctl_get_entry(struct nlattr *nest, char *name,
			  struct modalfs_iattr *a);

#endif
