// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "ctlmsg.h"

const struct modalfs_pol modalfs_ctl_policy[MODALFS_A_MAX + 1] = {
	[MODALFS_A_ERRNO] = { .type = MODALFS_PT_U32 },
	[MODALFS_A_ERRMSG] = { .type = MODALFS_PT_STRING, .min = 0,
			       .max = MODALFS_ERRMSG_MAX },
	[MODALFS_A_VOL_NAME] = { .type = MODALFS_PT_STRING, .min = 1,
				 .max = MODALFS_VOL_NAME_MAX },
	[MODALFS_A_VOL_ID] = { .type = MODALFS_PT_U64 },
	[MODALFS_A_APP_ID] = { .type = MODALFS_PT_STRING, .min = 1,
			       .max = MODALFS_APP_ID_MAX },
	[MODALFS_A_VOLUME] = { .type = MODALFS_PT_NESTED, .multi = true },
	[MODALFS_A_EOF] = { .type = MODALFS_PT_FLAG },
};

const struct modalfs_pol modalfs_volume_policy[MODALFS_VOLUME_MAX + 1] = {
	[MODALFS_VOLUME_NAME] = { .type = MODALFS_PT_STRING, .min = 1,
				  .max = MODALFS_VOL_NAME_MAX },
	[MODALFS_VOLUME_ID] = { .type = MODALFS_PT_U64 },
	[MODALFS_VOLUME_APP_ID] = { .type = MODALFS_PT_STRING, .min = 1,
				    .max = MODALFS_APP_ID_MAX },
	[MODALFS_VOLUME_KIND] = { .type = MODALFS_PT_U32 },
	[MODALFS_VOLUME_CREATED] = { .type = MODALFS_PT_S64 },
	[MODALFS_VOLUME_BYTES] = { .type = MODALFS_PT_U64 },
	[MODALFS_VOLUME_FILES] = { .type = MODALFS_PT_U64 },
};

struct nl_msg *modalfs_ctlmsg_new(uint8_t cmd, uint32_t seq, bool request)
{
	struct nl_msg *msg = nlmsg_alloc_size(MODALFS_CTL_DGRAM_MAX);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, 0, seq, MODALFS_CTL_NLMSG_TYPE, 0,
			 request ? NLM_F_REQUEST : 0, cmd,
			 MODALFS_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int modalfs_ctlmsg_send(int fd, struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	ssize_t n = send(fd, h, h->nlmsg_len, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == h->nlmsg_len ? 0 : -EIO;
}

int modalfs_ctlmsg_parse(void *buf, size_t len, struct nlmsghdr **nlhp,
			 uint8_t *cmd, struct nlattr **tb)
{
	struct nlmsghdr *nlh = buf;
	struct genlmsghdr *g;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_len != len ||
	    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE)
		return -EINVAL;
	g = nlmsg_data(nlh);
	if (g->version != MODALFS_GENL_VERSION || g->cmd == 0 ||
	    g->cmd > MODALFS_CTL_MAX)
		return -EINVAL;
	if (modalfs_attrs_parse(tb, MODALFS_A_MAX, modalfs_ctl_policy,
				genlmsg_attrdata(g, 0),
				genlmsg_attrlen(g, 0)))
		return -EINVAL;
	*nlhp = nlh;
	*cmd = g->cmd;
	return 0;
}

int modalfs_ctl_put_volume(struct nl_msg *msg, const struct modalfs_volinfo *vi)
{
	struct nlattr *nest = nla_nest_start(msg, MODALFS_A_VOLUME);

	if (!nest ||
	    nla_put_string(msg, MODALFS_VOLUME_NAME, vi->name) ||
	    nla_put_u64(msg, MODALFS_VOLUME_ID, vi->vol_id) ||
	    nla_put_string(msg, MODALFS_VOLUME_APP_ID, vi->app_id) ||
	    nla_put_u32(msg, MODALFS_VOLUME_KIND, vi->kind) ||
	    nla_put_s64(msg, MODALFS_VOLUME_CREATED, vi->created) ||
	    nla_put_u64(msg, MODALFS_VOLUME_BYTES, vi->bytes) ||
	    nla_put_u64(msg, MODALFS_VOLUME_FILES, vi->files))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int modalfs_ctl_get_volume(struct nlattr *nest, struct modalfs_volinfo *vi)
{
	struct nlattr *tb[MODALFS_VOLUME_MAX + 1];

	if (modalfs_attrs_parse_nested(tb, MODALFS_VOLUME_MAX,
				       modalfs_volume_policy, nest))
		return -EINVAL;
	for (int i = 1; i <= MODALFS_VOLUME_MAX; i++)
		if (!tb[i])
			return -EINVAL;
	memset(vi, 0, sizeof(*vi));
	strcpy(vi->name, nla_data(tb[MODALFS_VOLUME_NAME]));
	strcpy(vi->app_id, nla_data(tb[MODALFS_VOLUME_APP_ID]));
	vi->vol_id = nla_get_u64(tb[MODALFS_VOLUME_ID]);
	vi->kind = nla_get_u32(tb[MODALFS_VOLUME_KIND]);
	vi->created = nla_get_s64(tb[MODALFS_VOLUME_CREATED]);
	vi->bytes = nla_get_u64(tb[MODALFS_VOLUME_BYTES]);
	vi->files = nla_get_u64(tb[MODALFS_VOLUME_FILES]);
	return 0;
}
