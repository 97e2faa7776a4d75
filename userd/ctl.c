// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Control socket server (header section 5). One thread accepts; each
 * connection gets a thread that answers its requests in order. Requests
 * are short store transactions, so no further pooling is needed.
 *
 * Lifecycle changes (deleting volumes, apps, ephemeral volumes, reaping)
 * are serialised by one lock, so the reaper never sees an ephemeral volume
 * half made. A reaper thread stops anonymous apps whose owner process is
 * gone, once a second and at start, so a daemon restart or a SIGKILLed
 * "modalfsctl run" leaks nothing.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netlink/genl/genl.h>

#include "ctl.h"
#include "ctlmsg.h"
#include "ctlstats.h"
#include "fsutil.h"
#include "genl.h"
#include "log.h"
#include "names.h"

#define REAP_INTERVAL_MS 1000

static struct {
	struct modalfs_store *st;
	int lfd;
	int stop_pipe[2];
	pthread_t acceptor, reaper;
	bool reaper_running;
	char path[PATH_MAX];
	pthread_mutex_t lock;
	pthread_cond_t gone;
	int clients;
} srv = {
	.lfd = -1,
	.stop_pipe = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
};

/* Serialises lifecycle changes; see the top of the file. */
static pthread_mutex_t life = PTHREAD_MUTEX_INITIALIZER;

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

static int send_error(int fd, uint8_t cmd, uint32_t seq, int err,
		      const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int send_error(int fd, uint8_t cmd, uint32_t seq, int err,
		      const char *fmt, ...)
{
	char text[MODALFS_ERRMSG_MAX + 1];
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, seq, false);
	va_list ap;
	int rc;

	if (!m)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (nla_put_u32(m, MODALFS_A_ERRNO, err) ||
	    nla_put_string(m, MODALFS_A_ERRMSG, text))
		rc = -EMSGSIZE;
	else
		rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	return rc;
}

/* A reply with ERRNO 0 and nothing else, or NULL. */
static struct nl_msg *ok_msg(uint8_t cmd, uint32_t seq)
{
	struct nl_msg *m = modalfs_ctlmsg_new(cmd, seq, false);

