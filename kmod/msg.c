// SPDX-License-Identifier: GPL-2.0
/*
 * Encoding of requests and decoding/validation of replies. Nothing here
 * touches the filesystem or the channel, so the KUnit module compiles this
 * file as is.
 *
 * The daemon is not trusted: every reply is checked against the policies
 * below (genetlink does that before the REPLY handler runs) and then
 * against what the request asked for (modalfs_reply_check), so that a
 * malformed reply ends the request with EIO instead of reaching the VFS.
 */
#include <linux/errno.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/xattr.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "modalfs_i.h"

static struct netlink_range_validation modalfs_data_range = {
	.min = 1,
	.max = MODALFS_DATA_CHUNK,
};

static struct netlink_range_validation modalfs_nsec_range = {
	.min = 0,
	.max = NSEC_PER_SEC - 1,
};

static struct netlink_range_validation modalfs_size_range = {
	.min = 0,
	.max = S64_MAX,
};

const struct nla_policy modalfs_attr_policy[MODALFS_ATTR_MAX + 1] = {
	[MODALFS_ATTR_INO]	  = NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_ATTR_MODE]	  = { .type = NLA_U32 },
	[MODALFS_ATTR_NLINK]	  = { .type = NLA_U32 },
	[MODALFS_ATTR_UID]	  = { .type = NLA_U32 },
	[MODALFS_ATTR_GID]	  = { .type = NLA_U32 },
	[MODALFS_ATTR_RDEV]	  = { .type = NLA_U32 },
	[MODALFS_ATTR_SIZE]	  = NLA_POLICY_FULL_RANGE(NLA_U64,
							  &modalfs_size_range),
	[MODALFS_ATTR_BLOCKS]	  = { .type = NLA_U64 },
	[MODALFS_ATTR_ATIME_SEC]  = { .type = NLA_S64 },
	[MODALFS_ATTR_ATIME_NSEC] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &modalfs_nsec_range),
	[MODALFS_ATTR_MTIME_SEC]  = { .type = NLA_S64 },
	[MODALFS_ATTR_MTIME_NSEC] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &modalfs_nsec_range),
	[MODALFS_ATTR_CTIME_SEC]  = { .type = NLA_S64 },
	[MODALFS_ATTR_CTIME_NSEC] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &modalfs_nsec_range),
};

const struct nla_policy modalfs_statfs_policy[MODALFS_STATFS_MAX + 1] = {
	[MODALFS_STATFS_BSIZE]	 = NLA_POLICY_MIN(NLA_U32, 1),
	[MODALFS_STATFS_BLOCKS]	 = { .type = NLA_U64 },
	[MODALFS_STATFS_BFREE]	 = { .type = NLA_U64 },
	[MODALFS_STATFS_BAVAIL]	 = { .type = NLA_U64 },
	[MODALFS_STATFS_FILES]	 = { .type = NLA_U64 },
	[MODALFS_STATFS_FFREE]	 = { .type = NLA_U64 },
	[MODALFS_STATFS_NAMELEN] = NLA_POLICY_MAX(NLA_U32, MODALFS_NAME_MAX),
};

const struct nla_policy modalfs_dirent_policy[MODALFS_DIRENT_MAX + 1] = {
	[MODALFS_DIRENT_INO]	= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_DIRENT_TYPE]	= NLA_POLICY_MAX(NLA_U32, 15),
	[MODALFS_DIRENT_COOKIE]	= NLA_POLICY_MIN(NLA_U64,
						 MODALFS_DIR_COOKIE_FIRST),
	[MODALFS_DIRENT_NAME]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_NAME_MAX },
	[MODALFS_DIRENT_ATTR]	= NLA_POLICY_NESTED(modalfs_attr_policy),
};

