// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Volume and app lifecycle on the control channel: CREATE, PERSISTED,
 * LIST, DELETE, APP_CREATE, APP_STOP, EPHEMERAL, and the reaper.
 *
 * Lifecycle changes (deleting volumes, apps, ephemeral volumes, reaping)
 * are serialised by one lock, so the reaper never sees an ephemeral volume
 * half made. The reaper stops anonymous apps whose owner process is gone,
 * once a second and at start, so a daemon restart or a SIGKILLed
 * "modalfsctl run" leaks nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_priv.h"
#include "genl.h"
#include "log.h"
#include "names.h"

pthread_mutex_t modalfs_ctl_life = PTHREAD_MUTEX_INITIALIZER;

struct vol_array {
	struct modalfs_volinfo *v;
	size_t n, cap;
};

static int collect_cb(const struct modalfs_volinfo *vi, void *arg)
{
	struct vol_array *a = arg;

	if (modalfs_ctl_grow(&a->v, a->n, &a->cap, sizeof(*a->v), 64))
		return ENOMEM;
	a->v[a->n++] = *vi;
	return 0;
}

struct app_array {
	struct modalfs_appinfo *v;
	size_t n, cap;
};

static int app_collect_cb(const struct modalfs_appinfo *ai, void *arg)
{
	struct app_array *a = arg;

	if (modalfs_ctl_grow(&a->v, a->n, &a->cap, sizeof(*a->v), 16))
		return ENOMEM;
	a->v[a->n++] = *ai;
	return 0;
}

/*
 * Deletes one volume. EBUSY when it is mounted and force is false; busy
 * then holds the mount count.
 */
static int delete_volume(struct modalfs_store *st,
			 const struct modalfs_volinfo *vi, bool force,
			 const struct modalfs_ctl_mounts *m, uint32_t *busy)
{
	uint32_t n = modalfs_ctl_mounts_of(m, vi->name);
	int err;

	*busy = n;
	/*
	 * mountinfo misses lazily detached mounts whose files are still
	 * open; the kernel's sysfs entry lives as long as the superblock.
	 */
	if ((n || modalfs_ctl_vol_alive(vi->vol_id)) && !force)
		return EBUSY;
	err = modalfs_store_vol_delete(st, vi->vol_id, 0);
	if (err)
		return err;
	/* Also when unmounted: a lazily detached mount may still be alive. */
	modalfs_genl_notify(MODALFS_NOTIFY_VOL_GONE, vi->vol_id, 0, NULL);
	modalfs_info("deleted volume '%s' (id %llu)%s", vi->name,
		     (unsigned long long)vi->vol_id,
		     n ? " while mounted (forced)" : "");
	return 0;
}

/* The volumes of the given kind whose app id is app_id. */
static int find_by_app(struct modalfs_store *st, const char *app_id,
		       uint32_t kind, struct vol_array *out)
{
	struct vol_array all = { 0 };
	int err = modalfs_store_vol_each(st, collect_cb, &all);

	out->v = NULL;
	out->n = out->cap = 0;
	for (size_t i = 0; !err && i < all.n; i++)
		if (all.v[i].kind == kind && !strcmp(all.v[i].app_id, app_id))
			err = collect_cb(&all.v[i], out);
	free(all.v);
	return err;
}

/*
 * Stops app app_id: deletes its ephemeral volumes, then the app. With a
 * mounted volume and no force nothing is deleted: EBUSY, busy_name set.
 */
