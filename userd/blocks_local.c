// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The local block store backend: one sparse file per object, at
 * DIR/VOL/INO.INDEX (decimal), written in place with pwrite. A volume is
 * one directory, so deleting it is removing files from one directory in
 * bounded steps. The host file system gives freed space back at once and
 * keeps holes unallocated. sync is syncfs(2) of the file system holding
 * DIR: it covers the objects' data and the directory entries of new and
 * removed objects in one call, however many objects were written, and is
 * skipped when nothing changed since the last one.
 *
 * Writes keep the descriptors of the objects they wrote last open (struct
 * fdcache): a WRITE then costs pwrite and fstat, not also openat and
 * close. Removing an object or a volume drops its descriptors first, so
 * no write ever goes to a file that is no longer in the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blocks.h"
#include "fsutil.h"

/*
 * Slots of open object descriptors. A slot is taken (refs) for the
 * length of one write; a dropped one (!live) is closed by its last user,
 * and reused only once closed (fd -1).
 */
#define FDCACHE 16

struct fdslot {
	uint64_t vol, ino, idx;
	uint64_t used;		/* tick of its last use, for eviction */
	int fd;
	unsigned int refs;
	bool live;
};

struct local {
	struct modalfs_blocks b;
	pthread_mutex_t fdlock;
	struct fdslot fds[FDCACHE];
	uint64_t tick;
	int dirfd;		/* DIR */
	bool rdonly;
	/*
	 * Changes made (counted after each write, truncate or remove
	 * returned) and the count the last syncfs covered. gen starts at 1:
	 * the first sync also covers what an earlier daemon left unsynced.
	 */
	uint64_t gen, synced;
};

static struct local *L(struct modalfs_blocks *b)
{
	return (struct local *)b;
}

/* After a change returned (even a failed one: it may have done part). */
static void changed(struct local *l)
{
	__atomic_add_fetch(&l->gen, 1, __ATOMIC_RELEASE);
}

static void obj_name(char *buf, size_t n, uint64_t vol, uint64_t ino,
		     uint64_t idx)
{
	snprintf(buf, n, "%" PRIu64 "/%" PRIu64 ".%" PRIu64, vol, ino, idx);
}

static int obj_open(struct local *l, uint64_t vol, uint64_t ino,
		    uint64_t idx, int flags)
{
	char name[80];
	int fd;

	obj_name(name, sizeof(name), vol, ino, idx);
	fd = openat(l->dirfd, name, flags | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && (flags & O_CREAT)) {
		char vdir[32];

		snprintf(vdir, sizeof(vdir), "%" PRIu64, vol);
		if (mkdirat(l->dirfd, vdir, 0700) && errno != EEXIST)
			return -errno;
		fd = openat(l->dirfd, name, flags | O_CLOEXEC, 0600);
	}
	return fd < 0 ? -errno : fd;
}

/* The object's live slot, with a reference taken, or NULL; under fdlock. */
static struct fdslot *fd_take(struct local *l, uint64_t vol, uint64_t ino,
			      uint64_t idx)
{
	for (int i = 0; i < FDCACHE; i++) {
		struct fdslot *s = &l->fds[i];

		if (s->live && s->vol == vol && s->ino == ino &&
		    s->idx == idx) {
			s->refs++;
			s->used = ++l->tick;
			return s;
		}
	}
	return NULL;
}

/*
 * A descriptor of the object for writing, created if missing and create
 * (else -ENOENT); *slot is its cache slot, or NULL when every slot was
 * busy (then it is the caller's to close). Release it with fd_put.
 */