const struct nla_policy modalfs_genl_policy[MODALFS_A_MAX + 1] = {
	[MODALFS_A_VERSION]	= { .type = NLA_U32 },
	[MODALFS_A_REQ_ID]	= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_OP]		= NLA_POLICY_RANGE(NLA_U32, 1, MODALFS_OP_MAX),
	[MODALFS_A_ERRNO]	= NLA_POLICY_MAX(NLA_U32, 4095),
	[MODALFS_A_ERRMSG]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_ERRMSG_MAX },
	[MODALFS_A_VOL_NAME]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_VOL_NAME_MAX },
	[MODALFS_A_VOL_ID]	= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_PATH]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_PATH_MAX },
	[MODALFS_A_INO]		= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_NAME]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_NAME_MAX },
	[MODALFS_A_NEW_INO]	= NLA_POLICY_MIN(NLA_U64, 1),
	[MODALFS_A_NEW_NAME]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_NAME_MAX },
	[MODALFS_A_TARGET]	= { .type = NLA_NUL_STRING,
				    .len = MODALFS_SYMLINK_MAX },
	[MODALFS_A_MODE]	= { .type = NLA_U32 },
	[MODALFS_A_UID]		= { .type = NLA_U32 },
	[MODALFS_A_GID]		= { .type = NLA_U32 },
	[MODALFS_A_RDEV]	= { .type = NLA_U32 },
	[MODALFS_A_FLAGS]	= NLA_POLICY_MASK(NLA_U32,
						  MODALFS_RENAME_FLAGS |
						  MODALFS_FSYNC_FLAGS |
						  MODALFS_XATTR_FLAGS),
	[MODALFS_A_OFFSET]	= { .type = NLA_U64 },
	[MODALFS_A_SIZE]	= { .type = NLA_U32 },
	[MODALFS_A_DATA]	= { .type = NLA_BINARY,
				    .len = MODALFS_DATA_CHUNK,
				    .validation_type = NLA_VALIDATE_RANGE_PTR,
				    .range = &modalfs_data_range },
	[MODALFS_A_ATTR]	= NLA_POLICY_NESTED(modalfs_attr_policy),
	[MODALFS_A_SETATTR]	= NLA_POLICY_NESTED(modalfs_attr_policy),
	[MODALFS_A_STATFS]	= NLA_POLICY_NESTED(modalfs_statfs_policy),
	[MODALFS_A_DIRENT]	= NLA_POLICY_NESTED(modalfs_dirent_policy),
	[MODALFS_A_EOF]		= { .type = NLA_FLAG },
	/* Control-channel only; the kernel family refuses them. */
	[MODALFS_A_APP_ID]	= { .type = NLA_REJECT },
	[MODALFS_A_VOLUME]	= { .type = NLA_REJECT },
	[MODALFS_A_DIR_ATTR]	= NLA_POLICY_NESTED(modalfs_attr_policy),
	[MODALFS_A_NEW_DIR_ATTR] = NLA_POLICY_NESTED(modalfs_attr_policy),
};

/*
 * Writes the netlink and genl headers plus REQ_ID and OP. Written by hand
 * rather than with genlmsg_put() so that it needs no registered family.
 */
int modalfs_msg_init(struct sk_buff *skb, int family_id, u8 cmd, u64 id,
		     u32 op)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *hdr;

	nlh = nlmsg_put(skb, 0, 0, family_id, GENL_HDRLEN, 0);
	if (!nlh)
		return -EMSGSIZE;
	hdr = nlmsg_data(nlh);
	hdr->cmd = cmd;
	hdr->version = MODALFS_GENL_VERSION;
	hdr->reserved = 0;
	if (modalfs_put_u64(skb, MODALFS_A_REQ_ID, id))
		return -EMSGSIZE;
	if (op && nla_put_u32(skb, MODALFS_A_OP, op))
		return -EMSGSIZE;
	return 0;
}

/* The same strict parse genetlink applies to an incoming message. */
int modalfs_msg_parse(const struct nlmsghdr *nlh, struct nlattr **tb,
		      struct netlink_ext_ack *extack)
{
	if (nlh->nlmsg_len < nlmsg_msg_size(GENL_HDRLEN))
		return -EINVAL;
	return __nla_parse(tb, MODALFS_A_MAX, nlmsg_attrdata(nlh, GENL_HDRLEN),
			   nlmsg_attrlen(nlh, GENL_HDRLEN), modalfs_genl_policy,
			   NL_VALIDATE_STRICT, extack);
}