	if (m && nla_put_u32(m, MODALFS_A_ERRNO, 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

static int send_free(int fd, struct nl_msg *m)
{
	int rc;

	if (!m)
		return -ENOMEM;
	rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	return rc;
}

static int send_ok(int fd, uint8_t cmd, uint32_t seq)
{
	return send_free(fd, ok_msg(cmd, seq));
}

/* ---- processes and mounts ---- */

int modalfs_ctl_proc_start(pid_t pid, uint64_t *start, bool *zombie)
{
	char path[64], buf[1024], *p, *tok, *save;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? errno : EIO;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: skip to its end. */
	p = strrchr(buf, ')');
	if (!p)
		return EIO;
	field = 3;
	for (tok = strtok_r(p + 1, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 3 && zombie)
			*zombie = tok[0] == 'Z' || tok[0] == 'X';
		if (field == 22) {
			*start = strtoull(tok, NULL, 10);
			return 0;
		}
	}
	return EIO;
}

static void read_boot_id(char *out)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(out, MODALFS_BOOT_ID_MAX + 1, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

int modalfs_ctl_mountinfo_volume(const char *line, char *name)
{
	const char *sep = strstr(line, " - ");
	const char *src, *colon;
	size_t n;

	if (!sep)
		return 0;
	sep += 3;
	if (strncmp(sep, "modalfs ", 8))
		return 0;
	src = sep + 8;
	colon = strchr(src, ':');
	if (!colon)
		return 0;
	n = colon - src;
	if (n == 0 || n > MODALFS_VOL_NAME_MAX || memchr(src, ' ', n))
		return 0;
	memcpy(name, src, n);
	name[n] = '\0';
	return modalfs_vol_name_valid(name);
}

struct mcount {
	char name[MODALFS_VOL_NAME_MAX + 1];
	uint32_t n;
};

/*
 * Room for one more element in the array *vp holding n of *cap elements
 * of size bytes: the capacity doubles, starting at first. 0 or ENOMEM,
 * which leaves the array as it was.
 */
static int grow_array(void *vp, size_t n, size_t *cap, size_t size,
		      size_t first)
{
	void **v = vp;
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	p = realloc(*v, c * size);
	if (!p)
		return ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

struct mounts {
	struct mcount *v;
	size_t n, cap;
};

static int mounts_add(struct mounts *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!strcmp(m->v[i].name, name)) {
			m->v[i].n++;
			return 0;
		}
	}
	if (grow_array(&m->v, m->n, &m->cap, sizeof(*m->v), 16))
		return ENOMEM;
	snprintf(m->v[m->n].name, sizeof(m->v[m->n].name), "%s", name);
	m->v[m->n++].n = 1;
	return 0;
}

static uint32_t mounts_of(const struct mounts *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return m->v[i].n;
	return 0;
}

/*
 * Counts modalfs mounts per volume over all mount namespaces: every
 * namespace's mountinfo is read once (processes sharing a namespace see
 * the same table, so namespace inode + mount id is counted once).
 */
static int count_mounts(struct mounts *m)
{
	ino_t *seen = NULL;
	size_t nseen = 0, capseen = 0;
	struct dirent *de;
	char *line = NULL;
	size_t linecap = 0;
	DIR *d;
	int err = 0;

	m->v = NULL;
	m->n = m->cap = 0;
	d = opendir("/proc");
	if (!d)
		return errno;
	while (!err && (de = readdir(d))) {
		char path[300], name[MODALFS_VOL_NAME_MAX + 1];
		struct stat sb;
		bool dup = false;
		FILE *f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", de->d_name);
		if (stat(path, &sb))
			continue;	/* gone, or a kernel thread */
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = seen[i] == sb.st_ino;
		if (dup)
			continue;
		if (grow_array(&seen, nseen, &capseen, sizeof(*seen), 16)) {
			err = ENOMEM;
			break;
		}
		seen[nseen++] = sb.st_ino;
		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!err && getline(&line, &linecap, f) > 0)
			if (modalfs_ctl_mountinfo_volume(line, name))
				err = mounts_add(m, name);
		fclose(f);
	}
	closedir(d);
	free(line);
	free(seen);
	if (err) {
		free(m->v);
		m->v = NULL;
		m->n = 0;
	}
	return err;
}

int modalfs_ctl_mount_count(const char *name, uint32_t *n)
{
	struct mounts m;
	int err = count_mounts(&m);

	if (err)
		return err;
	*n = mounts_of(&m, name);
	free(m.v);
	return 0;
}

/* ---- lifecycle (callers hold `life`) ---- */

struct vol_array {
	struct modalfs_volinfo *v;
	size_t n, cap;
};

static int collect_cb(const struct modalfs_volinfo *vi, void *arg)
{
	struct vol_array *a = arg;

	if (grow_array(&a->v, a->n, &a->cap, sizeof(*a->v), 64))
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

	if (grow_array(&a->v, a->n, &a->cap, sizeof(*a->v), 16))
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
			 const struct mounts *m, uint32_t *busy)
{
	uint32_t n = mounts_of(m, vi->name);
	int err;

	*busy = n;
	if (n && !force)
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
	struct mounts m;
	int err;

	*busy = 0;
	err = find_by_app(st, app_id, MODALFS_KIND_EPHEMERAL, &vols);
	if (!err)
		err = count_mounts(&m);
	else
		m.v = NULL;
	for (size_t i = 0; !err && !force && i < vols.n; i++) {
		*busy = mounts_of(&m, vols.v[i].name);
		if (*busy) {
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

	read_boot_id(boot_id);
	pthread_mutex_lock(&life);
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
		struct mounts m;
		uint32_t busy;

		if (vols.v[i].kind != MODALFS_KIND_EPHEMERAL ||
		    modalfs_store_app_find(st, vols.v[i].app_id, &ai) != ENOENT)
			continue;
		if (count_mounts(&m))
			continue;
		if (!delete_volume(st, &vols.v[i], false, &m, &busy))
			stopped++;
		free(m.v);
	}
	pthread_mutex_unlock(&life);
	free(apps.v);
	free(vols.v);
	return err ? -err : stopped;
}

/* ---- commands ---- */

static bool need_root(int fd, uint8_t cmd, uint32_t seq,
		      const struct peer *p, const char *what, int *rc)
{
	if (p->uid == 0)
		return false;
	*rc = send_error(fd, cmd, seq, EPERM, "%s requires root", what);
	return true;
}

static int do_make(struct modalfs_store *st, int fd, uint8_t cmd,
		   uint32_t seq, struct nlattr **tb, const struct peer *p)
{
	struct modalfs_ctl_volume v = { 0 };
	char what[128];
	const char *name;
	struct nl_msg *m;
	int err, rc;

	if (!tb[MODALFS_A_VOL_NAME])
		return send_error(fd, cmd, seq, EINVAL,
				  "missing volume name");
	name = nla_data(tb[MODALFS_A_VOL_NAME]);
	if (!modalfs_vol_name_valid(name))
		return send_error(fd, cmd, seq, EINVAL,
				  "invalid volume name '%s': %s", name,
				  MODALFS_VOL_NAME_RULE);
	snprintf(what, sizeof(what), "creating volume '%s'", name);
	if (need_root(fd, cmd, seq, p, what, &rc))
		return rc;
	if (cmd == MODALFS_CTL_CREATE)
		err = modalfs_store_vol_create(st, name,
					       MODALFS_KIND_PERSISTED, &v.vi);
	else
		err = modalfs_store_vol_persisted(st, name, &v.vi);
	if (err == EEXIST)
		return send_error(fd, cmd, seq, err,
				  "volume '%s' already exists", name);
	if (err == ENOSPC)
		return send_error(fd, cmd, seq, err,
				  "cannot create volume '%s': the store is full",
				  name);
	if (err)
		return send_error(fd, cmd, seq, err,
				  "cannot create volume '%s': %s", name,
				  strerror(err));
	if (modalfs_ctl_mount_count(name, &v.mounts))
		v.mounts = 0;
	m = ok_msg(cmd, seq);
	if (m && (nla_put_u64(m, MODALFS_A_VOL_ID, v.vi.vol_id) ||
		  nla_put_string(m, MODALFS_A_APP_ID, v.vi.app_id) ||
		  modalfs_ctl_put_volume(m, &v))) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	rc = send_free(fd, m);
	if (!rc && cmd == MODALFS_CTL_CREATE)
		modalfs_info("created volume '%s' (id %llu)", name,
			     (unsigned long long)v.vi.vol_id);
	return rc;
}

static struct nl_msg *list_msg(uint32_t seq)
{
	return ok_msg(MODALFS_CTL_LIST, seq);
}

/*
 * Volumes are collected first and sent afterwards, so a slow reader never
 * holds a store read transaction open (which would stop LMDB from reusing
 * freed pages).
 */
static int do_list(struct modalfs_store *st, int fd, uint32_t seq)
{
	struct vol_array a = { 0 };
	struct app_array apps = { 0 };
	struct mounts mc = { 0 };
	struct nl_msg *m;
	int err, rc = 0;

	err = modalfs_store_vol_list(st, collect_cb, &a);
	if (!err)
		err = modalfs_store_app_list(st, app_collect_cb, &apps);
	if (!err)
		err = count_mounts(&mc);
	if (err) {
		free(a.v);
		free(apps.v);
		return send_error(fd, MODALFS_CTL_LIST, seq, err,
				  "cannot list volumes: %s", strerror(err));
	}
	m = list_msg(seq);
	for (size_t i = 0; m && !rc && i < a.n; i++) {
		struct modalfs_ctl_volume v = { .vi = a.v[i] };

		v.mounts = mounts_of(&mc, v.vi.name);
		for (size_t j = 0; j < apps.n; j++)
			if (!strcmp(apps.v[j].app_id, v.vi.app_id))
				snprintf(v.app_name, sizeof(v.app_name), "%s",
					 apps.v[j].name);
		if (nlmsg_hdr(m)->nlmsg_len > MODALFS_CTL_LIST_CHUNK) {
			rc = modalfs_ctlmsg_send(fd, m);
			nlmsg_free(m);
			m = rc ? NULL : list_msg(seq);
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
		rc = modalfs_ctlmsg_send(fd, m);
	nlmsg_free(m);
	return rc;
}

static int busy_error(int fd, uint8_t cmd, uint32_t seq, const char *name,
		      uint32_t n)
{
	return send_error(fd, cmd, seq, EBUSY,
			  "volume '%s' is mounted (%u mount%s); unmount it first, or use --force to delete it anyway (its mounts then fail with ESTALE)",
			  name, n, n == 1 ? "" : "s");
}

static int stop_app_reply(struct modalfs_store *st, int fd, uint8_t cmd,
			  uint32_t seq, const char *app_id, bool force)
{
	char busy_name[MODALFS_VOL_NAME_MAX + 1];
	uint32_t busy;
	int err = stop_app(st, app_id, force, busy_name, &busy);

	if (err == EBUSY)
		return busy_error(fd, cmd, seq, busy_name, busy);
	if (err)
		return send_error(fd, cmd, seq, err, "cannot stop app %s: %s",
				  app_id, strerror(err));
	return send_ok(fd, cmd, seq);
}

static int delete_reply(struct modalfs_store *st, int fd, uint8_t cmd,
			uint32_t seq, const struct modalfs_volinfo *vi,
			bool force)
{
	struct mounts m;
	uint32_t busy;
	int err = count_mounts(&m);

	if (err)
		return send_error(fd, cmd, seq, err,
				  "cannot count the mounts of volume '%s': %s",
				  vi->name, strerror(err));
	err = delete_volume(st, vi, force, &m, &busy);
	free(m.v);
	if (err == EBUSY)
		return busy_error(fd, cmd, seq, vi->name, busy);
	if (err == ENOENT)
		return send_error(fd, cmd, seq, err,
				  "volume '%s' does not exist", vi->name);
	if (err)
		return send_error(fd, cmd, seq, err,
				  "cannot delete volume '%s': %s", vi->name,
				  strerror(err));
	return send_ok(fd, cmd, seq);
}

/*
 * DELETE and APP_STOP. An app id may name a persisted volume (its own
 * app) or an app; a name may name a volume (DELETE) or an app (APP_STOP).
 * An APP_ID that is neither is also tried as a volume name, so a volume
 * called "ap-x" can still be deleted.
 */
static int do_delete(struct modalfs_store *st, int fd, uint8_t cmd,
		     uint32_t seq, struct nlattr **tb, const struct peer *p)
{
	uint32_t flags = tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(tb[MODALFS_A_FLAGS]) : 0;
	bool force = flags & MODALFS_CTL_F_FORCE;
	const char *id = tb[MODALFS_A_APP_ID] ?
			 nla_data(tb[MODALFS_A_APP_ID]) : NULL;
	const char *name = cmd == MODALFS_CTL_DELETE ?
		(tb[MODALFS_A_VOL_NAME] ? nla_data(tb[MODALFS_A_VOL_NAME]) : NULL) :
		(tb[MODALFS_A_APP_NAME] ? nla_data(tb[MODALFS_A_APP_NAME]) : NULL);
	const char *what = id ? id : name;
	struct modalfs_volinfo vi;
	struct modalfs_appinfo ai;
	struct vol_array vols;
	char text[160];
	int err, rc;

	if ((!id) == (!name))
		return send_error(fd, cmd, seq, EINVAL, "%s",
				  cmd == MODALFS_CTL_DELETE ?
				  "give exactly one of a volume name and an app id" :
				  "give exactly one of an app id and an app name");
	if (flags & ~MODALFS_CTL_F_FORCE)
		return send_error(fd, cmd, seq, EINVAL, "unknown flags 0x%x",
				  flags);
	snprintf(text, sizeof(text), "%s '%s'",
		 cmd == MODALFS_CTL_DELETE ? "deleting" : "stopping", what);
	if (need_root(fd, cmd, seq, p, text, &rc))
		return rc;
	pthread_mutex_lock(&life);
	if (id) {
		err = find_by_app(st, id, MODALFS_KIND_PERSISTED, &vols);
		if (!err && vols.n) {
			vi = vols.v[0];
			free(vols.v);
			rc = delete_reply(st, fd, cmd, seq, &vi, force);
			goto out;
		}
		free(vols.v);
	}
	if (id || cmd == MODALFS_CTL_APP_STOP) {
		err = modalfs_store_app_find(st, what, &ai);
		if (!err && (!id || !strcmp(ai.app_id, id))) {
			rc = stop_app_reply(st, fd, cmd, seq, ai.app_id, force);
			goto out;
		}
	}
	if (cmd == MODALFS_CTL_DELETE && modalfs_vol_name_valid(what) &&
	    !modalfs_store_vol_lookup(st, what, &vi)) {
		rc = delete_reply(st, fd, cmd, seq, &vi, force);
		goto out;
	}
	rc = send_error(fd, cmd, seq, ENOENT, "%s '%s' does not exist",
			cmd == MODALFS_CTL_DELETE ?
			(id ? "volume or app id" : "volume") :
			"app", what);
out:
	pthread_mutex_unlock(&life);
	return rc;
}

static int do_app_create(struct modalfs_store *st, int fd, uint32_t seq,
			 struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_APP_CREATE;
	const char *name = tb[MODALFS_A_APP_NAME] ?
			   nla_data(tb[MODALFS_A_APP_NAME]) : NULL;
	char boot_id[MODALFS_BOOT_ID_MAX + 1];
	struct modalfs_appinfo ai;
	uint64_t start = 0;
	struct nl_msg *m;
	int err, rc;

	if (name && !modalfs_vol_name_valid(name))
		return send_error(fd, cmd, seq, EINVAL,
				  "invalid app name '%s': app names follow the volume name rule: %s",
				  name, MODALFS_VOL_NAME_RULE);
	if (need_root(fd, cmd, seq, p, "creating an app", &rc))
		return rc;
	if (!name) {
		if (p->pid <= 0 ||
		    (err = modalfs_ctl_proc_start(p->pid, &start, NULL)))
			return send_error(fd, cmd, seq, ESRCH,
					  "cannot identify the peer process %d that would own the app",
					  (int)p->pid);
	}
	read_boot_id(boot_id);
	pthread_mutex_lock(&life);
	err = modalfs_store_app_create(st, name, p->pid, start, boot_id, &ai);
	pthread_mutex_unlock(&life);
	if (err)
		return send_error(fd, cmd, seq, err, "cannot create app%s%s: %s",
				  name ? " " : "", name ? name : "",
				  strerror(err));
	m = ok_msg(cmd, seq);
	if (m && nla_put_string(m, MODALFS_A_APP_ID, ai.app_id)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	if (!name)
		modalfs_dbg("app %s owned by pid %d", ai.app_id, (int)p->pid);
	return send_free(fd, m);
}

static int do_ephemeral(struct modalfs_store *st, int fd, uint32_t seq,
			struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_EPHEMERAL;
	struct modalfs_ctl_volume v = { 0 };
	struct modalfs_appinfo ai;
	const char *id;
	struct nl_msg *m;
	int err, rc;

	if (!tb[MODALFS_A_APP_ID])
		return send_error(fd, cmd, seq, EINVAL, "missing app id");
	id = nla_data(tb[MODALFS_A_APP_ID]);
	if (need_root(fd, cmd, seq, p, "creating an ephemeral volume", &rc))
		return rc;
	pthread_mutex_lock(&life);
	err = modalfs_store_app_find(st, id, &ai);
	if (!err && strcmp(ai.app_id, id))
		err = ENOENT;
	if (!err)
		err = modalfs_store_vol_ephemeral(st, id, &v.vi);
	pthread_mutex_unlock(&life);
	if (err == ENOENT)
		return send_error(fd, cmd, seq, err, "app %s does not exist",
				  id);
	if (err)
		return send_error(fd, cmd, seq, err,
				  "cannot create an ephemeral volume for app %s: %s",
				  id, strerror(err));
	snprintf(v.app_name, sizeof(v.app_name), "%s", ai.name);
	m = ok_msg(cmd, seq);
	if (m && (nla_put_u64(m, MODALFS_A_VOL_ID, v.vi.vol_id) ||
		  nla_put_string(m, MODALFS_A_APP_ID, id) ||
		  modalfs_ctl_put_volume(m, &v))) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	modalfs_info("created ephemeral volume '%s' of app %s", v.vi.name, id);
	return send_free(fd, m);
}

/* ---- file commands ---- */

/* Non-root peers may read what the permission bits let them read. */
static bool may_read(const struct modalfs_iattr *a, const struct peer *p)
{
	if (p->uid == 0)
		return true;
	if (a->uid == p->uid)
		return a->mode & 0400;
	if (a->gid == p->gid)
		return a->mode & 0040;
	return a->mode & 0004;
}

/*
 * Checks VOL_NAME and PATH of a file command; on failure answers and
 * returns false with *rc set.
 */
static bool check_args(int fd, uint8_t cmd, uint32_t seq, struct nlattr **tb,
		       bool need_path, const char **vol, const char **path,
		       int *rc)
{
	*vol = tb[MODALFS_A_VOL_NAME] ? nla_data(tb[MODALFS_A_VOL_NAME]) : NULL;
	*path = tb[MODALFS_A_PATH] ? nla_data(tb[MODALFS_A_PATH]) : "/";
	if (!*vol || (need_path && !tb[MODALFS_A_PATH])) {
		*rc = send_error(fd, cmd, seq, EINVAL, "missing %s",
				 *vol ? "path" : "volume name");
		return false;
	}
	if (!modalfs_vol_name_valid(*vol)) {
		*rc = send_error(fd, cmd, seq, EINVAL,
				 "invalid volume name '%s': %s", *vol,
				 MODALFS_VOL_NAME_RULE);
		return false;
	}
	if ((*path)[0] != '/') {
		*rc = send_error(fd, cmd, seq, EINVAL,
				 "%s:%s: the path must be absolute", *vol,
				 *path);
		return false;
	}
	return true;
}

static int path_error(int fd, uint8_t cmd, uint32_t seq, int err,
		      const char *vol, const char *path,
		      const struct modalfs_store_path *sp)
{
	if (err == ENOENT && !sp->vol)
		return send_error(fd, cmd, seq, ENOENT,
				  "volume '%s' does not exist", vol);
	return send_error(fd, cmd, seq, err, "%s:%s: %s", vol, path,
			  err == EINVAL ? "'..' is not allowed in paths" :
			  strerror(err));
}

/* check_args, then resolves the path; answers on failure. */
static bool resolve(struct modalfs_store *st, int fd, uint8_t cmd,
		    uint32_t seq, struct nlattr **tb, bool need_path,
		    struct modalfs_store_path *sp, const char **vol,
		    const char **path, int *rc)
{
	int err;

	if (!check_args(fd, cmd, seq, tb, need_path, vol, path, rc))
		return false;
	err = modalfs_store_path(st, *vol, *path, sp);
	if (err) {
		*rc = path_error(fd, cmd, seq, err, *vol, *path, sp);
		return false;
	}
	return true;
}

struct dent_array {
	struct modalfs_dirent *v;
	size_t n, cap;
};

static int dent_collect(const struct modalfs_dirent *de, void *arg)
{
	struct dent_array *a = arg;

	if (grow_array(&a->v, a->n, &a->cap, sizeof(*a->v), 64))
		return ENOMEM;
	a->v[a->n++] = *de;
	return 0;
}

static int do_ls(struct modalfs_store *st, int fd, uint32_t seq,
		 struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_LS;
	struct modalfs_store_path sp;
	struct dent_array a = { 0 };
	const char *vol, *path;
	uint64_t off = 0;
	bool eof = false;
	struct nl_msg *m;
	int err = 0, rc;

	if (!resolve(st, fd, cmd, seq, tb, false, &sp, &vol, &path, &rc))
		return rc;
	if (!sp.exists)
		return send_error(fd, cmd, seq, ENOENT, "%s:%s: %s", vol, path,
				  strerror(ENOENT));
	if (!may_read(&sp.attr, p))
		return send_error(fd, cmd, seq, EACCES, "%s:%s: %s", vol, path,
				  strerror(EACCES));
	m = ok_msg(cmd, seq);
	if (!m)
		return -ENOMEM;
	if (!S_ISDIR(sp.attr.mode)) {
		if (modalfs_ctl_put_entry(m, sp.name, &sp.attr) ||
		    nla_put_flag(m, MODALFS_A_EOF)) {
			nlmsg_free(m);
			return -EMSGSIZE;
		}
		return send_free(fd, m);
	}
	while (!err && !eof) {
		a.n = 0;
		err = modalfs_store_readdir(st, sp.vol, sp.attr.ino, off,
					    MODALFS_READDIR_MAX, dent_collect,
					    &a, &eof);
		for (size_t i = 0; !err && i < a.n; i++) {
			struct modalfs_iattr at;

			off = a.v[i].cookie;
			/* Removed since the readdir: skip it. */
			if (modalfs_store_lookup(st, sp.vol, sp.attr.ino,
						 a.v[i].name, &at))
				continue;
			if (nlmsg_hdr(m)->nlmsg_len > MODALFS_CTL_LIST_CHUNK) {
				rc = modalfs_ctlmsg_send(fd, m);
				nlmsg_free(m);
				if (rc) {
					free(a.v);
					return rc;
				}
				m = ok_msg(cmd, seq);
				if (!m) {
					free(a.v);
					return -ENOMEM;
				}
			}
			if (modalfs_ctl_put_entry(m, a.v[i].name, &at))
				err = EMSGSIZE;
		}
		if (!a.n)
			break;
	}
	free(a.v);
	if (err) {
		nlmsg_free(m);
		return send_error(fd, cmd, seq, err, "%s:%s: %s", vol, path,
				  strerror(err));
	}
	if (nla_put_flag(m, MODALFS_A_EOF)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	return send_free(fd, m);
}

static int do_get(struct modalfs_store *st, int fd, uint32_t seq,
		  struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_GET;
	struct modalfs_store_path sp;
	const char *vol, *path;
	uint64_t off;
	uint32_t size;
	size_t got = 0;
	struct nl_msg *m;
	char *buf;
	int err, rc;

	if (!resolve(st, fd, cmd, seq, tb, true, &sp, &vol, &path, &rc))
		return rc;
	if (!tb[MODALFS_A_OFFSET] || !tb[MODALFS_A_SIZE])
		return send_error(fd, cmd, seq, EINVAL,
				  "missing offset or size");
	off = nla_get_u64(tb[MODALFS_A_OFFSET]);
	size = nla_get_u32(tb[MODALFS_A_SIZE]);
	if (size < 1 || size > MODALFS_IO_MAX)
		return send_error(fd, cmd, seq, EINVAL,
				  "size must be 1..%d", MODALFS_IO_MAX);
	err = !sp.exists ? ENOENT : S_ISDIR(sp.attr.mode) ? EISDIR :
	      !S_ISREG(sp.attr.mode) ? EINVAL : !may_read(&sp.attr, p) ?
	      EACCES : 0;
	if (err)
		return send_error(fd, cmd, seq, err, "%s:%s: %s", vol, path,
				  err == EINVAL ? "not a regular file" :
				  strerror(err));
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	err = modalfs_store_read(st, sp.vol, sp.attr.ino, off, size, buf, &got);
	if (!err)
		err = modalfs_store_getattr(st, sp.vol, sp.attr.ino, &sp.attr);
	if (err) {
		free(buf);
		return send_error(fd, cmd, seq, err, "%s:%s: %s", vol, path,
				  strerror(err));
	}
	m = ok_msg(cmd, seq);
	rc = m ? modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, &sp.attr) : -ENOMEM;
	for (size_t done = 0; !rc && done < got; done += MODALFS_DATA_CHUNK) {
		size_t n = got - done < MODALFS_DATA_CHUNK ?
			   got - done : MODALFS_DATA_CHUNK;

		if (nla_put(m, MODALFS_A_DATA, n, buf + done))
			rc = -EMSGSIZE;
	}
	free(buf);
	if (rc) {
		nlmsg_free(m);
		return rc;
	}
	return send_free(fd, m);
}

/* Concatenates the DATA attributes of the request into buf. */
static size_t gather_data(const struct nlmsghdr *nlh, char *buf, size_t cap)
{
	struct nlattr *a;
	size_t len = 0;
	int rem;

	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		size_t n = nla_len(a);

		if (nla_type(a) != MODALFS_A_DATA)
			continue;
		if (len + n > cap)
			return SIZE_MAX;
		memcpy(buf + len, nla_data(a), n);
		len += n;
	}
	return len;
}

static int do_put(struct modalfs_store *st, int fd, uint32_t seq,
		  struct nlattr **tb, const struct nlmsghdr *nlh,
		  const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_PUT;
	struct modalfs_store_path sp;
	struct modalfs_iattr attr;
	const char *vol, *path;
	uint32_t flags = tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(tb[MODALFS_A_FLAGS]) : 0;
	uint32_t mode = tb[MODALFS_A_MODE] ?
			nla_get_u32(tb[MODALFS_A_MODE]) : 0644;
	uint64_t off;
	size_t len;
	char *buf;
	int err, rc;

	if (need_root(fd, cmd, seq, p, "writing to a volume", &rc))
		return rc;
	if (!resolve(st, fd, cmd, seq, tb, true, &sp, &vol, &path, &rc))
		return rc;
	if (!tb[MODALFS_A_OFFSET])
		return send_error(fd, cmd, seq, EINVAL, "missing offset");
	if (flags & ~MODALFS_CTL_F_TRUNC)
		return send_error(fd, cmd, seq, EINVAL, "unknown flags 0x%x",
				  flags);
	off = nla_get_u64(tb[MODALFS_A_OFFSET]);
	if (!sp.name[0])
		return send_error(fd, cmd, seq, EISDIR, "%s:%s: %s", vol, path,
				  strerror(EISDIR));
	buf = malloc(MODALFS_IO_MAX);
	if (!buf)
		return -ENOMEM;
	len = gather_data(nlh, buf, MODALFS_IO_MAX);
	if (len == SIZE_MAX) {
		free(buf);
		return send_error(fd, cmd, seq, EINVAL,
				  "more than %d bytes of data in one request",
				  MODALFS_IO_MAX);
	}
	if (!sp.exists) {
		err = modalfs_store_create(st, NULL, sp.vol, sp.dir, sp.name,
					   S_IFREG | (mode & 07777), p->uid,
					   p->gid, 0, &sp.attr);
		if (!err)
			modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, sp.vol,
					    sp.dir, sp.name);
	} else {
		err = S_ISDIR(sp.attr.mode) ? EISDIR :
		      !S_ISREG(sp.attr.mode) ? EINVAL : 0;
	}
	if (!err && (flags & MODALFS_CTL_F_TRUNC) && sp.attr.size != off) {
		struct modalfs_setattr sa = { .valid = MODALFS_SET_SIZE,
					      .size = off };

		err = modalfs_store_setattr(st, NULL, sp.vol, sp.attr.ino, &sa,
					    &sp.attr);
	}
	attr = sp.attr;
	if (!err && len)
		err = modalfs_store_write(st, NULL, sp.vol, sp.attr.ino, off, buf,
					  len, &attr);
	free(buf);
	if (err)
		return send_error(fd, cmd, seq, err, "%s:%s: %s", vol, path,
				  err == EINVAL ? "not a regular file" :
				  err == ENOENT ? "the parent directory does not exist" :
				  strerror(err));
	modalfs_genl_notify(MODALFS_NOTIFY_INVAL_INODE, sp.vol, sp.attr.ino,
			    NULL);
	{
		struct nl_msg *m = ok_msg(cmd, seq);

		if (m && modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, &attr)) {
			nlmsg_free(m);
			return -EMSGSIZE;
		}
		return send_free(fd, m);
	}
}

static int do_mkdir(struct modalfs_store *st, int fd, uint32_t seq,
		    struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_MKDIR;
	struct modalfs_store_path sp;
	uint32_t mode = tb[MODALFS_A_MODE] ?
			nla_get_u32(tb[MODALFS_A_MODE]) : 0755;
	const char *vol, *path, *c;
	char prefix[MODALFS_PATH_MAX + 1];
	struct nl_msg *m;
	int err = 0, rc;

	if (need_root(fd, cmd, seq, p, "creating a directory", &rc))
		return rc;
	if (!check_args(fd, cmd, seq, tb, true, &vol, &path, &rc))
		return rc;
	snprintf(prefix, sizeof(prefix), "%s", path);
	/* Walk the path, creating each missing component (mkdir -p). */
	for (c = path; !err;) {
		size_t n;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		n = strcspn(c, "/");
		c += n;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(c - path), path);
		err = modalfs_store_path(st, vol, prefix, &sp);
		if (err)
			break;
		if (sp.exists) {
			if (!S_ISDIR(sp.attr.mode))
				err = ENOTDIR;
			continue;
		}
		err = modalfs_store_mkdir(st, NULL, sp.vol, sp.dir, sp.name,
					  mode & 07777, p->uid, p->gid,
					  &sp.attr);
		if (err == EEXIST)	/* a racing mkdir */
			err = modalfs_store_path(st, vol, prefix, &sp);
		else if (!err)
			modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, sp.vol,
					    sp.dir, sp.name);
	}
	if (!err && !path[strspn(path, "/")])
		err = modalfs_store_path(st, vol, "/", &sp);
	if (err == ENOTDIR)
		return send_error(fd, cmd, seq, err,
				  "%s:%s: exists and is not a directory", vol,
				  prefix);
	if (err)
		return path_error(fd, cmd, seq, err, vol, path, &sp);
	m = ok_msg(cmd, seq);
	if (m && modalfs_attrs_put_iattr(m, MODALFS_A_ATTR, &sp.attr)) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	return send_free(fd, m);
}

/* Empties directory dir of vol, depth first. */
static int rm_tree(struct modalfs_store *st, uint64_t vol, uint64_t dir,
		   int depth)
{
	struct dent_array a = { 0 };
	bool eof = false;
	int err = 0;

	if (depth > 4096)
		return ELOOP;
	while (!err) {
		a.n = 0;
		err = modalfs_store_readdir(st, vol, dir, 0,
					    MODALFS_READDIR_MAX, dent_collect,
					    &a, &eof);
		if (err || !a.n)
			break;
		for (size_t i = 0; !err && i < a.n; i++) {
			if (a.v[i].type == (S_IFDIR >> 12)) {
				err = rm_tree(st, vol, a.v[i].ino, depth + 1);
				if (!err)
					err = modalfs_store_rmdir(st, NULL, vol, dir,
								  a.v[i].name);
			} else {
				err = modalfs_store_unlink(st, NULL, vol, dir,
							   a.v[i].name);
			}
			if (err == ENOENT)	/* raced with another remover */
				err = 0;
			if (!err)
				modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY,
						    vol, dir, a.v[i].name);
		}
	}
	free(a.v);
	return err;
}

