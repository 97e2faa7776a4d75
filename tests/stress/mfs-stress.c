// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-stress: a parallel namespace and data stress test.
 *
 *   mfs-stress DIR [-p procs] [-t seconds] [-s seed] [-l LOGDIR] [-V] [-r]
 *
 * P worker processes create, write, append, truncate, rename (within and
 * across directories, over their own names, RENAME_EXCHANGE), link, unlink,
 * mkdir/rmdir and move directories, all in the same few shared directories
 * DIR/mfs-stress/s0..s3, for T seconds. Each worker owns a name space
 * (names "wN-..."), so the final tree is determined by the workers' own
 * histories even though they race on the shared directories.
 *
 * Every worker appends each completed operation to LOGDIR/worker.N. The
 * expected tree is then rebuilt from the logs alone and compared with the
 * actual tree: names, types, sizes, exact contents (file bytes come from a
 * generator keyed by a per-write seed), hard-link groups and st_nlink of
 * files and directories. -V only does that comparison (for example after
 * the filesystem was unmounted and mounted again), reading LOGDIR.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS 4		/* shared directories */
#define MAXLIVE 250	/* names per worker before unlink dominates */

struct inode {
	int nlink;
	uint64_t cseed;
	long size;
};

struct name {
	int exists;
	int dir;	/* < NS: shared dir; else NS + subdir id */
	int ino;
};

struct subdir {
	int exists;
	int shared;
};

struct model {
	int w;
	struct inode *ino;
	int nino;
	struct name *name;
	int nname;
	struct subdir *dir;
	int ndir;
	int live;
};

static char top[2048];
static char logdir[2048];
static int nworkers = 4, seconds = 15;
static uint64_t base_seed = 1;

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* the byte at offset off of a file written with cseed */
static void gen(uint64_t cseed, long off, unsigned char *p, long len)
{
	for (long i = 0; i < len; i++) {
		long o = off + i;
		uint64_t v = splitmix(cseed + (uint64_t)(o >> 3));

		p[i] = (unsigned char)(v >> ((o & 7) * 8));
	}
}

static void *grow(void *p, int *n, int want, size_t sz)
{
	if (want < *n)
		return p;
	int nn = *n ? *n : 64;

	while (nn <= want)
		nn *= 2;
	p = realloc(p, nn * sz);
	if (!p) {
		perror("realloc");
		exit(2);
	}
	memset((char *)p + *n * sz, 0, (nn - *n) * sz);
	*n = nn;
	return p;
}

static void dir_path(struct model *m, int dir, char *out, size_t len)
{
	if (dir < NS)
		snprintf(out, len, "%s/s%d", top, dir);
	else
		snprintf(out, len, "%s/s%d/w%d-d%d", top, m->dir[dir - NS].shared, m->w, dir - NS);
}

static void name_path(struct model *m, int id, char *out, size_t len)
{
	char d[PATH_MAX];

	dir_path(m, m->name[id].dir, d, sizeof(d));
	snprintf(out, len, "%.3900s/w%d-f%d", d, m->w, id);
}

/*
 * Applies one logged operation to the model. The worker calls it after
 * each successful operation; the verifier replays the log through it.
 * Returns -1 for a line that does not fit the model (a corrupt log).
 */