int modalfs_put_u64(struct sk_buff *skb, int type, u64 v)
{
	/* x86-64 and arm64 never need the pad attribute. */
	return nla_put_u64_64bit(skb, type, v, MODALFS_A_UNSPEC);
}

/* Puts a name that is not necessarily NUL-terminated (a qstr). */
int modalfs_put_name(struct sk_buff *skb, int type, const char *name,
		     size_t len)
{
	struct nlattr *nla;

	nla = nla_reserve(skb, type, len + 1);
	if (!nla)
		return -EMSGSIZE;
	memcpy(nla_data(nla), name, len);
	((char *)nla_data(nla))[len] = '\0';
	return 0;
}

bool modalfs_mode_valid(u32 mode)
{
	if (mode & ~(u32)(S_IFMT | S_IALLUGO))
		return false;
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return true;
	}
	return false;
}

static struct timespec64 modalfs_ts(struct nlattr **tb, int sec, int nsec)
{
	struct timespec64 ts = {
		.tv_sec = nla_get_s64(tb[sec]),
		.tv_nsec = nla_get_u32(tb[nsec]),
	};
	return ts;
}

int modalfs_attr_decode(const struct nlattr *nest, struct modalfs_attr_val *v)
{
	struct nlattr *tb[MODALFS_ATTR_MAX + 1];
	int i, err;

	if (!nest)
		return -EIO;
	err = nla_parse_nested(tb, MODALFS_ATTR_MAX, nest, modalfs_attr_policy,
			       NULL);
	if (err)
		return -EIO;
	for (i = 1; i <= MODALFS_ATTR_MAX; i++)
		if (!tb[i])
			return -EIO;
	v->ino = nla_get_u64(tb[MODALFS_ATTR_INO]);
	v->mode = nla_get_u32(tb[MODALFS_ATTR_MODE]);
	v->nlink = nla_get_u32(tb[MODALFS_ATTR_NLINK]);
	v->uid = nla_get_u32(tb[MODALFS_ATTR_UID]);
	v->gid = nla_get_u32(tb[MODALFS_ATTR_GID]);
	v->rdev = nla_get_u32(tb[MODALFS_ATTR_RDEV]);
	v->size = nla_get_u64(tb[MODALFS_ATTR_SIZE]);
	v->blocks = nla_get_u64(tb[MODALFS_ATTR_BLOCKS]);
	v->atime = modalfs_ts(tb, MODALFS_ATTR_ATIME_SEC,
			      MODALFS_ATTR_ATIME_NSEC);
	v->mtime = modalfs_ts(tb, MODALFS_ATTR_MTIME_SEC,
			      MODALFS_ATTR_MTIME_NSEC);
	v->ctime = modalfs_ts(tb, MODALFS_ATTR_CTIME_SEC,
			      MODALFS_ATTR_CTIME_NSEC);
	/* The policy checks ranges; these are the semantic checks. */
	/*
	 * An nlink near U32_MAX would wrap in inc_nlink() on the next link
	 * and then trip drop_nlink()'s WARN; no real file has 2^31 links.
	 */
	if (!v->ino || !modalfs_mode_valid(v->mode) || v->size > S64_MAX ||
	    v->nlink > INT_MAX ||
	    v->atime.tv_nsec >= NSEC_PER_SEC ||
	    v->mtime.tv_nsec >= NSEC_PER_SEC ||
	    v->ctime.tv_nsec >= NSEC_PER_SEC)
		return -EIO;
	return 0;
}

int modalfs_statfs_decode(const struct nlattr *nest,
			  struct modalfs_statfs_val *v)
{
	struct nlattr *tb[MODALFS_STATFS_MAX + 1];
	int i;