static int do_rm(struct modalfs_store *st, int fd, uint32_t seq,
		 struct nlattr **tb, const struct peer *p)
{
	const uint8_t cmd = MODALFS_CTL_RM;
	struct modalfs_store_path sp;
	uint32_t flags = tb[MODALFS_A_FLAGS] ?
			 nla_get_u32(tb[MODALFS_A_FLAGS]) : 0;
	const char *vol, *path;
	uint32_t mounts = 1;
	int err, rc;

	if (need_root(fd, cmd, seq, p, "removing files", &rc))
		return rc;
	if (!resolve(st, fd, cmd, seq, tb, true, &sp, &vol, &path, &rc))
		return rc;
	if (flags & ~MODALFS_CTL_F_RECURSIVE)
		return send_error(fd, cmd, seq, EINVAL, "unknown flags 0x%x",
				  flags);
	if (!sp.name[0])
		return send_error(fd, cmd, seq, EBUSY,
				  "%s:%s: cannot remove the root directory (delete the volume instead)",
				  vol, path);
	if (!sp.exists)
		return send_error(fd, cmd, seq, ENOENT, "%s:%s: %s", vol, path,
				  strerror(ENOENT));
	if (S_ISDIR(sp.attr.mode)) {
		err = 0;
		if (flags & MODALFS_CTL_F_RECURSIVE)
			err = rm_tree(st, sp.vol, sp.attr.ino, 0);
		if (!err)
			err = modalfs_store_rmdir(st, NULL, sp.vol, sp.dir, sp.name);
	} else {
		err = modalfs_store_unlink(st, NULL, sp.vol, sp.dir, sp.name);
	}
	if (!err)
		modalfs_genl_notify(MODALFS_NOTIFY_INVAL_ENTRY, sp.vol, sp.dir,
				    sp.name);
	/*
	 * Removed inodes wait as orphans for the kernel's EVICT; with no
	 * mount nothing will send one, so free them now.
	 */
	if (!modalfs_ctl_mount_count(vol, &mounts) && !mounts)
		modalfs_store_umount(st, NULL, sp.vol);
	if (err)
		return send_error(fd, cmd, seq, err, "%s:%s: %s%s", vol, path,
				  strerror(err),
				  err == ENOTEMPTY ? " (use -r to remove it and its contents)" : "");
	return send_ok(fd, cmd, seq);
}

