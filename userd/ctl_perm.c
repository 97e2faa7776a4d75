// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Permission checks of the control channel's file commands, made with the
 * credentials of the process at the other end of the socket as the VFS
 * makes them for a process on a mount (Documentation/security.md): the
 * socket lets people read and write volumes without mounting them, and
 * must not let them past what a mount would have.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_priv.h"

bool modalfs_ctl_in_group(const struct modalfs_ctl_cred *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

int modalfs_ctl_permission(const struct modalfs_ctl_cred *c,
			   const struct modalfs_iattr *a, int mask)
{
	uint32_t bits;

	mask &= MODALFS_MAY_READ | MODALFS_MAY_WRITE | MODALFS_MAY_EXEC;
	if (c->uid == 0) {
		/* CAP_DAC_OVERRIDE, as capable_wrt_inode_uidgid() grants. */
		if ((mask & MODALFS_MAY_EXEC) && !S_ISDIR(a->mode) &&
		    !(a->mode & 0111))
			return EACCES;
		return 0;
	}
	if (a->uid == c->uid)
		bits = a->mode >> 6;
	else if (modalfs_ctl_in_group(c, a->gid))
		bits = a->mode >> 3;
	else
		bits = a->mode;
	return (mask & ~bits & 7) ? EACCES : 0;
}

int modalfs_ctl_sticky(const struct modalfs_ctl_cred *c,
		       const struct modalfs_iattr *dir,
		       const struct modalfs_iattr *victim)
{
	if (!(dir->mode & S_ISVTX) || c->uid == 0 || victim->uid == c->uid ||
	    dir->uid == c->uid)
		return 0;
	return EPERM;
}

/* The real uid of process pid if it is still the app's owner, else -1. */
static long owner_uid(const struct modalfs_appinfo *ai)
{
	char path[64], line[256], boot_id[MODALFS_BOOT_ID_MAX + 1];
	unsigned long uid;
	uint64_t start;
	bool zombie = false;
	long found = -1;
	FILE *f;

	modalfs_ctl_boot_id(boot_id);
	if (ai->owner_pid <= 0 || strcmp(ai->boot_id, boot_id) ||
	    modalfs_ctl_proc_start(ai->owner_pid, &start, &zombie) ||
	    zombie || start != ai->owner_start)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)ai->owner_pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %lu", &uid) == 1) {
			found = (long)uid;
			break;
		}
	fclose(f);
	/* The process may have exec'd something else since: check again. */
	if (modalfs_ctl_proc_start(ai->owner_pid, &start, NULL) ||
	    start != ai->owner_start)
		return -1;
	return found;
}

bool modalfs_ctl_app_visible(const struct modalfs_ctl_cred *c,
			     const struct modalfs_appinfo *ai)
{
	if (c->uid == 0 || ai->name[0])
		return true;	/* named apps are shared by design */
	return owner_uid(ai) == (long)c->uid;
}

bool modalfs_ctl_vol_visible(struct modalfs_store *st,
			     const struct modalfs_ctl_cred *c,
			     const struct modalfs_volinfo *vi)
{
	struct modalfs_appinfo ai;

	if (c->uid == 0 || vi->kind != MODALFS_KIND_EPHEMERAL)
		return true;
	if (modalfs_store_app_find(st, vi->app_id, &ai) ||
	    strcmp(ai.app_id, vi->app_id))
		return false;	/* being stopped: only root may look */
	return modalfs_ctl_app_visible(c, &ai);
}

int modalfs_ctl_walk(struct modalfs_store *st,
		     const struct modalfs_ctl_cred *c, const char *vol_name,
		     const char *path, struct modalfs_store_path *out)
{
	struct modalfs_volinfo vi;
	const char *p = path;
	int err;

	memset(out, 0, sizeof(*out));
	err = modalfs_store_vol_lookup(st, vol_name, &vi);
	if (err)
		return err;
	if (!modalfs_ctl_vol_visible(st, c, &vi))
		return ENOENT;
	err = modalfs_store_path(st, vol_name, "/", out);
	if (err)
		return err;
	for (;;) {
		char name[MODALFS_NAME_MAX + 1];
		struct modalfs_iattr a;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n > MODALFS_NAME_MAX)
			return ENAMETOOLONG;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, ".."))
			return EINVAL;
		/* The component before this one was missing. */
		if (!out->exists)
			return ENOENT;
		if (!S_ISDIR(out->attr.mode))
			return ENOTDIR;
		err = modalfs_ctl_permission(c, &out->attr, MODALFS_MAY_EXEC);
		if (err)
			return err;
		out->dir = out->attr.ino;
		memcpy(out->name, name, n + 1);
		err = modalfs_store_lookup(st, out->vol, out->dir, name, &a);
		if (err == ENOENT) {
			out->exists = false;
			continue;
		}
		if (err)
			return err;
		out->exists = true;
		out->attr = a;
	}
	return 0;
}