	if (!nest || nla_parse_nested(tb, MODALFS_STATFS_MAX, nest,
				      modalfs_statfs_policy, NULL))
		return -EIO;
	for (i = 1; i <= MODALFS_STATFS_MAX; i++)
		if (!tb[i])
			return -EIO;
	v->bsize = nla_get_u32(tb[MODALFS_STATFS_BSIZE]);
	v->blocks = nla_get_u64(tb[MODALFS_STATFS_BLOCKS]);
	v->bfree = nla_get_u64(tb[MODALFS_STATFS_BFREE]);
	v->bavail = nla_get_u64(tb[MODALFS_STATFS_BAVAIL]);
	v->files = nla_get_u64(tb[MODALFS_STATFS_FILES]);
	v->ffree = nla_get_u64(tb[MODALFS_STATFS_FFREE]);
	v->namelen = nla_get_u32(tb[MODALFS_STATFS_NAMELEN]);
	if (!v->bsize || v->bfree > v->blocks || v->bavail > v->bfree ||
	    v->ffree > v->files)
		return -EIO;
	return 0;
}

int modalfs_dirent_decode(const struct nlattr *nest,
			  struct modalfs_dirent_val *v)
{
	struct nlattr *tb[MODALFS_DIRENT_MAX + 1];
	int i;

	if (!nest || nla_parse_nested(tb, MODALFS_DIRENT_MAX, nest,
				      modalfs_dirent_policy, NULL))
		return -EIO;
	for (i = MODALFS_DIRENT_INO; i <= MODALFS_DIRENT_NAME; i++)
		if (!tb[i])
			return -EIO;
	v->attr = tb[MODALFS_DIRENT_ATTR];
	v->ino = nla_get_u64(tb[MODALFS_DIRENT_INO]);
	v->type = nla_get_u32(tb[MODALFS_DIRENT_TYPE]);
	v->cookie = nla_get_u64(tb[MODALFS_DIRENT_COOKIE]);
	v->name = nla_data(tb[MODALFS_DIRENT_NAME]);
	v->namelen = strnlen(v->name, nla_len(tb[MODALFS_DIRENT_NAME]));
	if (!v->ino || v->cookie < MODALFS_DIR_COOKIE_FIRST ||
	    v->cookie > S64_MAX || v->type > 15 ||
	    modalfs_valid_file_name(v->name, v->namelen))
		return -EIO;
	return 0;
}

static int modalfs_check_attr(const struct modalfs_expect *exp,
			      struct nlattr **tb)
{
	struct modalfs_attr_val v;

	if (modalfs_attr_decode(tb[MODALFS_A_ATTR], &v))
		return -EIO;
	if (exp->ino && v.ino != exp->ino)
		return -EIO;
	if (exp->type && (v.mode & S_IFMT) != exp->type)
		return -EIO;
	return 0;
}

/*
 * An ATTR describing an inode that a directory entry names (LOOKUP, the
 * creating ops, LINK, MOUNT): it has at least one link. The dcache and
 * the link counting in dir.c rely on that, as FUSE's does.
 */
static int modalfs_check_linked_attr(const struct modalfs_expect *exp,
				     struct nlattr **tb)
{
	struct modalfs_attr_val v;

	if (modalfs_check_attr(exp, tb))
		return -EIO;
	modalfs_attr_decode(tb[MODALFS_A_ATTR], &v);
	return v.nlink ? 0 : -EIO;
}

/*
 * The optional attributes of the directories a namespace op changed
 * (DIR_ATTR, RENAME's NEW_DIR_ATTR): when present, a directory, and the
 * one the request named (exp->dir_ino, exp->new_dir_ino; 0: any).
 */
static int modalfs_check_dir_attr(const struct nlattr *nest, u64 ino)
{
	struct modalfs_attr_val v;

	if (!nest)
		return 0;
	if (modalfs_attr_decode(nest, &v) || !S_ISDIR(v.mode) ||
	    (ino && v.ino != ino))
		return -EIO;
	return 0;
}

static int modalfs_check_dir_attrs(u32 op, const struct modalfs_expect *exp,
				   struct nlattr **tb)
{
	if (op != MODALFS_OP_RENAME && tb[MODALFS_A_NEW_DIR_ATTR])
		return -EIO;
	if (modalfs_check_dir_attr(tb[MODALFS_A_DIR_ATTR], exp->dir_ino) ||
	    modalfs_check_dir_attr(tb[MODALFS_A_NEW_DIR_ATTR],
				   exp->new_dir_ino))
		return -EIO;
	return 0;
}

