// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsctl ls, put, get, rm: files of a volume without mounting it
 * (CTL_LS, CTL_PUT, CTL_MKDIR, CTL_GET, CTL_RM).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_client.h"
#include "modalfsctl.h"

/* A request on volume vol about path; NULL after printing an error. */
static struct nl_msg *path_req(struct ctl_conn *c, uint8_t cmd,
			       const char *vol, const char *path)
{
	struct nl_msg *m = ctl_request(c, cmd);

	if (m && (nla_put_string(m, MODALFS_A_VOL_NAME, vol) ||
		  nla_put_string(m, MODALFS_A_PATH, path))) {
		nlmsg_free(m);
		ctl_fail("%s:%s: path too long", vol, path);
		return NULL;
	}
	return m;
}

/* Remote paths are absolute; "x" means "/x". */
static int abs_path(const char *vol, const char *in, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s%s", in[0] == '/' ? "" : "/", in) >= n ||
	    strlen(out) > MODALFS_PATH_MAX)
		return ctl_fail("%s:%s: path too long", vol, in);
	return 0;
}

/* ---- ls ---- */

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	default: return "unknown";
	}
}

static void mode_string(uint32_t mode, char *s)
{
	static const char types[] = "?pc?d?b?-?l?s???";
	static const char rwx[] = "rwxrwxrwx";

	s[0] = types[(mode & S_IFMT) >> 12];
	for (int i = 0; i < 9; i++)
		s[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
	if (mode & S_ISUID)
		s[3] = mode & 0100 ? 's' : 'S';
	if (mode & S_ISGID)
		s[6] = mode & 0010 ? 's' : 'S';
	if (mode & S_ISVTX)
		s[9] = mode & 0001 ? 't' : 'T';
	s[10] = '\0';
}

static void print_entry(const char *name, const struct modalfs_iattr *a,
			bool json, bool first)
{
	char t[32], ms[11];

	fmt_time(a->mtime_sec, t, sizeof(t));
	if (!json) {
		mode_string(a->mode, ms);
		printf("%s %14llu %s %s%s\n", ms, (unsigned long long)a->size,
		       t, name, S_ISDIR(a->mode) ? "/" : "");
		return;
	}
	printf("%s\n  {\"name\": ", first ? "" : ",");
	json_string(stdout, name);
	printf(", \"type\": \"%s\", \"mode\": %u, \"size\": %llu, \"nlink\": %u, "
	       "\"uid\": %u, \"gid\": %u, \"ino\": %llu, \"mtime\": \"%s\", "
	       "\"mtime_unix\": %lld}",
	       type_name(a->mode), a->mode & 07777,
	       (unsigned long long)a->size, a->nlink, a->uid, a->gid,
	       (unsigned long long)a->ino, t, (long long)a->mtime_sec);
}

int cmd_ls(int argc, char **argv)
{
	bool json = false, first = true;
	const struct flag flags[] = { { "json", 0, &json }, { NULL, 0, NULL } };
	char *pos[2], path[MODALFS_PATH_MAX + 2];
	struct ctl_conn c;
	int n, rc;

	n = parse_flags(argc, argv, flags, pos, 2, usage_ls);
	if (n < 0)
		return EXIT_USAGE;
	if (n == 0)
		return usage_error(usage_ls, "ls: missing NAME");
	if (!ctl_name_ok(pos[0]))
		return EXIT_USAGE;
	if (abs_path(pos[0], n > 1 ? pos[1] : "/", path, sizeof(path)))
		return EXIT_RUNTIME;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	rc = ctl_call(&c, MODALFS_CTL_LS,
		      path_req(&c, MODALFS_CTL_LS, pos[0], path));
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, path);
	if (rc)
		goto out;
	if (json)
		printf("[");
	for (;;) {
		struct nlattr *a;
		int rem;

		nlmsg_for_each_attr(a, c.nlh, GENL_HDRLEN, rem) {
			char name[MODALFS_NAME_MAX + 1];
			struct modalfs_iattr at;

			if (nla_type(a) != MODALFS_A_ENTRY)
				continue;
			if (modalfs_ctl_get_entry(a, name, &at)) {
				rc = ctl_fail("malformed entry in reply from modalfsd");
				goto out;
			}
			print_entry(name, &at, json, first);
			first = false;
		}
		if (c.tb[MODALFS_A_EOF])
			break;
		rc = ctl_next(&c, MODALFS_CTL_LS);
		if (!rc && ctl_errno(&c))
			rc = ctl_report(&c, path);
		if (rc)
			goto out;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
out:
	fflush(stdout);
	ctl_close(&c);
	return rc;
}

/* ---- put ---- */

static int remote_mkdir(struct ctl_conn *c, const char *vol, const char *path,
			uint32_t mode)
{
	struct nl_msg *m = path_req(c, MODALFS_CTL_MKDIR, vol, path);
	int rc;

	if (m && nla_put_u32(m, MODALFS_A_MODE, mode & 07777)) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = ctl_call(c, MODALFS_CTL_MKDIR, m);
	if (!rc && ctl_errno(c))
		rc = ctl_report(c, path);
	return rc;
}

/*
 * One PUT of len bytes at off. The file is staged by modalfsd and replaces
 * the old one only with the last chunk, so an interrupted put (or a full
 * store) leaves the old file whole.
 */
static int put_chunk(struct ctl_conn *c, const char *vol, const char *path,
		     uint64_t off, const char *buf, size_t len, uint32_t mode,
		     bool last)
{
	struct nl_msg *m = path_req(c, MODALFS_CTL_PUT, vol, path);
	uint32_t flags = MODALFS_CTL_F_ATOMIC |
			 (last ? MODALFS_CTL_F_COMMIT : 0);
	int rc = m ? 0 : 1;

	if (m && (nla_put_u64(m, MODALFS_A_OFFSET, off) ||
		  nla_put_u32(m, MODALFS_A_MODE, mode & 07777) ||
		  nla_put_u32(m, MODALFS_A_FLAGS, flags)))
		rc = 1;
	for (size_t done = 0; !rc && done < len; done += MODALFS_DATA_CHUNK) {
		size_t n = len - done < MODALFS_DATA_CHUNK ?
			   len - done : MODALFS_DATA_CHUNK;

		if (nla_put(m, MODALFS_A_DATA, n, buf + done))
			rc = 1;
	}
	if (rc) {
		nlmsg_free(m);
		return ctl_fail("%s:%s: cannot build the request", vol, path);
	}
	rc = ctl_call(c, MODALFS_CTL_PUT, m);
	if (!rc && ctl_errno(c)) {
		rc = ctl_report(c, path);
		if (ctl_errno(c) == EISDIR)
			fprintf(stderr, "modalfsctl: (end REMOTE with '/' to put the file inside that directory)\n");
	}
	return rc;
}

static int put_file(struct ctl_conn *c, const char *vol, const char *local,
		    const char *remote)
{
	struct progress p;
	struct stat sb;
	uint64_t off = 0;
	char *buf;
	int fd, rc = 0;

	fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		rc = ctl_fail("cannot read %s: %s", local, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	buf = malloc(MODALFS_CTL_IO_MAX);
	if (!buf) {
		close(fd);
		return ctl_fail("out of memory");
	}
	progress_start(&p, remote, sb.st_size);
	for (;;) {
		size_t len = 0;

		while (len < MODALFS_CTL_IO_MAX) {
			ssize_t n = read(fd, buf + len, MODALFS_CTL_IO_MAX - len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = ctl_fail("reading %s: %s", local,
					      strerror(errno));
				break;
			}
			if (n == 0)
				break;
			len += n;
		}
		if (rc)
			break;
		/* The last request commits, even when empty. */
		rc = put_chunk(c, vol, remote, off, buf, len, sb.st_mode,
			       len < MODALFS_CTL_IO_MAX);
		if (rc)
			break;
		progress_add(&p, len);
		if (len < MODALFS_CTL_IO_MAX)
			break;
		off += len;
	}
	progress_end(&p);
	free(buf);
	close(fd);
	return rc;
}

static int put_tree(struct ctl_conn *c, const char *vol, const char *local,
		    const char *remote, mode_t mode, int *skipped)
{
	struct dirent *de;
	DIR *d;
	int rc;

	rc = remote_mkdir(c, vol, remote, mode);
	if (rc)
		return rc;
	d = opendir(local);
	if (!d)
		return ctl_fail("cannot read %s: %s", local, strerror(errno));
	while (!rc && (de = readdir(d))) {
		char lp[PATH_MAX], rp[MODALFS_PATH_MAX + 2];
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(lp, sizeof(lp), "%s/%s", local,
				     de->d_name) >= sizeof(lp) ||
		    (size_t)snprintf(rp, sizeof(rp), "%s%s%s", remote,
				     remote[strlen(remote) - 1] == '/' ? "" : "/",
				     de->d_name) > MODALFS_PATH_MAX) {
			rc = ctl_fail("%s:%s/%s: path too long", vol, remote,
				      de->d_name);
			break;
		}
		if (lstat(lp, &sb)) {
			rc = ctl_fail("cannot read %s: %s", lp,
				      strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			rc = put_tree(c, vol, lp, rp, sb.st_mode, skipped);
		} else if (S_ISREG(sb.st_mode)) {
			rc = put_file(c, vol, lp, rp);
		} else {
			fprintf(stderr, "modalfsctl: skipping %s: not a regular file or directory\n",
				lp);
			(*skipped)++;
		}
	}
	closedir(d);
	return rc;
}

/* The last component of a local path, trailing slashes ignored. */
static void base_of(const char *path, char *out, size_t n)
{
	char tmp[PATH_MAX];
	size_t len;

	snprintf(tmp, sizeof(tmp), "%s", path);
	len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	snprintf(out, n, "%s", basename(tmp));
}

int cmd_put(int argc, char **argv)
{
	char *pos[3], base[NAME_MAX + 1], remote[MODALFS_PATH_MAX + 2];
	char parent[MODALFS_PATH_MAX + 2];
	struct ctl_conn c;
	struct stat sb;
	int n, rc, skipped = 0;

	n = parse_flags(argc, argv, NULL, pos, 3, usage_put);
	if (n < 0)
		return EXIT_USAGE;
	if (n < 2)
		return usage_error(usage_put, "put: missing %s",
				   n ? "LOCAL" : "NAME and LOCAL");
	if (!ctl_name_ok(pos[0]))
		return EXIT_USAGE;
	if (stat(pos[1], &sb))
		return ctl_fail("cannot read %s: %s", pos[1], strerror(errno));
	if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
		return ctl_fail("%s: not a regular file or directory", pos[1]);
	base_of(pos[1], base, sizeof(base));
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
		if (n < 3)
			return ctl_fail("%s has no name to put it under; give REMOTE",
					pos[1]);
		base[0] = '\0';
	}
	if (n < 3)
		rc = abs_path(pos[0], base, remote, sizeof(remote));
	else if (pos[2][strlen(pos[2]) - 1] == '/' && base[0]) {
		char tmp[MODALFS_PATH_MAX + 2];

		if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", pos[2], base) >=
		    sizeof(tmp))
			return ctl_fail("%s:%s%s: path too long", pos[0],
					pos[2], base);
		rc = abs_path(pos[0], tmp, remote, sizeof(remote));
	} else {
		rc = abs_path(pos[0], pos[2], remote, sizeof(remote));
	}
	if (rc)
		return rc;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	if (S_ISDIR(sb.st_mode)) {
		rc = put_tree(&c, pos[0], pos[1], remote, sb.st_mode, &skipped);
	} else {
		/* mkdir -p the parent first: PUT does not create parents. */
		snprintf(parent, sizeof(parent), "%s", remote);
		*strrchr(parent, '/') = '\0';
		rc = parent[0] ? remote_mkdir(&c, pos[0], parent, 0755) : 0;
		if (!rc)
			rc = put_file(&c, pos[0], pos[1], remote);
	}
	ctl_close(&c);
	if (!rc && skipped)
		fprintf(stderr, "modalfsctl: %d entr%s skipped\n", skipped,
			skipped == 1 ? "y" : "ies");
	return rc;
}