static int do_stats(struct modalfs_store *st, int fd, uint32_t seq)
{
	struct modalfs_stats_snapshot *snap = malloc(sizeof(*snap));
	struct nl_msg *m = ok_msg(MODALFS_CTL_STATS, seq);
	int rc = -ENOMEM;

	if (snap && m) {
		modalfs_stats_snapshot(modalfs_store_stats(st), snap);
		rc = modalfs_ctl_put_stats(m, snap);
	}
	free(snap);
	if (rc) {
		nlmsg_free(m);
		return rc;
	}
	return send_free(fd, m);
}

int modalfs_ctl_handle_peer(struct modalfs_store *st, int fd, void *buf,
			    size_t len, pid_t pid, uid_t uid, gid_t gid)
{
	struct nlattr *tb[MODALFS_A_MAX + 1];
	struct peer p = { .pid = pid, .uid = uid, .gid = gid };
	struct nlmsghdr *nlh = buf;
	struct genlmsghdr *g;
	uint32_t seq;
	uint8_t cmd;

	if (modalfs_ctlmsg_parse(buf, len, &nlh, &cmd, tb)) {
		/* Answer what can be named; drop the rest. */
		if (len < NLMSG_HDRLEN + GENL_HDRLEN ||
		    nlh->nlmsg_len != len ||
		    nlh->nlmsg_type != MODALFS_CTL_NLMSG_TYPE)
			return -EINVAL;
		g = nlmsg_data(nlh);
		return send_error(fd, g->cmd, nlh->nlmsg_seq, EINVAL,
				  "malformed request (protocol version %d expected)",
				  MODALFS_GENL_VERSION);
	}
	seq = nlh->nlmsg_seq;
	switch (cmd) {
	case MODALFS_CTL_PERSISTED:
	case MODALFS_CTL_CREATE:
		return do_make(st, fd, cmd, seq, tb, &p);
	case MODALFS_CTL_LIST:
		return do_list(st, fd, seq);
	case MODALFS_CTL_DELETE:
	case MODALFS_CTL_APP_STOP:
		return do_delete(st, fd, cmd, seq, tb, &p);
	case MODALFS_CTL_APP_CREATE:
		return do_app_create(st, fd, seq, tb, &p);
	case MODALFS_CTL_EPHEMERAL:
		return do_ephemeral(st, fd, seq, tb, &p);
	case MODALFS_CTL_LS:
		return do_ls(st, fd, seq, tb, &p);
	case MODALFS_CTL_GET:
		return do_get(st, fd, seq, tb, &p);
	case MODALFS_CTL_PUT:
		return do_put(st, fd, seq, tb, nlh, &p);
	case MODALFS_CTL_MKDIR:
		return do_mkdir(st, fd, seq, tb, &p);
	case MODALFS_CTL_RM:
		return do_rm(st, fd, seq, tb, &p);
	case MODALFS_CTL_STATS:
		return do_stats(st, fd, seq);
	default:
		return send_error(fd, cmd, seq, EOPNOTSUPP,
				  "unknown command %u", cmd);
	}
}

