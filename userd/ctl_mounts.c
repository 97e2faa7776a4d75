// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Processes and mounts, as the control server sees them: /proc for app
 * owners and for mounts in every mount namespace, and the kernel's own
 * /sys/fs/modalfs/volumes/<id> for superblocks that are still alive.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_priv.h"
#include "names.h"

#define SYSFS_VOLUMES "/sys/fs/modalfs/volumes"

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

void modalfs_ctl_boot_id(char *out)
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

static int mounts_add(struct modalfs_ctl_mounts *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++) {
		if (!strcmp(m->v[i].name, name)) {
			m->v[i].n++;
			return 0;
		}
	}
	if (modalfs_ctl_grow(&m->v, m->n, &m->cap, sizeof(*m->v), 16))
		return ENOMEM;
	snprintf(m->v[m->n].name, sizeof(m->v[m->n].name), "%s", name);
	m->v[m->n++].n = 1;
	return 0;
}

uint32_t modalfs_ctl_mounts_of(const struct modalfs_ctl_mounts *m,
			       const char *name)
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
int modalfs_ctl_count_mounts(struct modalfs_ctl_mounts *m)
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
		if (modalfs_ctl_grow(&seen, nseen, &capseen, sizeof(*seen), 16)) {
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
	struct modalfs_ctl_mounts m;
	int err = modalfs_ctl_count_mounts(&m);

	if (err)
		return err;
	*n = modalfs_ctl_mounts_of(&m, name);
	free(m.v);
	return 0;
}

bool modalfs_ctl_vol_alive(uint64_t vol_id)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), SYSFS_VOLUMES "/%" PRIu64, vol_id);
	/* Only ENOENT means gone; anything else (EACCES, ...) is "maybe". */
	return !stat(path, &sb) || errno != ENOENT;
}