/* ---- get ---- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Gathers the DATA of the last GET reply into buf; returns its length. */
static size_t reply_data(struct ctl_conn *c, char *buf, size_t cap)
{
	struct nlattr *a;
	size_t len = 0;
	int rem;

	nlmsg_for_each_attr(a, c->nlh, GENL_HDRLEN, rem) {
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

/* Copies remote to fd; *mode gets the file's permission bits. */
static int get_to_fd(struct ctl_conn *c, const char *vol, const char *remote,
		     int fd, const char *dest, uint32_t *mode)
{
	struct progress p;
	uint64_t off = 0;
	bool started = false;
	char *buf = malloc(MODALFS_CTL_IO_MAX);
	int rc = 0;

	if (!buf)
		return ctl_fail("out of memory");
	for (;;) {
		struct nl_msg *m = path_req(c, MODALFS_CTL_GET, vol, remote);
		struct modalfs_iattr at;
		size_t len;

		if (m && (nla_put_u64(m, MODALFS_A_OFFSET, off) ||
			  nla_put_u32(m, MODALFS_A_SIZE, MODALFS_CTL_IO_MAX))) {
			nlmsg_free(m);
			m = NULL;
		}
		rc = ctl_call(c, MODALFS_CTL_GET, m);
		if (!rc && ctl_errno(c))
			rc = ctl_report(c, remote);
		if (rc)
			break;
		len = reply_data(c, buf, MODALFS_CTL_IO_MAX);
		if (!c->tb[MODALFS_A_ATTR] ||
		    modalfs_ctl_get_attr(c->tb[MODALFS_A_ATTR], &at) ||
		    len == SIZE_MAX) {
			rc = ctl_fail("malformed reply from modalfsd at %s",
				      ctl_sock_path);
			break;
		}
		if (!started) {
			/*
			 * Never setuid, setgid or sticky: whoever can write
			 * into the volume would otherwise plant a setuid
			 * program on the machine of whoever runs get as root.
			 */
			*mode = at.mode & 0777;
			progress_start(&p, remote, at.size);
			started = true;
		}
		if (write_all(fd, buf, len)) {
			rc = ctl_fail("writing %s: %s", dest, strerror(errno));
			break;
		}
		off += len;
		progress_add(&p, len);
		if (len < MODALFS_CTL_IO_MAX)
			break;
	}
	if (started)
		progress_end(&p);
	free(buf);
	return rc;
}

int cmd_get(int argc, char **argv)
{
	bool force = false;
	const struct flag flags[] = { { "force", 'f', &force },
				      { NULL, 0, NULL } };
	char *pos[3], remote[MODALFS_PATH_MAX + 2], base[NAME_MAX + 1];
	char dest[PATH_MAX], tmp[PATH_MAX + 32], dir[PATH_MAX];
	struct ctl_conn c;
	struct stat sb;
	uint32_t mode = 0644;
	mode_t um;
	int n, rc, fd;

	n = parse_flags(argc, argv, flags, pos, 3, usage_get);
	if (n < 0)
		return EXIT_USAGE;
	if (n < 2)
		return usage_error(usage_get, "get: missing %s",
				   n ? "REMOTE" : "NAME and REMOTE");
	if (!ctl_name_ok(pos[0]))
		return EXIT_USAGE;
	if (abs_path(pos[0], pos[1], remote, sizeof(remote)))
		return EXIT_RUNTIME;
	base_of(remote, base, sizeof(base));
	if (n == 3 && !strcmp(pos[2], "-")) {
		if (ctl_open(&c))
			return EXIT_RUNTIME;
		rc = get_to_fd(&c, pos[0], remote, STDOUT_FILENO, "stdout",
			       &mode);
		ctl_close(&c);
		return rc;
	}
	if (!strcmp(base, "/"))
		return ctl_fail("%s:%s: is a directory", pos[0], remote);
	snprintf(dest, sizeof(dest), "%s", n == 3 ? pos[2] : base);
	if (!stat(dest, &sb) && S_ISDIR(sb.st_mode) &&
	    (size_t)snprintf(dest, sizeof(dest), "%s/%s",
			     n == 3 ? pos[2] : base, base) >= sizeof(dest))
		return ctl_fail("%s/%s: path too long", pos[2], base);
	if (!lstat(dest, &sb) && !force)
		return ctl_fail("refusing to overwrite %s (use --force)", dest);
	snprintf(dir, sizeof(dir), "%s", dest);
	snprintf(tmp, sizeof(tmp), "%s/.%s.modalfsctl-XXXXXX", dirname(dir),
		 base);
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = ctl_fail("cannot create a temporary file next to %s: %s",
			      dest, strerror(errno));
		ctl_close(&c);
		return rc;
	}
	rc = get_to_fd(&c, pos[0], remote, fd, dest, &mode);
	ctl_close(&c);
	um = umask(0);
	umask(um);
	if (!rc && (fchmod(fd, mode & ~um) || fsync(fd)))
		rc = ctl_fail("writing %s: %s", dest, strerror(errno));
	if (close(fd) && !rc)
		rc = ctl_fail("writing %s: %s", dest, strerror(errno));
	if (!rc && rename(tmp, dest))
		rc = ctl_fail("cannot rename %s to %s: %s", tmp, dest,
			      strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* ---- rm ---- */

int cmd_rm(int argc, char **argv)
{
	bool rec = false;
	const struct flag flags[] = { { "recursive", 'r', &rec },
				      { NULL, 0, NULL } };
	char *pos[2], path[MODALFS_PATH_MAX + 2];
	struct ctl_conn c;
	struct nl_msg *m;
	int n, rc;

	n = parse_flags(argc, argv, flags, pos, 2, usage_rm);
	if (n < 0)
		return EXIT_USAGE;
	if (n < 2)
		return usage_error(usage_rm, "rm: missing %s",
				   n ? "PATH" : "NAME and PATH");
	if (!ctl_name_ok(pos[0]))
		return EXIT_USAGE;
	if (abs_path(pos[0], pos[1], path, sizeof(path)))
		return EXIT_RUNTIME;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	m = path_req(&c, MODALFS_CTL_RM, pos[0], path);
	if (m && rec && nla_put_u32(m, MODALFS_A_FLAGS,
				    MODALFS_CTL_F_RECURSIVE)) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = ctl_call(&c, MODALFS_CTL_RM, m);
	if (!rc && ctl_errno(&c))
		rc = ctl_report(&c, path);
	ctl_close(&c);
	return rc;
}