static int fd_get(struct local *l, uint64_t vol, uint64_t ino, uint64_t idx,
		  bool create, struct fdslot **slot)
{
	struct fdslot *s, *victim = NULL;
	int fd;

	pthread_mutex_lock(&l->fdlock);
	s = fd_take(l, vol, ino, idx);
	pthread_mutex_unlock(&l->fdlock);
	if (s) {
		*slot = s;
		return s->fd;
	}
	fd = obj_open(l, vol, ino, idx, O_WRONLY | (create ? O_CREAT : 0));
	*slot = NULL;
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&l->fdlock);
	/* Another writer may have cached it meanwhile: use that one. */
	s = fd_take(l, vol, ino, idx);
	if (s) {
		pthread_mutex_unlock(&l->fdlock);
		close(fd);
		*slot = s;
		return s->fd;
	}
	for (int i = 0; i < FDCACHE; i++) {
		s = &l->fds[i];
		if (s->refs || (!s->live && s->fd >= 0))
			continue;
		if (!victim || !s->live ||
		    (victim->live && s->used < victim->used))
			victim = s;
	}
	if (victim) {
		if (victim->live)
			close(victim->fd);
		*victim = (struct fdslot){ vol, ino, idx, ++l->tick, fd, 1,
					   true };
		*slot = victim;
	}
	pthread_mutex_unlock(&l->fdlock);
	return fd;
}

static void fd_put(struct local *l, struct fdslot *s, int fd)
{
	if (!s) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&l->fdlock);
	if (!--s->refs && !s->live) {
		close(s->fd);
		s->fd = -1;
	}
	pthread_mutex_unlock(&l->fdlock);
}

/* Drops the descriptors of one object, or of all of vol's (all). */
static void fd_drop(struct local *l, uint64_t vol, uint64_t ino,
		    uint64_t idx, bool all)
{
	pthread_mutex_lock(&l->fdlock);
	for (int i = 0; i < FDCACHE; i++) {
		struct fdslot *s = &l->fds[i];

		if (!s->live || s->vol != vol ||
		    (!all && (s->ino != ino || s->idx != idx)))
			continue;
		s->live = false;
		if (!s->refs) {
			close(s->fd);
			s->fd = -1;
		}
	}
	pthread_mutex_unlock(&l->fdlock);
}

static int local_write(struct modalfs_blocks *b, uint64_t vol, uint64_t ino,
		       uint64_t idx, uint32_t off, const void *buf, size_t len,
		       uint64_t *alloc)
{
	struct fdslot *slot;
	struct stat sb;
	int fd = fd_get(L(b), vol, ino, idx, true, &slot);
	size_t done = 0;
	int err = 0;

	if (fd < 0)
		return -fd;
	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		done += n;
	}
	changed(L(b));
	if (!err)
		err = fstat(fd, &sb) ? errno : 0;
	if (!err)
		*alloc = sb.st_blocks;
	fd_put(L(b), slot, fd);
	return err;
}

static int local_read(struct modalfs_blocks *b, uint64_t vol, uint64_t ino,
		      uint64_t idx, uint32_t off, void *buf, size_t len)
{
	int fd = obj_open(L(b), vol, ino, idx, O_RDONLY);
	size_t done = 0;
	int err = 0;

	if (fd == -ENOENT) {
		memset(buf, 0, len);
		return 0;
	}
	if (fd < 0)
		return -fd;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0) {
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += n;
	}
	close(fd);
	return err;
}

static int local_truncate(struct modalfs_blocks *b, uint64_t vol,
			  uint64_t ino, uint64_t idx, uint32_t len)
{
	struct fdslot *slot;
	char name[80];
	int fd, err;

	obj_name(name, sizeof(name), vol, ino, idx);
	if (!len) {
		fd_drop(L(b), vol, ino, idx, false);
		err = unlinkat(L(b)->dirfd, name, 0) && errno != ENOENT ?
		      errno : 0;
		changed(L(b));
		return err;
	}
	/* A write past the valid length cuts first: the same descriptor. */
	fd = fd_get(L(b), vol, ino, idx, false, &slot);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return -fd;
	err = ftruncate(fd, len) ? errno : 0;
	changed(L(b));
	fd_put(L(b), slot, fd);
	return err;
}

static int local_remove_volume(struct modalfs_blocks *b, uint64_t vol,
			       uint32_t budget, bool *done)
{
	struct local *l = L(b);
	char vdir[32];
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	*done = false;
	fd_drop(l, vol, 0, 0, true);
	snprintf(vdir, sizeof(vdir), "%" PRIu64, vol);
	fd = openat(l->dirfd, vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return errno;
		*done = true;
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		err = errno;
		close(fd);
		return err;
	}
	while (budget && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(fd, de->d_name, 0) && errno != ENOENT) {
			err = errno;
			break;
		}
		budget--;
	}
	closedir(d);
	if (!err && budget) {
		if (unlinkat(l->dirfd, vdir, AT_REMOVEDIR) && errno != ENOENT)
			err = errno == ENOTEMPTY ? 0 : errno;
		else
			*done = true;
	}
	changed(l);
	return err;
}

