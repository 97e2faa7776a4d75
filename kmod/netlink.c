// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "modalfs": REGISTER, REPLY and NOTIFY from
 * the daemon (NOTIFY is handled in notify.c), REQUESTs to it, and the release notifier that tells us the
 * daemon's socket is gone.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/stringify.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "modalfs_i.h"

struct modalfs_chan modalfs_chan;

static int modalfs_nl_send(struct modalfs_chan *chan, struct sk_buff *skb,
			   u32 portid)
{
	struct sk_buff *copy;

	/* The original stays in the request for a resend to a new daemon. */
	copy = skb_clone(skb, GFP_NOFS);
	if (!copy)
		return -ENOMEM;
	return genlmsg_unicast(&init_net, copy, portid);
}

static int modalfs_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *ver = info->attrs[MODALFS_A_VERSION];
	int err;

	/* GENL_ADMIN_PERM would check CAP_NET_ADMIN; the daemon needs more. */
	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(info->extack,
			       "modalfs: registering needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	if (!ver) {
		NL_SET_ERR_MSG(info->extack, "modalfs: MODALFS_A_VERSION missing");
		return -EINVAL;
	}
	if (nla_get_u32(ver) != MODALFS_GENL_VERSION) {
		NL_SET_ERR_MSG(info->extack,
			       "modalfs: kernel speaks protocol version "
			       __stringify(MODALFS_GENL_VERSION));
		/* The daemon's log may be elsewhere; say it here too. */
		pr_warn_ratelimited("modalfs: refused a modalfsd that speaks protocol %u; this module speaks %d, start the matching modalfsd\n",
				    nla_get_u32(ver), MODALFS_GENL_VERSION);
		return -EPROTO;
	}
	err = modalfs_chan_register_sk(&modalfs_chan, info->snd_portid,
				       NETLINK_CB(skb).sk);
	if (err == -EBUSY) {
		NL_SET_ERR_MSG(info->extack,
			       "modalfs: another modalfsd is registered");
		return err;
	}
	if (err)
		return err;
	pr_info("modalfs: modalfsd registered (port %u)\n", info->snd_portid);
	/* Not from here: resending may sleep while this daemon's queue is full. */
	queue_work(system_unbound_wq, &modalfs_chan.resend_work);
	return 0;
}

/*
 * REPLY is let through genetlink with only REQ_ID checked, so that a reply
 * naming a waiting request but failing the full policy still ends that
 * request (with EIO) instead of leaving its caller waiting forever.
 */
static const struct nla_policy modalfs_reply_id_policy[MODALFS_A_MAX + 1] = {
	[MODALFS_A_REQ_ID] = { .type = NLA_U64 },
};

/*
 * REPLY and NOTIFY come from the registered daemon's own socket, and from
 * a sender that still has CAP_SYS_ADMIN: the port id alone could be
 * rebound by another process while the daemon's socket is being released
 * (netlink_release() frees the port before the release notifier runs).
 */
int modalfs_nl_check_daemon(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(info->extack, "modalfs: REPLY and NOTIFY need CAP_SYS_ADMIN");
		return -EPERM;
	}
	if (!modalfs_chan_is_daemon_sk(&modalfs_chan, info->snd_portid,
				       NETLINK_CB(skb).sk)) {
		NL_SET_ERR_MSG(info->extack, "modalfs: sender is not the registered daemon");
		return -EPERM;
	}
	return 0;
}

static int modalfs_nl_reply(struct sk_buff *skb, struct genl_info *info)
{
	struct modalfs_chan *chan = &modalfs_chan;
	struct nlattr *tb[MODALFS_A_MAX + 1];
	u64 id;
	int err;

	err = modalfs_nl_check_daemon(skb, info);
	if (err)
		return err;
	if (!info->attrs[MODALFS_A_REQ_ID]) {
		NL_SET_ERR_MSG(info->extack, "modalfs: REPLY needs REQ_ID");
		return -EINVAL;
	}
	id = nla_get_u64(info->attrs[MODALFS_A_REQ_ID]);
	err = modalfs_msg_parse(info->nlhdr, tb, info->extack);
	if (!err && !tb[MODALFS_A_ERRNO]) {
		NL_SET_ERR_MSG(info->extack, "modalfs: REPLY needs ERRNO");
		err = -EINVAL;
	}
	if (err) {
		modalfs_chan_fail(chan, id);
		/* The protocol promises EINVAL, not the parser's ERANGE. */
		return -EINVAL;
	}
	return modalfs_chan_complete(chan, skb, info->nlhdr, tb);
}