static int stop_app(struct modalfs_store *st, const char *app_id, bool force,
		    char *busy_name, uint32_t *busy)
{
	struct vol_array vols;
	struct modalfs_ctl_mounts m;
	int err;

	*busy = 0;
	err = find_by_app(st, app_id, MODALFS_KIND_EPHEMERAL, &vols);
	if (!err)
		err = modalfs_ctl_count_mounts(&m);
	else
		m.v = NULL;
	for (size_t i = 0; !err && !force && i < vols.n; i++) {
		*busy = modalfs_ctl_mounts_of(&m, vols.v[i].name);
		if (*busy || modalfs_ctl_vol_alive(vols.v[i].vol_id)) {
			snprintf(busy_name, MODALFS_VOL_NAME_MAX + 1, "%s",
				 vols.v[i].name);
			err = EBUSY;
		}
	}
	for (size_t i = 0; !err && i < vols.n; i++) {
		uint32_t b;

		err = delete_volume(st, &vols.v[i], force, &m, &b);
		if (err == ENOENT)
			err = 0;
	}
	if (!err) {
		err = modalfs_store_app_remove(st, app_id);
		if (err == ENOENT)
			err = 0;
		if (!err)
			modalfs_info("stopped app %s (%zu ephemeral volumes deleted)",
				     app_id, vols.n);
	}
	free(vols.v);
	free(m.v);
	return err;
}

static bool owner_gone(const struct modalfs_appinfo *ai, const char *boot_id)
{
	uint64_t start;
	bool zombie = false;

	if (ai->name[0])
		return false;	/* named apps live until stopped */
	if (strcmp(ai->boot_id, boot_id))
		return true;	/* the machine rebooted since */
	if (ai->owner_pid <= 0)
		return true;
	if (modalfs_ctl_proc_start(ai->owner_pid, &start, &zombie))
		return true;
	return zombie || start != ai->owner_start;
}

int modalfs_ctl_reap(struct modalfs_store *st)
{
	static char last_busy[MODALFS_APP_ID_MAX + 1];
	char boot_id[MODALFS_BOOT_ID_MAX + 1];
	struct app_array apps = { 0 };
	struct vol_array vols = { 0 };
	int err, stopped = 0;

	modalfs_ctl_boot_id(boot_id);
	pthread_mutex_lock(&modalfs_ctl_life);
	err = modalfs_store_app_list(st, app_collect_cb, &apps);
	for (size_t i = 0; !err && i < apps.n; i++) {
		char busy_name[MODALFS_VOL_NAME_MAX + 1];
		uint32_t busy;
		int e;

		if (!owner_gone(&apps.v[i], boot_id))
			continue;
		e = stop_app(st, apps.v[i].app_id, false, busy_name, &busy);
		if (!e) {
			stopped++;
		} else if (e == EBUSY) {
			/* Its namespace still has processes; try again later. */
			if (strcmp(last_busy, apps.v[i].app_id))
				modalfs_info("app %s: owner gone but volume '%s' is still mounted; retrying",
					     apps.v[i].app_id, busy_name);
			snprintf(last_busy, sizeof(last_busy), "%s",
				 apps.v[i].app_id);
		} else {
			modalfs_warn("cannot stop app %s: %s",
				     apps.v[i].app_id, strerror(e));
		}
	}
	/* Ephemeral volumes of apps that do not exist (a crash mid-way). */
	if (!err)
		err = modalfs_store_vol_each(st, collect_cb, &vols);
	for (size_t i = 0; !err && i < vols.n; i++) {
		struct modalfs_appinfo ai;
		struct modalfs_ctl_mounts m;
		uint32_t busy;

		if (vols.v[i].kind != MODALFS_KIND_EPHEMERAL ||
		    modalfs_store_app_find(st, vols.v[i].app_id, &ai) != ENOENT)
			continue;
		if (modalfs_ctl_count_mounts(&m))
			continue;
		if (!delete_volume(st, &vols.v[i], false, &m, &busy))
			stopped++;
		free(m.v);
	}
	pthread_mutex_unlock(&modalfs_ctl_life);
	free(apps.v);
	free(vols.v);
	return err ? -err : stopped;
}