/*
 * DATA chunks of a reply: each 1..DATA_CHUNK bytes, only the last one
 * short, at most exp->size bytes together. *total gets the sum.
 */
static int modalfs_check_data(const struct modalfs_expect *exp,
			      const struct nlattr *head, int len, u64 *total)
{
	const struct nlattr *nla;
	bool short_seen = false;
	int rem;

	*total = 0;
	nla_for_each_attr(nla, head, len, rem) {
		if (nla_type(nla) != MODALFS_A_DATA)
			continue;
		/* Only the last chunk may be shorter than a full one. */
		if (short_seen || nla_len(nla) < 1)
			return -EIO;
		if (nla_len(nla) > MODALFS_DATA_CHUNK)
			return -EIO;
		if (nla_len(nla) < MODALFS_DATA_CHUNK)
			short_seen = true;
		*total += nla_len(nla);
	}
	if (*total > exp->size)
		return -EIO;
	return 0;
}

/* GETXATTR and LISTXATTR: SIZE, and exactly SIZE bytes of DATA. */
static int modalfs_check_sized_data(const struct modalfs_expect *exp,
				    struct nlattr **tb,
				    const struct nlattr *head, int len)
{
	u64 total;

	if (!tb[MODALFS_A_SIZE])
		return -EIO;
	if (modalfs_check_data(exp, head, len, &total))
		return -EIO;
	if (total != nla_get_u32(tb[MODALFS_A_SIZE]))
		return -EIO;
	return 0;
}

static int modalfs_check_dirents(const struct modalfs_expect *exp,
				 const struct nlattr *head, int len)
{
	const struct nlattr *nla;
	struct modalfs_dirent_val d;
	u64 last = exp->offset;
	u32 count = 0;
	int rem;

	nla_for_each_attr(nla, head, len, rem) {
		if (nla_type(nla) != MODALFS_A_DIRENT)
			continue;
		if (modalfs_dirent_decode(nla, &d))
			return -EIO;
		/* READDIRPLUS: the inode must be the entry's, whole and sane. */
		if (d.attr) {
			struct modalfs_attr_val v;

			if (modalfs_attr_decode(d.attr, &v) || v.ino != d.ino ||
			    ((v.mode & S_IFMT) >> 12) != d.type)
				return -EIO;
		}
		/* Strictly increasing cookies guarantee readdir progresses. */
		if (d.cookie <= last)
			return -EIO;
		last = d.cookie;
		if (++count > exp->size)
			return -EIO;
	}
	return 0;
}

/*
 * Checks a reply against the request it answers. tb is the parsed reply
 * (policy-validated), head/len all its attributes for the repeating ones.
 * Returns 0 when the reply is acceptable (an errno reply always is), or
 * -EIO when it is malformed.
 */
int modalfs_reply_check(u32 op, const struct modalfs_expect *exp,
			struct nlattr **tb, const struct nlattr *head, int len)
{
	struct modalfs_statfs_val sv;
	u32 err;

	if (!tb[MODALFS_A_REQ_ID] || !tb[MODALFS_A_ERRNO])
		return -EIO;
	err = nla_get_u32(tb[MODALFS_A_ERRNO]);
	if (err >= 4096)
		return -EIO;
	if (err)
		return 0;