/* NOTIFY is parsed strictly by its handler (notify.c). */
static const struct nla_policy modalfs_notify_any_policy[MODALFS_A_MAX + 1];

static const struct genl_small_ops modalfs_genl_small_ops[] = {
	{
		.cmd = MODALFS_CMD_REGISTER,
		.doit = modalfs_nl_register,
	},
};

static const struct genl_ops modalfs_genl_ops[] = {
	{
		.cmd = MODALFS_CMD_REPLY,
		.doit = modalfs_nl_reply,
		.policy = modalfs_reply_id_policy,
		.maxattr = MODALFS_A_MAX,
		/* The handler parses strictly itself; see above. */
		.validate = GENL_DONT_VALIDATE_STRICT,
	},
	{
		.cmd = MODALFS_CMD_NOTIFY,
		.doit = modalfs_nl_notify,
		.policy = modalfs_notify_any_policy,
		.maxattr = MODALFS_A_MAX,
		.validate = GENL_DONT_VALIDATE_STRICT,
	},
};

static struct genl_family modalfs_genl_family = {
	.name = MODALFS_GENL_NAME,
	.version = MODALFS_GENL_VERSION,
	.maxattr = MODALFS_A_MAX,
	.policy = modalfs_genl_policy,
	.netnsok = false,
	/* Replies from several daemon threads complete in parallel. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.small_ops = modalfs_genl_small_ops,
	.n_small_ops = ARRAY_SIZE(modalfs_genl_small_ops),
	.ops = modalfs_genl_ops,
	.n_ops = ARRAY_SIZE(modalfs_genl_ops),
	/*
	 * Strict validation for every command but REPLY and NOTIFY, which
	 * opt out (allowed only below resv_start_op) and validate in their
	 * handlers.
	 */
	.resv_start_op = MODALFS_CMD_MAX + 1,
};

static int modalfs_nl_release(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;
	bool was;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	spin_lock(&modalfs_chan.lock);
	was = modalfs_chan.connected && modalfs_chan.portid == n->portid;
	spin_unlock(&modalfs_chan.lock);
	if (was) {
		modalfs_chan_release(&modalfs_chan, n->portid);
		pr_info("modalfs: modalfsd went away; requests wait for the next one\n");
	}
	return NOTIFY_DONE;
}

static struct notifier_block modalfs_nl_notifier = {
	.notifier_call = modalfs_nl_release,
};

static int modalfs_requests_show(struct seq_file *m, void *unused)
{
	modalfs_chan_show(&modalfs_chan, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(modalfs_requests);

static int modalfs_stats_file_show(struct seq_file *m, void *unused)
{
	modalfs_stats_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(modalfs_stats_file);

static struct dentry *modalfs_debugfs;

int modalfs_netlink_init(void)
{
	int err;

	modalfs_chan_init(&modalfs_chan, modalfs_nl_send);
	/*
	 * The notifier first: once the family exists a daemon may register,
	 * and if its socket closed before the notifier was in place, the
	 * channel would stay registered to a dead port (EBUSY for ever).
	 */
	err = netlink_register_notifier(&modalfs_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&modalfs_genl_family);
	if (err) {
		netlink_unregister_notifier(&modalfs_nl_notifier);
		return err;
	}
	modalfs_chan.family_id = modalfs_genl_family.id;
	/* Diagnostics only: a kernel without debugfs loses nothing else. */
	modalfs_debugfs = debugfs_create_dir("modalfs", NULL);
	debugfs_create_file("requests", 0400, modalfs_debugfs, NULL,
			    &modalfs_requests_fops);
	debugfs_create_file("stats", 0444, modalfs_debugfs, NULL,
			    &modalfs_stats_file_fops);
	debugfs_create_atomic_t("fail_write_alloc", 0600, modalfs_debugfs,
				&modalfs_fail_write_alloc);
	return 0;
}

void modalfs_netlink_exit(void)
{
	debugfs_remove(modalfs_debugfs);
	/* Waits for REPLY handlers running in parallel. */
	genl_unregister_family(&modalfs_genl_family);
	netlink_unregister_notifier(&modalfs_nl_notifier);
	modalfs_chan_shutdown(&modalfs_chan);
}

MODULE_ALIAS_GENL_FAMILY(MODALFS_GENL_NAME);
