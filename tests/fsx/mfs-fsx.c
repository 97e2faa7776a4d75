// SPDX-License-Identifier: GPL-2.0
/*
 * mfs-fsx: a randomized data-integrity checker in the style of fsx.
 *
 *   mfs-fsx [-N ops] [-S seed] [-l maxlen] [-2 SECOND_PATH] [-X CMD]
 *           [-F auto|ok|eopnotsupp] [-q] FILE
 *
 * Keeps the file's expected contents in memory and runs random writes,
 * reads, truncates (grow and shrink), mmap reads and writes (MAP_SHARED +
 * msync), fsync/fdatasync (sometimes followed by dropping the file's clean
 * pages, so later reads come from the filesystem, not the page cache),
 * close/reopen and fallocate, checking every read and the size after every
 * operation against the model.
 *
 * -2 PATH names the same file through a second mount. Reads through it
 * follow close-to-open consistency, the contract of a network filesystem:
 * the writer fsyncs, then the reader opens PATH afresh and reads.
 *
 * -X CMD is a third reader: after an fsync, CMD (run by sh) must print the
 * file's whole contents; with "modalfsctl get VOL PATH -" that is the
 * daemon's store, past every kernel cache.
 *
 * fallocate (modes 0 and KEEP_SIZE) and punch-hole are tried as ops. -F
 * says what they must do: "ok" succeed, "eopnotsupp" fail with EOPNOTSUPP
 * (and leave the file alone), "auto" (default) either, as long as every
 * call does the same. A call that fails with EOPNOTSUPP is not counted as
 * an operation: -N counts operations that did something.
 *
 * Everything random comes from the seed, so a failure is replayed by
 * running again with the same -S, -N and -l. On a failure the seed, the
 * operation number and the last operations are printed and it exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L
#define LOGN 64

enum op {
	OP_WRITE, OP_READ, OP_MAPREAD, OP_MAPWRITE, OP_TRUNCATE, OP_FSYNC,
	OP_FDATASYNC, OP_REOPEN, OP_FALLOC, OP_PUNCH, OP_READ2, OP_EXTREAD, OP_NR
};

static const char *op_name[OP_NR] = {
	"write", "read", "mapread", "mapwrite", "truncate", "fsync",
	"fdatasync", "reopen", "fallocate", "punch_hole", "read2", "extread",
};

/* relative frequencies */
static int op_weight[OP_NR] = { 30, 22, 10, 10, 8, 3, 2, 3, 3, 3, 6, 2 };

struct logent {
	long n;
	enum op op;
	long off, len, size_before, size_after;
	int flag;
};

static struct logent oplog[LOGN];
static long opnum;
static uint64_t seed;
static uint64_t rng;
static const char *path1, *path2, *extcmd;
static int fd1 = -1;
static unsigned char *model, *buf;
static long maxlen = 2 << 20;
static long size;		/* the model's file size */
static long counts[OP_NR];
static int quiet;
/* What fallocate calls must do (-F): -1 fail with EOPNOTSUPP, 1 succeed,
 * 0 not known yet (auto: the first call decides). Index 0: fallocate,
 * 1: punch hole. */
static int falloc_want[2];
static long falloc_unsupported[2];

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static long rnd_below(long n)
{
	return n > 0 ? (long)(rnd() % (uint64_t)n) : 0;
}

static void dump_log(void)
{
	long first = opnum - LOGN + 1;

	if (first < 1)
		first = 1;
	fprintf(stderr, "last operations (n op offset len size-before -> size-after):\n");
	for (long n = first; n <= opnum; n++) {
		struct logent *e = &oplog[n % LOGN];

		if (e->n != n)
			continue;
		fprintf(stderr, "  %7ld %-10s off %8ld (0x%06lx) len %7ld (0x%05lx) size %8ld -> %8ld%s\n",
			e->n, op_name[e->op], e->off, e->off, e->len, e->len, e->size_before,
			e->size_after, e->flag ? " [+fadvise DONTNEED]" : "");
	}
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mfs-fsx: FAILED at operation %ld (seed %" PRIu64 ", maxlen %ld): ",
		opnum, seed, maxlen);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	dump_log();
	fprintf(stderr, "replay: mfs-fsx -S %" PRIu64 " -N %ld -l %ld%s%s%s%s%s FILE\n", seed,
		opnum, maxlen, path2 ? " -2 " : "", path2 ? path2 : "", extcmd ? " -X '" : "",
		extcmd ? extcmd : "", extcmd ? "'" : "");
	exit(1);
}