	switch (op) {
	case MODALFS_OP_MOUNT:
		if (!tb[MODALFS_A_VOL_ID] || !nla_get_u64(tb[MODALFS_A_VOL_ID]))
			return -EIO;
		return modalfs_check_linked_attr(exp, tb);
	case MODALFS_OP_LOOKUP:
		return modalfs_check_linked_attr(exp, tb);
	case MODALFS_OP_CREATE:
	case MODALFS_OP_MKDIR:
	case MODALFS_OP_SYMLINK:
	case MODALFS_OP_LINK:
		return modalfs_check_linked_attr(exp, tb) ?:
		       modalfs_check_dir_attrs(op, exp, tb);
	/* An open file may be unlinked: nlink 0 is a valid answer here. */
	case MODALFS_OP_GETATTR:
	case MODALFS_OP_SETATTR:
		return modalfs_check_attr(exp, tb);
	case MODALFS_OP_STATFS:
		return modalfs_statfs_decode(tb[MODALFS_A_STATFS], &sv);
	case MODALFS_OP_READDIR:
		return modalfs_check_dirents(exp, head, len);
	case MODALFS_OP_READLINK:
		if (!tb[MODALFS_A_TARGET] ||
		    !*(char *)nla_data(tb[MODALFS_A_TARGET]))
			return -EIO;
		return 0;
	case MODALFS_OP_READ: {
		u64 total;

		return modalfs_check_data(exp, head, len, &total);
	}
	case MODALFS_OP_GETXATTR:
	case MODALFS_OP_LISTXATTR:
		return modalfs_check_sized_data(exp, tb, head, len);
	case MODALFS_OP_SETXATTR:
	case MODALFS_OP_REMOVEXATTR:
		return modalfs_check_attr(exp, tb);
	case MODALFS_OP_WRITE:
		if (!tb[MODALFS_A_SIZE] ||
		    nla_get_u32(tb[MODALFS_A_SIZE]) != exp->size)
			return -EIO;
		/* Daemons from before ATTR was added to WRITE send SIZE only. */
		if (!tb[MODALFS_A_ATTR])
			return 0;
		return modalfs_check_attr(exp, tb);
	case MODALFS_OP_UNLINK:
	case MODALFS_OP_RMDIR:
	case MODALFS_OP_RENAME:
		return modalfs_check_dir_attrs(op, exp, tb);
	case MODALFS_OP_UMOUNT:
	case MODALFS_OP_FSYNC:
	case MODALFS_OP_EVICT:
		return 0;
	case MODALFS_OP_INO_RANGE: {
		u64 first;

		if (!tb[MODALFS_A_INO] || !tb[MODALFS_A_SIZE] ||
		    nla_get_u32(tb[MODALFS_A_SIZE]) != exp->size)
			return -EIO;
		first = nla_get_u64(tb[MODALFS_A_INO]);
		/* Never the root's, and the range must not wrap. */
		if (first <= MODALFS_ROOT_INO || first + exp->size < first)
			return -EIO;
		return 0;
	}
	}
	return -EIO;
}

/* ---- payloads split into DATA chunks (protocol section 4) ---- */

/* Message room len bytes of DATA take, attribute headers included. */
size_t modalfs_data_space(size_t len)
{
	size_t chunks = DIV_ROUND_UP(len, MODALFS_DATA_CHUNK);

	return len + chunks * (NLA_HDRLEN + NLA_ALIGNTO);
}