int modalfs_ctl_do_make(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	const uint8_t cmd = r->cmd;
	struct modalfs_ctl_volume v = { 0 };
	const char *name;
	struct nl_msg *m;
	int err, rc;

	if (!r->tb[MODALFS_A_VOL_NAME])
		return modalfs_ctl_error(r, EINVAL,
				  "missing volume name");
	name = nla_data(r->tb[MODALFS_A_VOL_NAME]);
	if (!modalfs_vol_name_valid(name))
		return modalfs_ctl_error(r, EINVAL,
				  "invalid volume name '%s': %s", name,
				  MODALFS_VOL_NAME_RULE);
	if (cmd == MODALFS_CTL_CREATE)
		err = modalfs_store_vol_create(st, name,
					       MODALFS_KIND_PERSISTED, &v.vi);
	else
		err = modalfs_store_vol_persisted(st, name, &v.vi);
	if (err == EEXIST)
		return modalfs_ctl_error(r, err,
				  "volume '%s' already exists", name);
	if (err == ENOSPC)
		return modalfs_ctl_error(r, err,
				  "cannot create volume '%s': the store is full",
				  name);
	if (err)
		return modalfs_ctl_error(r, err,
				  "cannot create volume '%s': %s", name,
				  strerror(err));
	if (modalfs_ctl_mount_count(name, &v.mounts))
		v.mounts = 0;
	m = modalfs_ctl_ok_msg(r);
	if (m && (nla_put_u64(m, MODALFS_A_VOL_ID, v.vi.vol_id) ||
		  nla_put_string(m, MODALFS_A_APP_ID, v.vi.app_id) ||
		  modalfs_ctl_put_volume(m, &v))) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	rc = modalfs_ctl_send(r, m);
	if (!rc && cmd == MODALFS_CTL_CREATE)
		modalfs_info("created volume '%s' (id %llu)", name,
			     (unsigned long long)v.vi.vol_id);
	return rc;
}

/*
 * Volumes are collected first and sent afterwards, so a slow reader never
 * holds a store read transaction open (which would stop LMDB from reusing
 * freed pages).
 */
int modalfs_ctl_do_list(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	struct vol_array a = { 0 };
	struct app_array apps = { 0 };
	struct modalfs_ctl_mounts mc = { 0 };
	struct nl_msg *m;
	int err, rc = 0;

	err = modalfs_store_vol_list(st, collect_cb, &a);
	if (!err)
		err = modalfs_store_app_list(st, app_collect_cb, &apps);
	if (!err)
		err = modalfs_ctl_count_mounts(&mc);
	if (err) {
		free(a.v);
		free(apps.v);
		return modalfs_ctl_error(r, err,
				  "cannot list volumes: %s", strerror(err));
	}
	m = modalfs_ctl_ok_msg(r);
	for (size_t i = 0; m && !rc && i < a.n; i++) {
		struct modalfs_ctl_volume v = { .vi = a.v[i] };

		if (!modalfs_ctl_vol_visible(st, r->cred, &v.vi))
			continue;
		v.mounts = modalfs_ctl_mounts_of(&mc, v.vi.name);
		for (size_t j = 0; j < apps.n; j++)
			if (!strcmp(apps.v[j].app_id, v.vi.app_id))
				snprintf(v.app_name, sizeof(v.app_name), "%s",
					 apps.v[j].name);
		if (nlmsg_hdr(m)->nlmsg_len > MODALFS_CTL_LIST_CHUNK) {
			rc = modalfs_ctlmsg_send(r->fd, m);
			nlmsg_free(m);
			m = rc ? NULL : modalfs_ctl_ok_msg(r);
		}
		if (m && modalfs_ctl_put_volume(m, &v))
			rc = -EMSGSIZE;
	}
	free(a.v);
	free(apps.v);
	free(mc.v);
	if (!m)
		return rc ? rc : -ENOMEM;
	if (!rc && nla_put_flag(m, MODALFS_A_EOF))
		rc = -EMSGSIZE;
	if (!rc)
		rc = modalfs_ctlmsg_send(r->fd, m);
	nlmsg_free(m);
	return rc;
}

static int busy_error(const struct modalfs_ctl_req *r, const char *name,
		      uint32_t n)
{
	if (!n)
		return modalfs_ctl_error(r, EBUSY,
					 "volume '%s' is still in use by a lazily unmounted (umount -l) mount with open files; close them first, or use --force to delete it anyway (they then fail with ESTALE)",
					 name);
	return modalfs_ctl_error(r, EBUSY,
			  "volume '%s' is mounted (%u mount%s); unmount it first, or use --force to delete it anyway (its mounts then fail with ESTALE)",
			  name, n, n == 1 ? "" : "s");
}