int modalfs_ctl_handle(struct modalfs_store *st, int fd, void *buf,
		       size_t len, uid_t uid)
{
	return modalfs_ctl_handle_peer(st, fd, buf, len, 0, uid, 0);
}

static void *client(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	void *buf = malloc(MODALFS_CTL_DGRAM_MAX);
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	if (buf && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
		for (;;) {
			ssize_t n;

			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[1].revents)
				break;
			n = recv(fd, buf, MODALFS_CTL_DGRAM_MAX, MSG_TRUNC);
			if (n <= 0 || n > MODALFS_CTL_DGRAM_MAX)
				break;
			if (modalfs_ctl_handle_peer(srv.st, fd, buf, n,
						    cred.pid, cred.uid,
						    cred.gid))
				break;
		}
	}
	free(buf);
	close(fd);
	pthread_mutex_lock(&srv.lock);
	srv.clients--;
	pthread_cond_broadcast(&srv.gone);
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

static void *reaper(void *arg)
{
	struct pollfd p = { .fd = srv.stop_pipe[0], .events = POLLIN };
	int err;

	(void)arg;
	/* Deletions a crash interrupted, then apps whose owner is gone. */
	err = modalfs_store_vol_purge_pending(srv.st);
	if (err)
		modalfs_warn("cannot finish interrupted volume deletions: %s",
			     strerror(err));
	for (;;) {
		err = modalfs_ctl_reap(srv.st);
		if (err < 0)
			modalfs_warn("reaping apps: %s", strerror(-err));
		if (poll(&p, 1, REAP_INTERVAL_MS) > 0)
			break;
	}
	return NULL;
}