/* Appends buf as DATA attributes; nothing at all for len 0. */
int modalfs_put_data(struct sk_buff *skb, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		size_t chunk = min_t(size_t, len, MODALFS_DATA_CHUNK);

		if (nla_put(skb, MODALFS_A_DATA, chunk, p))
			return -EMSGSIZE;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/* Copies n bytes (zeros when buf is NULL) to byte *pos of pages. */
static void modalfs_pages_put(struct page **pages, size_t *pos,
			      const void *buf, size_t n)
{
	while (n) {
		size_t in = *pos % PAGE_SIZE;
		size_t c = min_t(size_t, n, PAGE_SIZE - in);
		char *dst = kmap_local_page(pages[*pos / PAGE_SIZE]);

		if (buf)
			memcpy(dst + in, buf, c);
		else
			memset(dst + in, 0, c);
		kunmap_local(dst);
		if (buf)
			buf = (const char *)buf + c;
		*pos += c;
		n -= c;
	}
}

/*
 * Hangs nr pages holding total bytes off skb: as its fragments while it
 * has slots, then as the fragments of data-less skbs chained on its
 * frag_list (one skb holds at most MAX_SKB_FRAGS, 68 KiB with 4 KiB
 * pages; a 1 MiB WRITE needs 16). skb's len and truesize cover the chain,
 * as for any skb with a frag_list. On failure the pages not yet attached
 * are freed; those attached go with the skb.
 */
static int modalfs_attach_pages(struct sk_buff *skb, struct page **pages,
				unsigned int nr, size_t total, gfp_t gfp)
{
	struct sk_buff **tail = &skb_shinfo(skb)->frag_list;
	struct sk_buff *cur = skb;
	int slot = skb_shinfo(skb)->nr_frags;
	unsigned int i;

	while (*tail)
		tail = &(*tail)->next;
	for (i = 0; i < nr; i++) {
		size_t size = min_t(size_t, PAGE_SIZE, total - i * PAGE_SIZE);

		if (slot == MAX_SKB_FRAGS) {
			struct sk_buff *ext = alloc_skb(0, gfp);

			if (!ext) {
				while (i < nr)
					__free_page(pages[i++]);
				return -ENOMEM;
			}
			*tail = ext;
			tail = &ext->next;
			skb->truesize += ext->truesize;
			cur = ext;
			slot = 0;
		}
		skb_add_rx_frag(cur, slot++, pages[i], 0, size, PAGE_SIZE);
		if (cur != skb) {
			skb->len += size;
			skb->data_len += size;
			skb->truesize += PAGE_SIZE;
		}
	}
	return 0;
}

/*
 * Appends len bytes, read from the start of src[0] on through the pages
 * of src, as DATA attributes (protocol section 4) held in order-0 pages
 * attached to skb as fragments (and, past MAX_SKB_FRAGS, on its
 * frag_list). A 1 MiB WRITE in the linear buffer would need an order-9
 * allocation, which fails most exactly when writeback is what would free
 * memory. Netlink copies fragments and the frag_list out to the daemon
 * like linear data. Must be the last thing put into the message; its
 * nlmsg_len must then be skb->len.
 */
int modalfs_put_data_pages(struct sk_buff *skb, struct page **src,
			   size_t len, gfp_t gfp)
{
	size_t total = 0, done, pos = 0;
	struct page **pages;
	unsigned int i, nr;
	int err;

	for (done = 0; done < len; done += MODALFS_DATA_CHUNK)
		total += nla_total_size(min_t(size_t, len - done,
					      MODALFS_DATA_CHUNK));
	nr = DIV_ROUND_UP(total, PAGE_SIZE);
	if (!nr)
		return 0;
	if (len > MODALFS_IO_MAX)
		return -EMSGSIZE;
	/* At most 257 pointers for 1 MiB: one order-0 allocation. */
	pages = kmalloc_array(nr, sizeof(*pages), gfp);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(gfp);
		if (!pages[i]) {
			while (i)
				__free_page(pages[--i]);
			kfree(pages);
			return -ENOMEM;
		}
	}
	for (done = 0; done < len;) {
		size_t chunk = min_t(size_t, len - done, MODALFS_DATA_CHUNK);
		struct nlattr hdr = {
			.nla_len = nla_attr_size(chunk),
			.nla_type = MODALFS_A_DATA,
		};
		size_t end = done + chunk;

		modalfs_pages_put(pages, &pos, &hdr, sizeof(hdr));
		while (done < end) {
			size_t in = done % PAGE_SIZE;
			size_t c = min_t(size_t, end - done, PAGE_SIZE - in);
			char *s = kmap_local_page(src[done / PAGE_SIZE]);

			modalfs_pages_put(pages, &pos, s + in, c);
			kunmap_local(s);
			done += c;
		}
		modalfs_pages_put(pages, &pos, NULL,
				  nla_padlen(nla_attr_size(chunk)));
	}
	err = modalfs_attach_pages(skb, pages, nr, total, gfp);
	kfree(pages);
	return err;
}

/*
 * Copies the concatenated DATA of a (checked) reply into buf, at most size
 * bytes; returns how many were copied.
 */
size_t modalfs_get_data(const struct nlattr *head, int len, void *buf,
			size_t size)
{
	const struct nlattr *nla;
	size_t off = 0;
	int rem;

	nla_for_each_attr(nla, head, len, rem) {
		size_t n;

		if (nla_type(nla) != MODALFS_A_DATA)
			continue;
		n = min_t(size_t, nla_len(nla), size - off);
		memcpy((char *)buf + off, nla_data(nla), n);
		off += n;
		if (off == size)
			break;
	}
	return off;
}