static void syserr(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static void compare(const unsigned char *got, long off, long len, const char *how)
{
	if (memcmp(got, model + off, len) == 0)
		return;
	for (long i = 0; i < len; i++) {
		if (got[i] != model[off + i]) {
			long j = i, bad = 0;

			while (j < len && bad < 1000000) {
				bad += got[j] != model[off + j];
				j++;
			}
			fprintf(stderr, "mismatch (%s) at file offset %ld (0x%lx, page %ld + %ld): "
				"got 0x%02x want 0x%02x; %ld bad bytes in [%ld, %ld)\n",
				how, off + i, off + i, (off + i) / PAGE, (off + i) % PAGE, got[i],
				model[off + i], bad, off, off + len);
			fprintf(stderr, "  got : ");
			for (long k = i; k < i + 16 && k < len; k++)
				fprintf(stderr, "%02x ", got[k]);
			fprintf(stderr, "\n  want: ");
			for (long k = i; k < i + 16 && k < len; k++)
				fprintf(stderr, "%02x ", model[off + k]);
			fputc('\n', stderr);
			break;
		}
	}
	fail("%s returned wrong data", how);
}

/* An offset biased to page boundaries, EOF and the ends of the range. */
static long pick_off(long limit)
{
	long r = rnd_below(100), off;

	if (limit <= 0)
		return 0;
	if (r < 25) {
		off = rnd_below(limit / PAGE + 1) * PAGE;
	} else if (r < 40) {
		off = size + rnd_below(2 * PAGE + 1) - PAGE;	/* around EOF */
	} else if (r < 50) {
		off = rnd_below(limit / PAGE + 1) * PAGE + (rnd_below(2) ? -1 : 1) * rnd_below(8);
	} else if (r < 55) {
		off = limit - 1 - rnd_below(PAGE);
	} else {
		off = rnd_below(limit);
	}
	if (off < 0)
		off = 0;
	if (off >= limit)
		off = limit - 1;
	return off;
}

static long pick_len(long off, long limit)
{
	long r = rnd_below(100), len;

	if (r < 30)
		len = 1 + rnd_below(64);
	else if (r < 55)
		len = PAGE * (1 + rnd_below(4));
	else if (r < 70)
		len = PAGE * (1 + rnd_below(32)) + rnd_below(3) - 1;
	else if (r < 75)
		len = 1 + rnd_below(512 * 1024);
	else
		len = 1 + rnd_below(4 * PAGE);
	if (len < 1)
		len = 1;
	if (off + len > limit)
		len = limit - off;
	return len < 1 ? 1 : len;
}

static void open1(void)
{
	fd1 = open(path1, O_RDWR);
	if (fd1 < 0)
		syserr("open");
}

static void check_size(const char *after)
{
	struct stat st;

	if (fstat(fd1, &st))
		syserr("fstat");
	if (st.st_size != size)
		fail("after %s: st_size %lld, model size %ld", after, (long long)st.st_size, size);
}

static void fill(unsigned char *p, long off, long len)
{
	/* distinct per operation and position, never all zeros */
	unsigned char tag = (unsigned char)(opnum % 251 + 1);

	for (long i = 0; i < len; i++)
		p[i] = (unsigned char)(tag + ((off + i) * 7 + ((off + i) >> 12)) % 253) | 1;
}

static void do_write(struct logent *e)
{
	long off = pick_off(maxlen), len = pick_len(off, maxlen);
	ssize_t n;

	e->off = off;
	e->len = len;
	fill(buf, off, len);
	n = pwrite(fd1, buf, len, off);
	if (n != len)
		fail("pwrite(%ld, %ld) returned %zd: %s", off, len, n, strerror(errno));
	memcpy(model + off, buf, len);
	if (off + len > size)
		size = off + len;
}

static void do_read(struct logent *e)
{
	long off = size ? pick_off(size + PAGE) : 0, len = pick_len(off, maxlen + PAGE), want;
	ssize_t n;

	e->off = off;
	e->len = len;
	want = off >= size ? 0 : (off + len > size ? size - off : len);
	n = pread(fd1, buf, len, off);
	if (n < 0)
		syserr("pread");
	if (n != want)
		fail("pread(%ld, %ld) returned %zd, want %ld (size %ld)", off, len, n, want, size);
	compare(buf, off, n, "read");
}

static void do_mapread(struct logent *e)
{
	long off, len, pg;
	unsigned char *m;

	if (size == 0) {
		e->off = e->len = 0;
		return;
	}
	off = pick_off(size);
	len = pick_len(off, maxlen);
	if (off + len > size)
		len = size - off;
	e->off = off;
	e->len = len;
	pg = off & ~(PAGE - 1);
	m = mmap(NULL, len + off - pg, PROT_READ, MAP_SHARED, fd1, pg);
	if (m == MAP_FAILED)
		syserr("mmap read");
	compare(m + (off - pg), off, len, "mmap read");
	/* the tail of the last page beyond EOF must read as zeros */
	if (off + len == size && size % PAGE) {
		long tail = PAGE - size % PAGE;
		unsigned char *t = m + (off - pg) + len;

		munmap(m, len + off - pg);
		m = mmap(NULL, (size - pg) + tail, PROT_READ, MAP_SHARED, fd1, pg);
		if (m == MAP_FAILED)
			syserr("mmap tail");
		t = m + (size - pg);
		for (long i = 0; i < tail; i++)
			if (t[i])
				fail("mmap: byte %ld past EOF (size %ld) is 0x%02x, not zero",
				     size + i, size, t[i]);
		munmap(m, (size - pg) + tail);
		return;
	}
	munmap(m, len + off - pg);
}

static void do_mapwrite(struct logent *e)
{
	long off = pick_off(maxlen), len = pick_len(off, maxlen), pg;
	unsigned char *m;

	e->off = off;
	e->len = len;
	if (off + len > size) {
		/* a mapping cannot extend a file: grow it first, as fsx does */
		if (ftruncate(fd1, off + len))
			syserr("ftruncate before mmap write");
		memset(model + size, 0, off + len - size);
		size = off + len;
	}
	pg = off & ~(PAGE - 1);
	m = mmap(NULL, len + off - pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, pg);
	if (m == MAP_FAILED)
		syserr("mmap write");
	fill(m + (off - pg), off, len);
	memcpy(model + off, m + (off - pg), len);
	if (msync(m, len + off - pg, MS_SYNC))
		syserr("msync");
	munmap(m, len + off - pg);
}

static void do_truncate(struct logent *e)
{
	long r = rnd_below(100), ns;

	if (r < 30)
		ns = rnd_below(size + 1);			/* shrink */
	else if (r < 45)
		ns = rnd_below(maxlen / PAGE + 1) * PAGE;	/* page aligned */
	else if (r < 55)
		ns = size + rnd_below(2 * PAGE) - PAGE;	/* near EOF */
	else
		ns = rnd_below(maxlen + 1);
	if (ns < 0)
		ns = 0;
	if (ns > maxlen)
		ns = maxlen;
	e->off = ns;
	e->len = 0;
	if (ftruncate(fd1, ns))
		syserr("ftruncate");
	if (ns > size)
		memset(model + size, 0, ns - size);
	else
		memset(model + ns, 0, size - ns);	/* a later grow must read zeros */
	size = ns;
}

static void drop_pages(struct logent *e)
{
	if (rnd_below(2)) {
		e->flag = 1;
		posix_fadvise(fd1, 0, 0, POSIX_FADV_DONTNEED);
	}
}

/* One fallocate call; 0 if it did nothing (EOPNOTSUPP, as -F allows). */
static int falloc_call(int punch, int mode, long off, long len)
{
	const char *what = punch ? "fallocate PUNCH_HOLE" : "fallocate";
	int rc = fallocate(fd1, mode, off, len);

	if (rc && errno != EOPNOTSUPP)
		syserr(what);
	if (!falloc_want[punch])
		falloc_want[punch] = rc ? -1 : 1;
	if (rc && falloc_want[punch] > 0)
		fail("%s(mode 0x%x, %ld, %ld): EOPNOTSUPP, but it %s", what, mode, off, len,
		     falloc_unsupported[punch] || counts[punch ? OP_PUNCH : OP_FALLOC] ?
		     "worked before" : "must work (-F ok)");
	if (!rc && falloc_want[punch] < 0)
		fail("%s(mode 0x%x, %ld, %ld) succeeded, but it must fail with EOPNOTSUPP%s",
		     what, mode, off, len, falloc_unsupported[punch] ?
		     " as it did before" : " (-F eopnotsupp)");
	if (rc)
		falloc_unsupported[punch]++;
	return !rc;
}

static int do_falloc(struct logent *e, int punch)
{
	long off = pick_off(maxlen), len = pick_len(off, maxlen);
	int mode;

	e->off = off;
	e->len = len;
	if (punch) {
		if (off >= size)
			return 0;
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (!falloc_call(1, mode, off, len))
			return 0;
		memset(model + off, 0, (off + len > size ? size : off + len) - off);
		return 1;
	}
	mode = rnd_below(2) ? FALLOC_FL_KEEP_SIZE : 0;
	e->flag = 0;
	if (!falloc_call(0, mode, off, len))
		return 0;
	if (!mode && off + len > size) {
		memset(model + size, 0, off + len - size);
		size = off + len;
	}
	return 1;
}

static void do_read2(struct logent *e)
{
	long off, len, want;
	ssize_t n;
	int fd2;
	struct stat st;

	if (fsync(fd1))
		syserr("fsync before read2");
	fd2 = open(path2, O_RDONLY);
	if (fd2 < 0)
		syserr("open the second path");
	if (fstat(fd2, &st))
		syserr("fstat second path");
	if (st.st_size != size)
		fail("second path: st_size %lld, model size %ld", (long long)st.st_size, size);
	if (rnd_below(4) == 0) {
		off = 0;
		len = size;
	} else {
		off = size ? pick_off(size + PAGE) : 0;
		len = pick_len(off, maxlen + PAGE);
	}
	e->off = off;
	e->len = len;
	want = off >= size ? 0 : (off + len > size ? size - off : len);
	n = pread(fd2, buf, len, off);
	if (n < 0)
		syserr("pread second path");
	if (n != want)
		fail("second path: pread(%ld, %ld) returned %zd, want %ld", off, len, n, want);
	compare(buf, off, n, "read through the second path");
	close(fd2);
}

/*
 * -X CMD: after fsync, CMD (run by sh) must print the whole file: a reader
 * that bypasses this kernel's page cache, e.g. "modalfsctl get VOL PATH -",
 * which asks the daemon's store.
 */
static void do_extread(struct logent *e)
{
	FILE *p;
	long got = 0;
	size_t n;

	if (fsync(fd1))
		syserr("fsync before extread");
	e->off = 0;
	e->len = size;
	p = popen(extcmd, "r");
	if (!p)
		syserr("popen -X command");
	while ((n = fread(buf + got, 1, maxlen + PAGE - got, p)) > 0) {
		got += n;
		if (got >= maxlen + PAGE)
			break;
	}
	int st = pclose(p);

	if (st != 0)
		fail("-X command \"%s\" exited with status 0x%x", extcmd, st);
	if (got != size)
		fail("-X command printed %ld bytes, want the size %ld", got, size);
	compare(buf, 0, size, "read through the -X command");
}

static enum op pick_op(void)
{
	int total = 0, r;

	for (int i = 0; i < OP_NR; i++)
		total += op_weight[i];
	r = (int)rnd_below(total);
	for (int i = 0; i < OP_NR; i++) {
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_READ;
}

static void full_check(const char *when)
{
	ssize_t n = pread(fd1, buf, maxlen + 1, 0);

	if (n != size)
		fail("%s: full read returned %zd, want %ld", when, n, size);
	compare(buf, 0, size, when);
}

int main(int argc, char **argv)
{
	long nops = 10000;
	int c;
	struct timespec t0, t1;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	while ((c = getopt(argc, argv, "N:S:l:2:X:F:q")) != -1) {
		switch (c) {
		case 'N': nops = atol(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'l': maxlen = atol(optarg); break;
		case '2': path2 = optarg; break;
		case 'X': extcmd = optarg; break;
		case 'q': quiet = 1; break;
		case 'F':
			if (!strcmp(optarg, "ok"))
				falloc_want[0] = falloc_want[1] = 1;
			else if (!strcmp(optarg, "eopnotsupp"))
				falloc_want[0] = falloc_want[1] = -1;
			else if (strcmp(optarg, "auto"))
				goto usage;
			break;
		default:
		usage:
			fprintf(stderr, "usage: mfs-fsx [-N ops] [-S seed] [-l maxlen] [-2 SECOND_PATH] [-X CMD] [-F auto|ok|eopnotsupp] [-q] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || maxlen < PAGE) {
		goto usage;
	}
	path1 = argv[optind];
	if (!path2)
		op_weight[OP_READ2] = 0;
	if (!extcmd)
		op_weight[OP_EXTREAD] = 0;
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	model = calloc(maxlen + PAGE, 1);
	buf = malloc(maxlen + 2 * PAGE);
	if (!model || !buf)
		return 2;
	fd1 = open(path1, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd1 < 0) {
		fprintf(stderr, "mfs-fsx: %s: %s\n", path1, strerror(errno));
		return 2;
	}
	printf("mfs-fsx: %s%s%s, seed %" PRIu64 ", %ld ops, maxlen %ld\n", path1,
	       path2 ? " + " : "", path2 ? path2 : "", seed, nops, maxlen);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (opnum = 1; opnum <= nops; opnum++) {
		enum op op = pick_op();
		struct logent *e = &oplog[opnum % LOGN];

		*e = (struct logent){ .n = opnum, .op = op, .size_before = size };
		switch (op) {
		case OP_WRITE: do_write(e); break;
		case OP_READ: do_read(e); break;
		case OP_MAPREAD: do_mapread(e); break;
		case OP_MAPWRITE: do_mapwrite(e); break;
		case OP_TRUNCATE: do_truncate(e); break;
		case OP_FSYNC:
			if (fsync(fd1))
				syserr("fsync");
			drop_pages(e);
			break;
		case OP_FDATASYNC:
			if (fdatasync(fd1))
				syserr("fdatasync");
			drop_pages(e);
			break;
		case OP_REOPEN:
			if (close(fd1))
				syserr("close");
			open1();
			break;
		case OP_FALLOC:
		case OP_PUNCH:
			if (!do_falloc(e, op == OP_PUNCH)) {
				/* did nothing: the file must be as it was */
				e->size_after = size;
				check_size(op_name[op]);
				opnum--;
				continue;
			}
			break;
		case OP_READ2: do_read2(e); break;
		case OP_EXTREAD: do_extread(e); break;
		default: break;
		}
		e->size_after = size;
		counts[op]++;
		check_size(op_name[op]);
		if (!quiet && nops >= 10 && opnum % (nops / 10) == 0) {
			printf("  %ld ops, size %ld\n", opnum, size);
			fflush(stdout);
		}
	}
	opnum = nops;
	full_check("final read");
	if (fsync(fd1))
		syserr("final fsync");
	posix_fadvise(fd1, 0, 0, POSIX_FADV_DONTNEED);
	full_check("final read after dropping the page cache");
	close(fd1);
	open1();
	full_check("final read after reopen");
	close(fd1);
	if (path2) {
		int fd2 = open(path2, O_RDONLY);
		ssize_t n;

		if (fd2 < 0)
			syserr("open second path");
		n = pread(fd2, buf, maxlen + 1, 0);
		if (n != size)
			fail("second path: final read returned %zd, want %ld", n, size);
		compare(buf, 0, size, "final read through the second path");
		close(fd2);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("mfs-fsx: PASS: seed %" PRIu64 ", %ld ops in %.1f s, final size %ld;", seed, nops,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, size);
	for (int i = 0; i < OP_NR; i++)
		if (counts[i])
			printf(" %s %ld", op_name[i], counts[i]);
	if (falloc_unsupported[0])
		printf("; fallocate EOPNOTSUPP %ld times (not counted)", falloc_unsupported[0]);
	if (falloc_unsupported[1])
		printf("; punch_hole EOPNOTSUPP %ld times (not counted)", falloc_unsupported[1]);
	printf("\n");
	return 0;
}