static int apply(struct model *m, const char *line)
{
	int a, b, c;
	long sz;
	uint64_t seed;

	if (sscanf(line, "mkdir %d %d", &a, &b) == 2) {
		m->dir = grow(m->dir, &m->ndir, a, sizeof(*m->dir));
		m->dir[a] = (struct subdir){ 1, b };
	} else if (sscanf(line, "mvdir %d %d", &a, &b) == 2) {
		if (a >= m->ndir || !m->dir[a].exists)
			return -1;
		m->dir[a].shared = b;
	} else if (sscanf(line, "rmdir %d", &a) == 1) {
		if (a >= m->ndir || !m->dir[a].exists)
			return -1;
		m->dir[a].exists = 0;
	} else if (sscanf(line, "create %d %d %d %" SCNu64 " %ld", &a, &b, &c, &seed, &sz) == 5) {
		m->name = grow(m->name, &m->nname, a, sizeof(*m->name));
		m->ino = grow(m->ino, &m->nino, c, sizeof(*m->ino));
		m->name[a] = (struct name){ 1, b, c };
		m->ino[c] = (struct inode){ 1, seed, sz };
		m->live++;
	} else if (sscanf(line, "append %d %ld", &c, &sz) == 2 ||
		   sscanf(line, "trunc %d %ld", &c, &sz) == 2) {
		if (c >= m->nino || !m->ino[c].nlink)
			return -1;
		m->ino[c].size = sz;
	} else if (sscanf(line, "rewrite %d %" SCNu64 " %ld", &c, &seed, &sz) == 3) {
		if (c >= m->nino || !m->ino[c].nlink)
			return -1;
		m->ino[c].cseed = seed;
		m->ino[c].size = sz;
	} else if (sscanf(line, "rename %d %d %d", &a, &b, &c) == 3) {
		/* name a becomes name b in dir c; b may exist there (replaced) */
		if (a >= m->nname || !m->name[a].exists)
			return -1;
		m->name = grow(m->name, &m->nname, b, sizeof(*m->name));
		if (a == b) {
			m->name[a].dir = c;
			return 0;
		}
		if (m->name[b].exists) {
			if (m->name[b].dir != c)
				return -1;
			if (m->name[b].ino == m->name[a].ino)
				return 0;	/* rename between links of one inode: no-op */
			m->ino[m->name[b].ino].nlink--;
			m->live--;
		}
		m->name[b] = (struct name){ 1, c, m->name[a].ino };
		m->name[a].exists = 0;
	} else if (sscanf(line, "exch %d %d", &a, &b) == 2) {
		if (a >= m->nname || b >= m->nname || !m->name[a].exists || !m->name[b].exists)
			return -1;
		int t = m->name[a].ino;

		m->name[a].ino = m->name[b].ino;
		m->name[b].ino = t;
	} else if (sscanf(line, "link %d %d %d", &a, &b, &c) == 3) {
		if (a >= m->nname || !m->name[a].exists)
			return -1;
		m->name = grow(m->name, &m->nname, b, sizeof(*m->name));
		m->name[b] = (struct name){ 1, c, m->name[a].ino };
		m->ino[m->name[a].ino].nlink++;
		m->live++;
	} else if (sscanf(line, "unlink %d", &a) == 1) {
		if (a >= m->nname || !m->name[a].exists)
			return -1;
		m->name[a].exists = 0;
		m->ino[m->name[a].ino].nlink--;
		m->live--;
	} else {
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* worker */

static uint64_t wrng;

static long rnd(long n)
{
	wrng = splitmix(wrng);
	return n > 0 ? (long)(wrng % (uint64_t)n) : 0;
}

static FILE *wlog;
static struct model M;
static long nops;

static void logop(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logop(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (apply(&M, line)) {
		fprintf(stderr, "worker %d: model rejects its own op \"%s\"\n", M.w, line);
		exit(3);
	}
	fprintf(wlog, "%s\n", line);
	nops++;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "worker %d: op %ld: %s %s: %s\n", M.w, nops, what, path, strerror(errno));
	fflush(wlog);
	exit(1);
}

static int write_gen(int fd, uint64_t cseed, long off, long len)
{
	unsigned char buf[16384];

	while (len > 0) {
		long n = len > (long)sizeof(buf) ? (long)sizeof(buf) : len;

		gen(cseed, off, buf, n);
		if (write(fd, buf, n) != n)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static long pick_size(void)
{
	long r = rnd(100);

	if (r < 20)
		return rnd(64);
	if (r < 60)
		return rnd(8192);
	if (r < 95)
		return rnd(65536);
	return rnd(262144);
}

static int random_name(void)	/* an existing name, or -1 */
{
	if (!M.live)
		return -1;
	for (int tries = 0; tries < 64; tries++) {
		int id = (int)rnd(M.nname);

		if (M.name[id].exists)
			return id;
	}
	for (int id = 0; id < M.nname; id++)
		if (M.name[id].exists)
			return id;
	return -1;
}

static int random_subdir(void)
{
	for (int tries = 0; tries < 32 && M.ndir; tries++) {
		int d = (int)rnd(M.ndir);

		if (M.dir[d].exists)
			return d;
	}
	return -1;
}

static int random_dirkey(void)
{
	int d;

	if (rnd(3) == 0 && (d = random_subdir()) >= 0)
		return NS + d;
	return (int)rnd(NS);
}

static int next_name, next_ino, next_dir;

static void verify_one(int id)
{
	char p[PATH_MAX];
	struct inode *in = &M.ino[M.name[id].ino];
	unsigned char got[16384], want[16384];
	long off = 0;
	int fd;

	name_path(&M, id, p, sizeof(p));
	fd = open(p, O_RDONLY);
	if (fd < 0)
		die("open for verify", p);
	for (;;) {
		ssize_t n = read(fd, got, sizeof(got));

		if (n < 0)
			die("read for verify", p);
		if (n == 0)
			break;
		gen(in->cseed, off, want, n);
		if (off + n > in->size || memcmp(got, want, n)) {
			fprintf(stderr, "worker %d: op %ld: %s: wrong data near offset %ld (size %ld)\n",
				M.w, nops, p, off, in->size);
			exit(1);
		}
		off += n;
	}
	if (off != in->size) {
		fprintf(stderr, "worker %d: op %ld: %s: read %ld bytes, want %ld\n", M.w, nops, p, off,
			in->size);
		exit(1);
	}
	close(fd);
}

static void worker_step(void)
{
	char p[PATH_MAX], q[PATH_MAX], d[PATH_MAX];
	long r = rnd(100);
	int id, id2, fd, dir;

	if (M.live > MAXLIVE && r < 50)
		r = 60;	/* unlink */
	if (r < 20 || M.live == 0) {			/* create */
		uint64_t cs = splitmix(wrng + nops);
		long sz = pick_size();

		dir = random_dirkey();
		id = next_name++;
		M.name = grow(M.name, &M.nname, id, sizeof(*M.name));
		M.name[id].dir = dir;
		name_path(&M, id, p, sizeof(p));
		fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0 || write_gen(fd, cs, 0, sz))
			die("create", p);
		if (rnd(10) == 0 && fsync(fd))
			die("fsync", p);
		if (close(fd))
			die("close", p);
		logop("create %d %d %d %" PRIu64 " %ld", id, dir, next_ino++, cs, sz);
	} else if (r < 28) {				/* append */
		if ((id = random_name()) < 0)
			return;
		struct inode *in = &M.ino[M.name[id].ino];
		long add = 1 + rnd(8192);

		name_path(&M, id, p, sizeof(p));
		fd = open(p, O_WRONLY | O_APPEND);
		if (fd < 0 || write_gen(fd, in->cseed, in->size, add) || close(fd))
			die("append", p);
		logop("append %d %ld", M.name[id].ino, in->size + add);
	} else if (r < 32) {				/* truncate (shrink) */
		if ((id = random_name()) < 0)
			return;
		long ns = rnd(M.ino[M.name[id].ino].size + 1);

		name_path(&M, id, p, sizeof(p));
		if (truncate(p, ns))
			die("truncate", p);
		logop("trunc %d %ld", M.name[id].ino, ns);
	} else if (r < 38) {				/* rewrite */
		if ((id = random_name()) < 0)
			return;
		uint64_t cs = splitmix(wrng ^ (uint64_t)nops);
		long sz = pick_size();

		name_path(&M, id, p, sizeof(p));
		fd = open(p, O_WRONLY | O_TRUNC);
		if (fd < 0 || write_gen(fd, cs, 0, sz) || close(fd))
			die("rewrite", p);
		logop("rewrite %d %" PRIu64 " %ld", M.name[id].ino, cs, sz);
	} else if (r < 56) {				/* rename */
		if ((id = random_name()) < 0)
			return;
		name_path(&M, id, p, sizeof(p));
		long kind = rnd(10);
		int to;

		if (kind < 3) {				/* over another own name, in its dir */
			if ((id2 = random_name()) < 0)
				return;
			to = id2;
			dir = M.name[id2].dir;
		} else if (kind < 5) {			/* same name, other dir */
			to = id;
			dir = random_dirkey();
		} else {				/* new name, maybe other dir */
			to = next_name++;
			dir = kind < 8 ? M.name[id].dir : random_dirkey();
		}
		dir_path(&M, dir, d, sizeof(d));
		snprintf(q, sizeof(q), "%.3900s/w%d-f%d", d, M.w, to);
		if (rename(p, q))
			die("rename", p);
		logop("rename %d %d %d", id, to, dir);
	} else if (r < 60) {				/* exchange */
		if ((id = random_name()) < 0 || (id2 = random_name()) < 0 || id == id2)
			return;
		name_path(&M, id, p, sizeof(p));
		name_path(&M, id2, q, sizeof(q));
		if (renameat2(AT_FDCWD, p, AT_FDCWD, q, RENAME_EXCHANGE))
			die("rename exchange", p);
		logop("exch %d %d", id, id2);
	} else if (r < 72) {				/* unlink */
		if ((id = random_name()) < 0)
			return;
		name_path(&M, id, p, sizeof(p));
		if (unlink(p))
			die("unlink", p);
		logop("unlink %d", id);
	} else if (r < 78) {				/* link */
		if ((id = random_name()) < 0)
			return;
		name_path(&M, id, p, sizeof(p));
		dir = random_dirkey();
		id2 = next_name++;
		dir_path(&M, dir, d, sizeof(d));
		snprintf(q, sizeof(q), "%.3900s/w%d-f%d", d, M.w, id2);
		if (link(p, q))
			die("link", q);
		logop("link %d %d %d", id, id2, dir);
	} else if (r < 82) {				/* mkdir */
		int s = (int)rnd(NS), nd = next_dir++;

		snprintf(p, sizeof(p), "%s/s%d/w%d-d%d", top, s, M.w, nd);
		if (mkdir(p, 0755))
			die("mkdir", p);
		logop("mkdir %d %d", nd, s);
	} else if (r < 86) {				/* move a subdir to another shared dir */
		int sd = random_subdir(), s = (int)rnd(NS);

		if (sd < 0)
			return;
		snprintf(p, sizeof(p), "%s/s%d/w%d-d%d", top, M.dir[sd].shared, M.w, sd);
		snprintf(q, sizeof(q), "%s/s%d/w%d-d%d", top, s, M.w, sd);
		if (rename(p, q))
			die("rename dir", p);
		logop("mvdir %d %d", sd, s);
	} else if (r < 88) {				/* rmdir an empty subdir */
		int sd = random_subdir();

		if (sd < 0)
			return;
		for (int i = 0; i < M.nname; i++)
			if (M.name[i].exists && M.name[i].dir == NS + sd)
				return;
		snprintf(p, sizeof(p), "%s/s%d/w%d-d%d", top, M.dir[sd].shared, M.w, sd);
		if (rmdir(p))
			die("rmdir", p);
		logop("rmdir %d", sd);
	} else {					/* read back and check */
		if ((id = random_name()) >= 0)
			verify_one(id);
	}
}

static int worker(int w)
{
	char p[PATH_MAX];
	struct timespec t0, t;

	M.w = w;
	wrng = splitmix(base_seed * 1000003 + (uint64_t)w);
	snprintf(p, sizeof(p), "%s/worker.%d", logdir, w);
	wlog = fopen(p, "w");
	if (!wlog) {
		perror(p);
		return 2;
	}
	setvbuf(wlog, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 16; i++)
			worker_step();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < seconds);
	fprintf(wlog, "done %ld\n", nops);
	fclose(wlog);
	return 0;
}

/* ------------------------------------------------------------------ */
/* verification */

struct entry {
	char *path;
	char type;	/* f, d */
	long size;
	int nlink;
	int w, ino;		/* expected: the owning model's inode */
	uint64_t cseed;
	ino_t st_ino;		/* actual */
};

static struct entry *act;
static int nact, cact;
static size_t toplen;

static int walk_cb(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)f;
	if (strlen(path) <= toplen)
		return 0;
	if (nact == cact) {
		cact = cact ? cact * 2 : 1024;
		act = realloc(act, cact * sizeof(*act));
	}
	act[nact++] = (struct entry){
		.path = strdup(path + toplen + 1),
		.type = flag == FTW_D ? 'd' : S_ISREG(sb->st_mode) ? 'f' : '?',
		.size = sb->st_size,
		.nlink = (int)sb->st_nlink,
		.st_ino = sb->st_ino,
	};
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	va_list ap;

	if (++problems <= 60) {
		printf("  MISMATCH: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	} else if (problems == 61) {
		printf("  (further mismatches not shown)\n");
	}
}

static int check_content(const char *rel, uint64_t cseed, long size)
{
	char p[PATH_MAX];
	unsigned char got[65536], want[65536];
	long off = 0;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, got, sizeof(got));

		if (n <= 0)
			break;
		gen(cseed, off, want, n);
		if (off + n > size || memcmp(got, want, n)) {
			close(fd);
			return -1;
		}
		off += n;
	}
	close(fd);
	return off == size ? 0 : -1;
}