/* ---- extended attributes ---- */

/*
 * What getxattr/listxattr return for a value of have bytes and a caller's
 * buffer of bufsize: the size for a size query (bufsize 0), ERANGE when it
 * does not fit, else the size (the caller copies).
 */
ssize_t modalfs_xattr_result(size_t have, size_t bufsize)
{
	if (!bufsize)
		return have;
	if (have > bufsize)
		return -ERANGE;
	return have;
}

/* The namespaces the protocol carries; others are EOPNOTSUPP. */
bool modalfs_xattr_name_ok(const char *name)
{
	static const char *const prefixes[] = {
		XATTR_USER_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_SECURITY_PREFIX,
	};
	size_t len = strlen(name);
	int i;

	if (len > MODALFS_NAME_MAX)
		return false;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t plen = strlen(prefixes[i]);

		if (len > plen && !strncmp(name, prefixes[i], plen))
			return true;
	}
	return false;
}

/*
 * Checks a LISTXATTR answer (NUL-terminated names, none empty, all in a
 * namespace we know) and removes in place the names the caller may not
 * see: trusted.* unless trusted is set, as ext4 does for processes
 * without CAP_SYS_ADMIN. Returns the new length, or -EIO for a malformed
 * list.
 */
ssize_t modalfs_xattr_list_filter(char *list, size_t len, bool trusted)
{
	size_t in = 0, out = 0;

	if (len && list[len - 1] != '\0')
		return -EIO;
	while (in < len) {
		size_t n = strlen(list + in) + 1;

		if (n == 1 || !modalfs_xattr_name_ok(list + in))
			return -EIO;
		if (trusted || strncmp(list + in, XATTR_TRUSTED_PREFIX,
				       XATTR_TRUSTED_PREFIX_LEN)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

/* ---- READDIR cookies and directory positions ---- */

/*
 * A directory's f_pos is 0 and 1 for "." and "..", 2 right after them,
 * and from then on the cookie of the last entry returned, which is also
 * the OFFSET that continues after it. Cookies start at
 * MODALFS_DIR_COOKIE_FIRST, so every position is unambiguous, and since
 * the daemon keeps cookies stable, telldir()/seekdir() positions are.
 */
u64 modalfs_dir_pos_to_offset(loff_t pos)
{
	return pos < (loff_t)MODALFS_DIR_COOKIE_FIRST ? 0 : (u64)pos;
}

/*
 * Whether a cached READDIR reply, asked at offset req_off and ending at
 * cookie last (req_off when empty) with eof, answers a read from off.
 */
bool modalfs_dir_reply_covers(u64 req_off, u64 last, bool eof, u64 off)
{
	if (off < req_off)
		return false;
	return off < last || eof;
}

/* Cookie of the last entry of a checked READDIR reply, or dflt. */
u64 modalfs_dir_reply_last(const struct nlattr *head, int len, u64 dflt)
{
	struct modalfs_dirent_val d;
	const struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, head, len, rem)
		if (nla_type(nla) == MODALFS_A_DIRENT &&
		    !modalfs_dirent_decode(nla, &d))
			dflt = d.cookie;
	return dflt;
}

/*
 * Emits the entries of a checked READDIR reply that follow ctx->pos,
 * moving ctx->pos to each one's cookie. Returns 1 when the caller's buffer
 * filled up, 0 when every entry was emitted, -EIO for a bad entry.
 */
int modalfs_dir_emit_reply(struct dir_context *ctx, const struct nlattr *head,
			   int len)
{
	u64 off = modalfs_dir_pos_to_offset(ctx->pos);
	struct modalfs_dirent_val d;
	const struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, head, len, rem) {
		if (nla_type(nla) != MODALFS_A_DIRENT)
			continue;
		if (modalfs_dirent_decode(nla, &d))
			return -EIO;
		if (d.cookie <= off)
			continue;
		if (!dir_emit(ctx, d.name, d.namelen, d.ino, d.type))
			return 1;
		ctx->pos = d.cookie;
	}
	return 0;
}