static int stop_app_reply(const struct modalfs_ctl_req *r,
			  const char *app_id, bool force)
{
	struct modalfs_store *st = r->st;
	char busy_name[MODALFS_VOL_NAME_MAX + 1];
	uint32_t busy;
	int err = stop_app(st, app_id, force, busy_name, &busy);

	if (err == EBUSY)
		return busy_error(r, busy_name, busy);
	if (err)
		return modalfs_ctl_error(r, err, "cannot stop app %s: %s",
				  app_id, strerror(err));
	return modalfs_ctl_send_ok(r);
}

static int delete_reply(const struct modalfs_ctl_req *r,
			const struct modalfs_volinfo *vi, bool force)
{
	struct modalfs_store *st = r->st;
	struct modalfs_ctl_mounts m;
	uint32_t busy;
	int err = modalfs_ctl_count_mounts(&m);

	if (err)
		return modalfs_ctl_error(r, err,
				  "cannot count the mounts of volume '%s': %s",
				  vi->name, strerror(err));
	err = delete_volume(st, vi, force, &m, &busy);
	free(m.v);
	if (err == EBUSY)
		return busy_error(r, vi->name, busy);
	if (err == ENOENT)
		return modalfs_ctl_error(r, err,
				  "volume '%s' does not exist", vi->name);
	if (err)
		return modalfs_ctl_error(r, err,
				  "cannot delete volume '%s': %s", vi->name,
				  strerror(err));
	return modalfs_ctl_send_ok(r);
}

/*
 * DELETE and APP_STOP. An app id may name a persisted volume (its own
 * app) or an app; a name may name a volume (DELETE) or an app (APP_STOP).
 * An APP_ID that is neither is also tried as a volume name, so a volume
 * called "ap-x" can still be deleted.
 */
int modalfs_ctl_do_delete(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	const uint8_t cmd = r->cmd;
	uint32_t flags = r->tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(r->tb[MODALFS_A_FLAGS]) : 0;
	bool force = flags & MODALFS_CTL_F_FORCE;
	const char *id = r->tb[MODALFS_A_APP_ID] ?
			 nla_data(r->tb[MODALFS_A_APP_ID]) : NULL;
	const char *name = cmd == MODALFS_CTL_DELETE ?
		(r->tb[MODALFS_A_VOL_NAME] ? nla_data(r->tb[MODALFS_A_VOL_NAME]) : NULL) :
		(r->tb[MODALFS_A_APP_NAME] ? nla_data(r->tb[MODALFS_A_APP_NAME]) : NULL);
	const char *what = id ? id : name;
	struct modalfs_volinfo vi;
	struct modalfs_appinfo ai;
	struct vol_array vols;
	int err, rc;

	if ((!id) == (!name))
		return modalfs_ctl_error(r, EINVAL, "%s",
				  cmd == MODALFS_CTL_DELETE ?
				  "give exactly one of a volume name and an app id" :
				  "give exactly one of an app id and an app name");
	if (flags & ~MODALFS_CTL_F_FORCE)
		return modalfs_ctl_error(r, EINVAL, "unknown flags 0x%x",
				  flags);
	pthread_mutex_lock(&modalfs_ctl_life);
	if (id) {
		err = find_by_app(st, id, MODALFS_KIND_PERSISTED, &vols);
		if (!err && vols.n) {
			vi = vols.v[0];
			free(vols.v);
			rc = delete_reply(r, &vi, force);
			goto out;
		}
		free(vols.v);
	}
	if (id || cmd == MODALFS_CTL_APP_STOP) {
		err = modalfs_store_app_find(st, what, &ai);
		if (!err && (!id || !strcmp(ai.app_id, id)) &&
		    modalfs_ctl_app_visible(r->cred, &ai)) {
			rc = stop_app_reply(r, ai.app_id, force);
			goto out;
		}
	}
	if (cmd == MODALFS_CTL_DELETE && modalfs_vol_name_valid(what) &&
	    !modalfs_store_vol_lookup(st, what, &vi) &&
	    modalfs_ctl_vol_visible(st, r->cred, &vi)) {
		rc = delete_reply(r, &vi, force);
		goto out;
	}
	rc = modalfs_ctl_error(r, ENOENT, "%s '%s' does not exist",
			cmd == MODALFS_CTL_DELETE ?
			(id ? "volume or app id" : "volume") :
			"app", what);
out:
	pthread_mutex_unlock(&modalfs_ctl_life);
	return rc;
}