/*
 * gen is read before syncfs, so every change it counts had returned
 * before the sync began; a sync finding synced == gen has nothing new.
 */
static int local_sync(struct modalfs_blocks *b)
{
	struct local *l = L(b);
	uint64_t gen = __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
	uint64_t done = __atomic_load_n(&l->synced, __ATOMIC_ACQUIRE);

	if (gen == done)
		return 0;
	if (syncfs(l->dirfd))
		return errno;
	/* Concurrent syncs: the newest count synced wins. */
	while (done < gen &&
	       !__atomic_compare_exchange_n(&l->synced, &done, gen, true,
					    __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
	return 0;
}

/* "N" and "N.M" of decimal digits only; false for anything else. */
static bool parse_u64(const char *s, char end, uint64_t *out, const char **rest)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &e, 10);
	if (errno || *e != end)
		return false;
	if (rest)
		*rest = e + 1;
	return true;
}

static int local_walk(struct modalfs_blocks *b,
		      int (*cb)(uint64_t vol, uint64_t ino, uint64_t idx,
				uint64_t len, void *arg),
		      void *arg)
{
	struct local *l = L(b);
	struct dirent *vd, *od;
	DIR *top, *d;
	int fd, err = 0;

	fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(top = fdopendir(fd))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while (!err && (vd = readdir(top))) {
		uint64_t vol;
		int vfd;

		if (!parse_u64(vd->d_name, '\0', &vol, NULL))
			continue;
		vfd = openat(l->dirfd, vd->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (vfd < 0 || !(d = fdopendir(vfd))) {
			if (vfd >= 0)
				close(vfd);
			continue;
		}
		while (!err && (od = readdir(d))) {
			const char *rest;
			uint64_t ino, idx;
			struct stat sb;

			if (!parse_u64(od->d_name, '.', &ino, &rest) ||
			    !parse_u64(rest, '\0', &idx, NULL))
				continue;
			if (fstatat(vfd, od->d_name, &sb, 0))
				continue;
			err = cb(vol, ino, idx, sb.st_size, arg);
		}
		closedir(d);
	}
	closedir(top);
	return err;
}

static int usage_cb(uint64_t vol, uint64_t ino, uint64_t idx, uint64_t len,
		    void *arg)
{
	(void)vol;
	(void)ino;
	(void)idx;
	*(uint64_t *)arg += len;
	return 0;
}

static int local_usage(struct modalfs_blocks *b, uint64_t *bytes)
{
	*bytes = 0;
	return local_walk(b, usage_cb, bytes);
}

static void local_close(struct modalfs_blocks *b)
{
	struct local *l = L(b);

	if (!l)
		return;
	for (int i = 0; i < FDCACHE; i++)
		if (l->fds[i].fd >= 0)
			close(l->fds[i].fd);
	pthread_mutex_destroy(&l->fdlock);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l);
}

static const struct modalfs_blocks_ops local_ops = {
	.name = "local",
	.write = local_write,
	.read = local_read,
	.truncate = local_truncate,
	.remove_volume = local_remove_volume,
	.sync = local_sync,
	.walk = local_walk,
	.usage = local_usage,
	.close = local_close,
};

int modalfs_blocks_local_open(const char *dir, bool rdonly,
			      struct modalfs_blocks **out)
{
	struct local *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return ENOMEM;
	l->b.ops = &local_ops;
	l->rdonly = rdonly;
	l->gen = 1;
	pthread_mutex_init(&l->fdlock, NULL);
	for (int i = 0; i < FDCACHE; i++)
		l->fds[i].fd = -1;
	if (!rdonly) {
		err = modalfs_mkdir_p(dir, 0700);
		if (err) {
			free(l);
			return err;
		}
	}
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0) {
		err = errno;
		free(l);
		return err;
	}
	*out = &l->b;
	return 0;
}
