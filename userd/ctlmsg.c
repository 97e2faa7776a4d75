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
	[MODALFS_A_PATH] = { .type = MODALFS_PT_STRING, .min = 1,
			     .max = MODALFS_PATH_MAX },
	[MODALFS_A_MODE] = { .type = MODALFS_PT_U32 },
	[MODALFS_A_FLAGS] = { .type = MODALFS_PT_U32 },
	[MODALFS_A_OFFSET] = { .type = MODALFS_PT_U64 },
	[MODALFS_A_SIZE] = { .type = MODALFS_PT_U32 },
	[MODALFS_A_DATA] = { .type = MODALFS_PT_BINARY, .multi = true,
			     .min = 1, .max = MODALFS_DATA_CHUNK },
	[MODALFS_A_ATTR] = { .type = MODALFS_PT_NESTED },
	[MODALFS_A_VOLUME] = { .type = MODALFS_PT_NESTED, .multi = true },
	[MODALFS_A_EOF] = { .type = MODALFS_PT_FLAG },
	[MODALFS_A_APP_NAME] = { .type = MODALFS_PT_STRING, .min = 1,
				 .max = MODALFS_VOL_NAME_MAX },
	[MODALFS_A_ENTRY] = { .type = MODALFS_PT_NESTED, .multi = true },
	[MODALFS_A_STATS] = { .type = MODALFS_PT_NESTED },
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
	[MODALFS_VOLUME_MOUNTS] = { .type = MODALFS_PT_U32 },
	[MODALFS_VOLUME_APP_NAME] = { .type = MODALFS_PT_STRING, .min = 1,
				      .max = MODALFS_VOL_NAME_MAX },
};

const struct modalfs_pol modalfs_ctl_attr_policy[MODALFS_ATTR_MAX + 1] = {
	[MODALFS_ATTR_INO] = { .type = MODALFS_PT_U64 },
	[MODALFS_ATTR_MODE] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_NLINK] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_UID] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_GID] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_RDEV] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_SIZE] = { .type = MODALFS_PT_U64 },
	[MODALFS_ATTR_BLOCKS] = { .type = MODALFS_PT_U64 },
	[MODALFS_ATTR_ATIME_SEC] = { .type = MODALFS_PT_S64 },
	[MODALFS_ATTR_ATIME_NSEC] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_MTIME_SEC] = { .type = MODALFS_PT_S64 },
	[MODALFS_ATTR_MTIME_NSEC] = { .type = MODALFS_PT_U32 },
	[MODALFS_ATTR_CTIME_SEC] = { .type = MODALFS_PT_S64 },
	[MODALFS_ATTR_CTIME_NSEC] = { .type = MODALFS_PT_U32 },
};