static int verify(void)
{
	struct model *models = calloc(nworkers, sizeof(*models));
	struct entry *exp = NULL;
	int nexp = 0, cexp = 0;
	long total_ops = 0, ndone = 0;
	char p[PATH_MAX], line[512];

	/* replay the logs */
	for (int w = 0; w < nworkers; w++) {
		FILE *f;
		long lineno = 0;

		models[w].w = w;
		snprintf(p, sizeof(p), "%s/worker.%d", logdir, w);
		f = fopen(p, "r");
		if (!f) {
			printf("  cannot read %s: %s\n", p, strerror(errno));
			return 1;
		}
		while (fgets(line, sizeof(line), f)) {
			lineno++;
			if (!strncmp(line, "done ", 5)) {
				ndone++;
				continue;
			}
			if (apply(&models[w], line)) {
				problem("%s:%ld: bad log line %s", p, lineno, line);
				break;
			}
			total_ops++;
		}
		fclose(f);
	}
	if (ndone != nworkers)
		problem("%ld of %d worker logs are complete", ndone, nworkers);

	/* the expected tree */
#define ADD(...) do {							\
		if (nexp == cexp) {					\
			cexp = cexp ? cexp * 2 : 1024;			\
			exp = realloc(exp, cexp * sizeof(*exp));	\
		}							\
		exp[nexp++] = (struct entry){ __VA_ARGS__ };		\
	} while (0)
	int subdirs_in[NS] = { 0 };

	for (int w = 0; w < nworkers; w++) {
		struct model *m = &models[w];

		for (int d = 0; d < m->ndir; d++) {
			if (!m->dir[d].exists)
				continue;
			snprintf(p, sizeof(p), "s%d/w%d-d%d", m->dir[d].shared, w, d);
			subdirs_in[m->dir[d].shared]++;
			ADD(.path = strdup(p), .type = 'd', .nlink = 2, .w = w, .ino = -1);
		}
		for (int i = 0; i < m->nname; i++) {
			struct name *n = &m->name[i];

			if (!n->exists)
				continue;
			if (n->dir < NS)
				snprintf(p, sizeof(p), "s%d/w%d-f%d", n->dir, w, i);
			else
				snprintf(p, sizeof(p), "s%d/w%d-d%d/w%d-f%d",
					 m->dir[n->dir - NS].shared, w, n->dir - NS, w, i);
			ADD(.path = strdup(p), .type = 'f', .size = m->ino[n->ino].size,
			    .nlink = m->ino[n->ino].nlink, .w = w, .ino = n->ino,
			    .cseed = m->ino[n->ino].cseed);
		}
	}
	for (int s = 0; s < NS; s++) {
		snprintf(p, sizeof(p), "s%d", s);
		ADD(.path = strdup(p), .type = 'd', .nlink = 2 + subdirs_in[s], .ino = -1);
	}

	/* the actual tree */
	toplen = strlen(top);
	if (nftw(top, walk_cb, 64, FTW_PHYS)) {
		printf("  walking %s: %s\n", top, strerror(errno));
		return 1;
	}
	qsort(exp, nexp, sizeof(*exp), cmp_entry);
	qsort(act, nact, sizeof(*act), cmp_entry);

	/* names, types, sizes, link counts, contents */
	int i = 0, j = 0, checked = 0;

	while (i < nexp || j < nact) {
		int c = i >= nexp ? 1 : j >= nact ? -1 : strcmp(exp[i].path, act[j].path);

		if (c < 0) {
			problem("%s (%c) is missing", exp[i].path, exp[i].type);
			i++;
			continue;
		}
		if (c > 0) {
			problem("%s (%c) should not exist", act[j].path, act[j].type);
			j++;
			continue;
		}
		struct entry *e = &exp[i], *a = &act[j];

		if (e->type != a->type)
			problem("%s: type %c, want %c", e->path, a->type, e->type);
		else if (e->nlink != a->nlink)
			problem("%s: st_nlink %d, want %d", e->path, a->nlink, e->nlink);
		else if (e->type == 'f' && e->size != a->size)
			problem("%s: size %ld, want %ld", e->path, a->size, e->size);
		else if (e->type == 'f' && check_content(e->path, e->cseed, e->size))
			problem("%s: content differs from what was written", e->path);
		e->st_ino = a->st_ino;
		checked++;
		i++;
		j++;
	}
	/* hard-link groups: names of one model inode share one st_ino, and only they */
	for (int k = 0; k < nexp; k++) {
		for (int l = k + 1; l < nexp && exp[k].type == 'f'; l++) {
			if (exp[l].type != 'f' || !exp[k].st_ino || !exp[l].st_ino)
				continue;
			int same_model = exp[k].w == exp[l].w && exp[k].ino == exp[l].ino;
			int same_ino = exp[k].st_ino == exp[l].st_ino;

			if (same_model != same_ino)
				problem("%s and %s: %s", exp[k].path, exp[l].path,
					same_model ? "should be hard links of one inode"
						   : "share an inode but should not");
		}
	}
	printf("mfs-stress: %ld operations by %d workers replayed; %d expected entries, %d found, "
	       "%d compared; %d mismatches\n", total_ops, nworkers, nexp, nact, checked, problems);
	return problems ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mfs-stress DIR [-p procs] [-t seconds] [-s seed] [-l LOGDIR] [-V] [-r]\n");
	exit(2);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int main(int argc, char **argv)
{
	int c, verify_only = 0, remove = 0, rc = 0;
	pid_t *pids;

	logdir[0] = 0;
	while ((c = getopt(argc, argv, "p:t:s:l:Vr")) != -1) {
		switch (c) {
		case 'p': nworkers = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 's': base_seed = strtoull(optarg, NULL, 0); break;
		case 'l': snprintf(logdir, sizeof(logdir), "%s", optarg); break;
		case 'V': verify_only = 1; break;
		case 'r': remove = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || nworkers < 1 || seconds < 0)
		usage();
	snprintf(top, sizeof(top), "%.2000s/mfs-stress", argv[optind]);
	if (!logdir[0])
		snprintf(logdir, sizeof(logdir), "%s/mfs-stress-logs",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (verify_only) {
		FILE *f;
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/workers", logdir);
		f = fopen(p, "r");
		if (!f || fscanf(f, "%d", &nworkers) != 1) {
			fprintf(stderr, "mfs-stress: %s: no run recorded\n", p);
			return 2;
		}
		fclose(f);
		printf("mfs-stress: verifying %s against the logs in %s\n", top, logdir);
		return verify();
	}
	mkdir(logdir, 0755);
	if (mkdir(top, 0755)) {
		fprintf(stderr, "mfs-stress: mkdir %s: %s (remove an old run first)\n", top,
			strerror(errno));
		return 2;
	}
	for (int s = 0; s < NS; s++) {
		char p[PATH_MAX + 8];

		snprintf(p, sizeof(p), "%s/s%d", top, s);
		if (mkdir(p, 0755)) {
			perror(p);
			return 2;
		}
	}
	{
		char p[PATH_MAX + 16];
		FILE *f;

		snprintf(p, sizeof(p), "%s/workers", logdir);
		f = fopen(p, "w");
		if (!f) {
			perror(p);
			return 2;
		}
		fprintf(f, "%d\n", nworkers);
		fclose(f);
	}
	printf("mfs-stress: %d workers for %d s in %s (seed %" PRIu64 ", logs in %s)\n", nworkers,
	       seconds, top, base_seed, logdir);
	fflush(stdout);
	pids = calloc(nworkers, sizeof(*pids));
	for (int w = 0; w < nworkers; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			perror("fork");
			return 2;
		}
		if (pids[w] == 0)
			_exit(worker(w));
	}
	for (int w = 0; w < nworkers; w++) {
		int st;

		waitpid(pids[w], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("  worker %d failed (status 0x%x)\n", w, st);
			rc = 1;
		}
	}
	if (verify())
		rc = 1;
	if (rc == 0 && remove)
		nftw(top, rm_cb, 64, FTW_DEPTH | FTW_PHYS);
	printf("mfs-stress: %s\n", rc ? "FAIL" : "PASS");
	return rc;
}