int modalfs_ctl_do_app_create(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	const struct modalfs_ctl_cred *p = r->cred;
	const char *name = r->tb[MODALFS_A_APP_NAME] ?
			   nla_data(r->tb[MODALFS_A_APP_NAME]) : NULL;
	char boot_id[MODALFS_BOOT_ID_MAX + 1];
	struct modalfs_appinfo ai;
	uint64_t start = 0;
	struct nl_msg *m;
	int err;

	if (name && !modalfs_vol_name_valid(name))
		return modalfs_ctl_error(r, EINVAL,
				  "invalid app name '%s': app names follow the volume name rule: %s",
				  name, MODALFS_VOL_NAME_RULE);
	if (!name) {
		if (p->pid <= 0 ||
		    (err = modalfs_ctl_proc_start(p->pid, &start, NULL)))
			return modalfs_ctl_error(r, ESRCH,
					  "cannot identify the peer process %d that would own the app",
					  (int)p->pid);
	}
	modalfs_ctl_boot_id(boot_id);
	pthread_mutex_lock(&modalfs_ctl_life);
	err = modalfs_store_app_create(st, name, p->pid, start, boot_id, &ai);
	pthread_mutex_unlock(&modalfs_ctl_life);
	if (err)
		return modalfs_ctl_error(r, err, "cannot create app%s%s: %s",
				  name ? " " : "", name ? name : "",
				  strerror(err));
	m = modalfs_ctl_ok_msg(r);
	if (m && nla_put_string(m, MODALFS_A_APP_ID, ai.app_id)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	if (!name)
		modalfs_dbg("app %s owned by pid %d", ai.app_id, (int)p->pid);
	return modalfs_ctl_send(r, m);
}

int modalfs_ctl_do_ephemeral(const struct modalfs_ctl_req *r)
{
	struct modalfs_store *st = r->st;
	struct modalfs_ctl_volume v = { 0 };
	struct modalfs_appinfo ai;
	const char *id;
	struct nl_msg *m;
	int err;

	if (!r->tb[MODALFS_A_APP_ID])
		return modalfs_ctl_error(r, EINVAL, "missing app id");
	id = nla_data(r->tb[MODALFS_A_APP_ID]);
	pthread_mutex_lock(&modalfs_ctl_life);
	err = modalfs_store_app_find(st, id, &ai);
	if (!err && (strcmp(ai.app_id, id) ||
		     !modalfs_ctl_app_visible(r->cred, &ai)))
		err = ENOENT;
	if (!err)
		err = modalfs_store_vol_ephemeral(st, id, &v.vi);
	pthread_mutex_unlock(&modalfs_ctl_life);
	if (err == ENOENT)
		return modalfs_ctl_error(r, err, "app %s does not exist",
				  id);
	if (err)
		return modalfs_ctl_error(r, err,
				  "cannot create an ephemeral volume for app %s: %s",
				  id, strerror(err));
	snprintf(v.app_name, sizeof(v.app_name), "%s", ai.name);
	m = modalfs_ctl_ok_msg(r);
	if (m && (nla_put_u64(m, MODALFS_A_VOL_ID, v.vi.vol_id) ||
		  nla_put_string(m, MODALFS_A_APP_ID, id) ||
		  modalfs_ctl_put_volume(m, &v))) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	modalfs_info("created ephemeral volume '%s' of app %s", v.vi.name, id);
	return modalfs_ctl_send(r, m);
}