static void *acceptor(void *arg)
{
	struct pollfd p[2] = {
		{ .fd = srv.lfd, .events = POLLIN },
		{ .fd = srv.stop_pipe[0], .events = POLLIN },
	};

	(void)arg;
	for (;;) {
		pthread_attr_t attr;
		pthread_t t;
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv.lock);
		srv.clients++;
		pthread_mutex_unlock(&srv.lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, client, (void *)(intptr_t)fd)) {
			close(fd);
			pthread_mutex_lock(&srv.lock);
			srv.clients--;
			pthread_mutex_unlock(&srv.lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int modalfs_ctl_start(struct modalfs_store *st, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	char *slash;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = modalfs_mkdir_p(dir, 0755);
		if (err)
			return err;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* A live socket means another daemon; a dead one is left over. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0666) || listen(fd, 64)) {
		err = errno;
		close(fd);
		return err;
	}
	if (pipe2(srv.stop_pipe, O_CLOEXEC)) {
		err = errno;
		close(fd);
		return err;
	}
	srv.st = st;
	srv.lfd = fd;
	snprintf(srv.path, sizeof(srv.path), "%s", path);
	err = pthread_create(&srv.acceptor, NULL, acceptor, NULL);
	if (err) {
		close(fd);
		srv.lfd = -1;
		return err;
	}
	err = pthread_create(&srv.reaper, NULL, reaper, NULL);
	if (err)
		modalfs_warn("cannot start the app reaper: %s", strerror(err));
	else
		srv.reaper_running = true;
	return 0;
}

void modalfs_ctl_stop(void)
{
	if (srv.lfd < 0)
		return;
	if (write(srv.stop_pipe[1], "x", 1) != 1)
		modalfs_err("cannot stop the control socket threads");
	pthread_join(srv.acceptor, NULL);
	if (srv.reaper_running)
		pthread_join(srv.reaper, NULL);
	srv.reaper_running = false;
	pthread_mutex_lock(&srv.lock);
	while (srv.clients)
		pthread_cond_wait(&srv.gone, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	close(srv.lfd);
	srv.lfd = -1;
	unlink(srv.path);
	close(srv.stop_pipe[0]);
	close(srv.stop_pipe[1]);
}