const struct modalfs_pol modalfs_entry_policy[MODALFS_ENTRY_MAX + 1] = {
	[MODALFS_ENTRY_NAME] = { .type = MODALFS_PT_STRING, .min = 1,
				 .max = MODALFS_NAME_MAX },
	[MODALFS_ENTRY_ATTR] = { .type = MODALFS_PT_NESTED },
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

int modalfs_ctl_put_volume(struct nl_msg *msg,
			   const struct modalfs_ctl_volume *v)
{
	const struct modalfs_volinfo *vi = &v->vi;
	struct nlattr *nest = nla_nest_start(msg, MODALFS_A_VOLUME);

	if (!nest ||
	    nla_put_string(msg, MODALFS_VOLUME_NAME, vi->name) ||
	    nla_put_u64(msg, MODALFS_VOLUME_ID, vi->vol_id) ||
	    nla_put_string(msg, MODALFS_VOLUME_APP_ID, vi->app_id) ||
	    nla_put_u32(msg, MODALFS_VOLUME_KIND, vi->kind) ||
	    nla_put_s64(msg, MODALFS_VOLUME_CREATED, vi->created) ||
	    nla_put_u64(msg, MODALFS_VOLUME_BYTES, vi->bytes) ||
	    nla_put_u64(msg, MODALFS_VOLUME_FILES, vi->files) ||
	    nla_put_u32(msg, MODALFS_VOLUME_MOUNTS, v->mounts) ||
	    (v->app_name[0] &&
	     nla_put_string(msg, MODALFS_VOLUME_APP_NAME, v->app_name)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int modalfs_ctl_get_volume(struct nlattr *nest, struct modalfs_ctl_volume *v)
{
	struct nlattr *tb[MODALFS_VOLUME_MAX + 1];
	struct modalfs_volinfo *vi = &v->vi;

	if (modalfs_attrs_parse_nested(tb, MODALFS_VOLUME_MAX,
				       modalfs_volume_policy, nest))
		return -EINVAL;
	/* Every member but the optional APP_NAME (the last one). */
	for (int i = 1; i < MODALFS_VOLUME_APP_NAME; i++)
		if (!tb[i])
			return -EINVAL;
	memset(v, 0, sizeof(*v));
	strcpy(vi->name, nla_data(tb[MODALFS_VOLUME_NAME]));
	strcpy(vi->app_id, nla_data(tb[MODALFS_VOLUME_APP_ID]));
	vi->vol_id = nla_get_u64(tb[MODALFS_VOLUME_ID]);
	vi->kind = nla_get_u32(tb[MODALFS_VOLUME_KIND]);
	vi->created = nla_get_s64(tb[MODALFS_VOLUME_CREATED]);
	vi->bytes = nla_get_u64(tb[MODALFS_VOLUME_BYTES]);
	vi->files = nla_get_u64(tb[MODALFS_VOLUME_FILES]);
	v->mounts = nla_get_u32(tb[MODALFS_VOLUME_MOUNTS]);
	if (tb[MODALFS_VOLUME_APP_NAME])
		strcpy(v->app_name, nla_data(tb[MODALFS_VOLUME_APP_NAME]));
	return 0;
}

int modalfs_ctl_get_attr(struct nlattr *nest, struct modalfs_iattr *a)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];

	if (modalfs_attrs_parse_nested(tb, MODALFS_ATTR_MAX,
				       modalfs_ctl_attr_policy, nest))
		return -EINVAL;
	for (int i = 1; i <= MODALFS_ATTR_MAX; i++)
		if (!tb[i])
			return -EINVAL;
	a->ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
	a->mode = nla_get_u32(tb[MODALFS_ATTR_MODE]);
	a->nlink = nla_get_u32(tb[MODALFS_ATTR_NLINK]);
	a->uid = nla_get_u32(tb[MODALFS_ATTR_UID]);
	a->gid = nla_get_u32(tb[MODALFS_ATTR_GID]);
	a->rdev = nla_get_u32(tb[MODALFS_ATTR_RDEV]);
	a->size = nla_get_u64(tb[MODALFS_ATTR_SIZE]);
	a->blocks = nla_get_u64(tb[MODALFS_ATTR_BLOCKS]);
	a->atime_sec = nla_get_s64(tb[MODALFS_ATTR_ATIME_SEC]);
	a->atime_nsec = nla_get_u32(tb[MODALFS_ATTR_ATIME_NSEC]);
	a->mtime_sec = nla_get_s64(tb[MODALFS_ATTR_MTIME_SEC]);
	a->mtime_nsec = nla_get_u32(tb[MODALFS_ATTR_MTIME_NSEC]);
	a->ctime_sec = nla_get_s64(tb[MODALFS_ATTR_CTIME_SEC]);
	a->ctime_nsec = nla_get_u32(tb[MODALFS_ATTR_CTIME_NSEC]);
	return 0;
}

int modalfs_ctl_put_entry(struct nl_msg *m, const char *name,
			  const struct modalfs_iattr *a)
{
	struct nlattr *nest = nla_nest_start(m, MODALFS_A_ENTRY);

	if (!nest || nla_put_string(m, MODALFS_ENTRY_NAME, name) ||
	    modalfs_attrs_put_iattr(m, MODALFS_ENTRY_ATTR, a))
		return -EMSGSIZE;
	nla_nest_end(m, nest);
	return 0;
}

int modalfs_ctl_get_entry(struct nlattr *nest, char *name,
			  struct modalfs_iattr *a)
{
	struct nlattr *tb[MODALFS_ENTRY_MAX + 1];

	if (modalfs_attrs_parse_nested(tb, MODALFS_ENTRY_MAX,
				       modalfs_entry_policy, nest) ||
	    !tb[MODALFS_ENTRY_NAME] || !tb[MODALFS_ENTRY_ATTR])
		return -EINVAL;
	strcpy(name, nla_data(tb[MODALFS_ENTRY_NAME]));
	return modalfs_ctl_get_attr(tb[MODALFS_ENTRY_ATTR], a);
}
