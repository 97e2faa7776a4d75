// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsd --check: verifies every invariant of the store, on a read-only
 * snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/file.h>
#include <unistd.h>

#include "blocks.h"
#include "store_priv.h"

struct ck_ino {
	uint64_t ino;
	struct inorec r;
	uint64_t entry_dir;	/* a directory holding an entry for it */
	uint64_t data_blocks;	/* 512-byte units found in data */
	uint32_t links;		/* dirents naming it */
	uint32_t subdirs;	/* directory entries in it naming dirs */
	bool orphan, symlink;
	uint8_t reach;		/* 0 unknown, 1 yes, 2 no */
};

struct ck {
	struct modalfs_store *st;
	MDB_txn *t;
	FILE *out;
	long problems;
	const char *vname;
	uint64_t vol;
	struct ck_ino *inos;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void ck_report(struct ck *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (c->vname)
		fprintf(c->out, "volume %s (id %llu): ", c->vname,
			(unsigned long long)c->vol);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

static struct ck_ino *ck_find(struct ck *c, uint64_t ino)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->inos[mid].ino == ino)
			return &c->inos[mid];
		if (c->inos[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Calls fn for every record of dbi whose key starts with be64 vol. */
static int ck_walk(struct ck *c, MDB_dbi dbi,
		   void (*fn)(struct ck *c, MDB_val *k, MDB_val *v))
{
	MDB_cursor *cur;
	struct key k;
	MDB_val kk, vv;
	int err = store_errno(mdb_cursor_open(c->t, dbi, &cur));

	if (err)
		return err;
	err = first_with_prefix(cur, key1(&k, c->vol), 8, &kk, &vv);
	while (!err) {
		fn(c, &kk, &vv);
		err = next_with_prefix(cur, k.b, 8, &kk, &vv);
	}
	mdb_cursor_close(cur);
	return err == ENOENT ? 0 : err;
}

static void ck_load_ino(struct ck *c, MDB_val *k, MDB_val *v)
{
	struct ck_ino *ci;

	if (k->mv_size != 16 || v->mv_size != sizeof(struct inorec)) {
		ck_report(c, "inode %llu: malformed inode record (%zu bytes)",
			  (unsigned long long)kget(k, 8), v->mv_size);
		return;
	}
	if (c->n % 1024 == 0) {
		void *p = realloc(c->inos, (c->n + 1024) * sizeof(*c->inos));

		if (!p) {
			ck_report(c, "out of memory");
			return;
		}
		c->inos = p;
	}
	ci = &c->inos[c->n++];
	memset(ci, 0, sizeof(*ci));
	ci->ino = kget(k, 8);
	memcpy(&ci->r, v->mv_data, sizeof(ci->r));
}

static void ck_dirent(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 2];
	uint64_t dir = kget(k, 8);
	size_t nl = k->mv_size > 16 ? k->mv_size - 16 : 0;
	struct ck_ino *d, *ci;
	struct dentrec de;
	struct key kk;
	MDB_val cv;

	if (nl > MODALFS_NAME_MAX)
		nl = MODALFS_NAME_MAX + 1;
	memcpy(name, (char *)k->mv_data + 16, nl);
	name[nl] = '\0';
	if (k->mv_size < 17 || strlen(name) != nl ||
	    modalfs_store_name_check(name)) {
		ck_report(c, "directory %llu: invalid entry name \"%s\"",
			  (unsigned long long)dir, name);
		return;
	}
	if (v->mv_size != sizeof(de)) {
		ck_report(c, "directory %llu: entry \"%s\": malformed record",
			  (unsigned long long)dir, name);
		return;
	}
	memcpy(&de, v->mv_data, sizeof(de));
	d = ck_find(c, dir);
	if (!d || !S_ISDIR(d->r.mode)) {
		ck_report(c, "directory %llu: entry \"%s\" in a %s",
			  (unsigned long long)dir, name,
			  d ? "non-directory" : "missing directory");
		return;
	}
	if (d->r.nlink == 0)
		ck_report(c, "directory %llu: removed (nlink 0) but has entry \"%s\"",
			  (unsigned long long)dir, name);
	if (de.cookie < MODALFS_DIR_COOKIE_FIRST ||
	    de.cookie >= d->r.next_cookie)
		ck_report(c, "directory %llu: entry \"%s\": cookie %llu outside [%llu, %llu)",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.cookie,
			  (unsigned long long)MODALFS_DIR_COOKIE_FIRST,
			  (unsigned long long)d->r.next_cookie);
	if (mdb_get(c->t, c->st->db[DB_DCOOKIES], key3(&kk, c->vol, dir, de.cookie),
		    &cv) ||
	    cv.mv_size != nl || memcmp(cv.mv_data, name, nl))
		ck_report(c, "directory %llu: entry \"%s\": cookie %llu does not name it",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.cookie);
	ci = ck_find(c, de.ino);
	if (!ci) {
		ck_report(c, "directory %llu: entry \"%s\" names missing inode %llu",
			  (unsigned long long)dir, name,
			  (unsigned long long)de.ino);
		return;
	}
	if (de.type != (ci->r.mode & S_IFMT) >> 12)
		ck_report(c, "directory %llu: entry \"%s\": type %u but inode %llu has mode 0%o",
			  (unsigned long long)dir, name, de.type,
			  (unsigned long long)de.ino, ci->r.mode);
	ci->links++;
	ci->entry_dir = dir;
	if (S_ISDIR(ci->r.mode))
		d->subdirs++;
}

static void ck_dcookie(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 1];
	struct dentrec de;
	struct key kk;
	uint64_t dir = kget(k, 8), cookie = kget(k, 16);

	if (k->mv_size != 24 || v->mv_size == 0 ||
	    v->mv_size > MODALFS_NAME_MAX) {
		ck_report(c, "directory %llu: malformed cookie record",
			  (unsigned long long)dir);
		return;
	}
	memcpy(name, v->mv_data, v->mv_size);
	name[v->mv_size] = '\0';
	if (strlen(name) != v->mv_size ||
	    rec_get_raw(c->t, c->st->db[DB_DIRENTS], keyname(&kk, c->vol, dir, name),
			&de, sizeof(de)) || de.cookie != cookie)
		ck_report(c, "directory %llu: cookie %llu names \"%s\", which has no entry with that cookie",
			  (unsigned long long)dir,
			  (unsigned long long)cookie, name);
}

static void ck_map(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8), idx = kget(k, 16);
	struct ck_ino *ci = ck_find(c, ino);
	struct maprec m;

	if (k->mv_size != 24 || !ci || !S_ISREG(ci->r.mode)) {
		ck_report(c, "inode %llu: object %llu mapped for a %s",
			  (unsigned long long)ino, (unsigned long long)idx,
			  ci ? "non-regular file" : "missing inode");
		return;
	}
	if (v->mv_size != sizeof(m)) {
		ck_report(c, "inode %llu: malformed block map entry %llu",
			  (unsigned long long)ino, (unsigned long long)idx);
		return;
	}
	memcpy(&m, v->mv_data, sizeof(m));
	if (m.len == 0 || m.len > MODALFS_OBJ_SIZE ||
	    idx > UINT64_MAX / MODALFS_OBJ_SIZE ||
	    idx * MODALFS_OBJ_SIZE + m.len > ci->r.size)
		ck_report(c, "inode %llu: object %llu (%u bytes) beyond size %llu",
			  (unsigned long long)ino, (unsigned long long)idx,
			  m.len, (unsigned long long)ci->r.size);
	ci->data_blocks += m.alloc;
}

static void ck_symlink(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8);
	struct ck_ino *ci = ck_find(c, ino);

	if (k->mv_size != 16 || !ci || !S_ISLNK(ci->r.mode)) {
		ck_report(c, "inode %llu: symlink target for a %s",
			  (unsigned long long)ino,
			  ci ? "non-symlink" : "missing inode");
		return;
	}
	ci->symlink = true;
	if (v->mv_size == 0 || v->mv_size > MODALFS_SYMLINK_MAX ||
	    v->mv_size != ci->r.size)
		ck_report(c, "inode %llu: symlink target of %zu bytes, size %llu",
			  (unsigned long long)ino, v->mv_size,
			  (unsigned long long)ci->r.size);
}

static void ck_orphan(struct ck *c, MDB_val *k, MDB_val *v)
{
	uint64_t ino = kget(k, 8);
	struct ck_ino *ci = ck_find(c, ino);

	(void)v;
	if (k->mv_size != 16 || !ci) {
		ck_report(c, "inode %llu: orphan record for a missing inode",
			  (unsigned long long)ino);
		return;
	}
	ci->orphan = true;
}

struct ck_xa {
	uint64_t ino, list, total;
};

static void ck_xattr(struct ck *c, MDB_val *k, MDB_val *v)
{
	char name[MODALFS_NAME_MAX + 2];
	uint64_t ino = kget(k, 8);
	size_t nl = k->mv_size > 16 ? k->mv_size - 16 : 0;
	struct ck_ino *ci = ck_find(c, ino);

	if (nl > MODALFS_NAME_MAX)
		nl = MODALFS_NAME_MAX + 1;
	memcpy(name, (char *)k->mv_data + 16, nl);
	name[nl] = '\0';
	if (!ci) {
		ck_report(c, "inode %llu: xattr \"%s\" for a missing inode",
			  (unsigned long long)ino, name);
		return;
	}
	if (strlen(name) != nl || modalfs_xattr_name_check(name))
		ck_report(c, "inode %llu: invalid xattr name \"%s\"",
			  (unsigned long long)ino, name);
	if (v->mv_size > MODALFS_XATTR_SIZE_MAX)
		ck_report(c, "inode %llu: xattr \"%s\" value of %zu bytes",
			  (unsigned long long)ino, name, v->mv_size);
	/* Per-inode sums reuse data_blocks' neighbour fields via a pass. */
}

/*
 * 1 if directory d reaches the root through parent pointers, each step
 * confirmed by the entry naming it; else 0. Results are remembered on the
 * path; a walk longer than the number of inodes is a cycle.
 */
static int ck_reach(struct ck *c, struct ck_ino *d)
{
	struct ck_ino *p = d;
	uint8_t res = 0;
	size_t steps;

	for (steps = 0; !res; steps++) {
		if (p->reach)
			res = p->reach;
		else if (p->ino == MODALFS_ROOT_INO)
			res = 1;
		else if (steps > c->n || p->links != 1 ||
			 p->entry_dir != p->r.parent || !p->r.nlink)
			res = 2;
		else if (!(p = ck_find(c, p->r.parent)) || !S_ISDIR(p->r.mode))
			res = 2;
	}
	/* Second walk: remember the result along the same path. */
	for (p = d; p && !p->reach && steps--; p = ck_find(c, p->r.parent))
		p->reach = res;
	return res == 1;
}

static void ck_volume(struct ck *c, const char *name, const struct volrec *vr)
{
	struct ck_ino *root;
	size_t i;
	int err;

	c->vname = name;
	c->vol = vr->vol_id;
	c->n = 0;
	err = ck_walk(c, c->st->db[DB_INODES], ck_load_ino);
	if (!err)
		err = ck_walk(c, c->st->db[DB_DIRENTS], ck_dirent);
	if (!err)
		err = ck_walk(c, c->st->db[DB_DCOOKIES], ck_dcookie);
	if (!err)
		err = ck_walk(c, c->st->db[DB_BLOCKMAP], ck_map);
	if (!err)
		err = ck_walk(c, c->st->db[DB_SYMLINKS], ck_symlink);
	if (!err)
		err = ck_walk(c, c->st->db[DB_ORPHANS], ck_orphan);
	if (!err && c->st->db[DB_XATTRS] != (MDB_dbi)-1)
		err = ck_walk(c, c->st->db[DB_XATTRS], ck_xattr);
	if (err) {
		ck_report(c, "cannot read the store: %s", strerror(err));
		return;
	}
	{
		uint64_t bytes = 0;
		struct volstat vs;

		for (i = 0; i < c->n; i++)
			if (S_ISREG(c->inos[i].r.mode))
				bytes += c->inos[i].r.size;
		if (volstat_get(c->st, c->t, c->vol, &vs))
			ck_report(c, "no counters (bytes, files)");
		else if (vs.bytes != bytes || vs.files != c->n)
			ck_report(c, "counters say %llu bytes in %llu files, the inodes %llu in %zu",
				  (unsigned long long)vs.bytes,
				  (unsigned long long)vs.files,
				  (unsigned long long)bytes, c->n);
	}
	root = ck_find(c, MODALFS_ROOT_INO);
	if (!root || !S_ISDIR(root->r.mode)) {
		ck_report(c, "root inode %s", root ? "is not a directory" :
			  "is missing");
	} else {
		if (root->r.parent != MODALFS_ROOT_INO)
			ck_report(c, "inode 1 (root): parent is %llu, not itself",
				  (unsigned long long)root->r.parent);
		if (root->links)
			ck_report(c, "inode 1 (root): named by %u directory entries",
				  root->links);
	}
	for (i = 0; i < c->n; i++) {
		struct ck_ino *ci = &c->inos[i];
		unsigned long long ino = ci->ino;

		if (ino >= vr->next_ino || ino == 0)
			ck_report(c, "inode %llu: not below the volume's next inode number %llu",
				  ino, (unsigned long long)vr->next_ino);
		if (ci->r.nlink == 0 && !ci->orphan)
			ck_report(c, "inode %llu: nlink 0 but not on the orphan list",
				  ino);
		if (ci->r.nlink != 0 && ci->orphan)
			ck_report(c, "inode %llu: on the orphan list with nlink %u",
				  ino, ci->r.nlink);
		if (S_ISDIR(ci->r.mode)) {
			if (ci->r.nlink && ci->r.nlink != 2 + ci->subdirs)
				ck_report(c, "inode %llu: directory nlink %u, expected %u (2 + %u subdirectories)",
					  ino, ci->r.nlink, 2 + ci->subdirs,
					  ci->subdirs);
			if (ci->ino == MODALFS_ROOT_INO)
				continue;
			if (ci->r.nlink && ci->links != 1)
				ck_report(c, "inode %llu: directory named by %u entries, expected 1",
					  ino, ci->links);
			else if (!ci->r.nlink && ci->links)
				ck_report(c, "inode %llu: removed directory still named by %u entries",
					  ino, ci->links);
			if (ci->links == 1 && ci->r.parent != ci->entry_dir)
				ck_report(c, "inode %llu: parent pointer %llu, but its entry is in directory %llu",
					  ino, (unsigned long long)ci->r.parent,
					  (unsigned long long)ci->entry_dir);
			if (ci->r.nlink && ci->links == 1 && !ck_reach(c, ci))
				ck_report(c, "inode %llu: directory not reachable from the root",
					  ino);
		} else {
			if (ci->r.nlink != ci->links)
				ck_report(c, "inode %llu: nlink %u but named by %u entries",
					  ino, ci->r.nlink, ci->links);
			if (S_ISREG(ci->r.mode) &&
			    ci->data_blocks != ci->r.blocks)
				ck_report(c, "inode %llu: blocks %llu but its data holds %llu",
					  ino, (unsigned long long)ci->r.blocks,
					  (unsigned long long)ci->data_blocks);
			if (S_ISLNK(ci->r.mode) && !ci->symlink)
				ck_report(c, "inode %llu: symlink without a target",
					  ino);
		}
		if (ci->r.version != REC_VERSION)
			ck_report(c, "inode %llu: record version %u",
				  ino, ci->r.version);
	}
	/* Per-inode xattr budgets. */
	if (c->st->db[DB_XATTRS] != (MDB_dbi)-1) {
		for (i = 0; i < c->n; i++) {
			uint64_t list, total;

			if (xattr_usage(c->st, c->t, c->vol, c->inos[i].ino,
					NULL, &list, &total))
				continue;
			if (list > MODALFS_XATTR_LIST_MAX ||
			    total > MODALFS_XATTR_INODE_MAX)
				ck_report(c, "inode %llu: xattrs over budget (list %llu, total %llu bytes)",
					  (unsigned long long)c->inos[i].ino,
					  (unsigned long long)list,
					  (unsigned long long)total);
		}
	}
	c->vname = NULL;
}

/* Records of volumes that do not exist (e.g. left by a broken delete). */
static void ck_strays(struct ck *c, MDB_dbi dbi, const char *what)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t last = 0;
	struct key kk;
	int rc;

	if (dbi == (MDB_dbi)-1 || mdb_cursor_open(c->t, dbi, &cur))
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t vol = kget(&k, 0);
		MDB_val nv;

		if (vol == last)
			continue;
		last = vol;
		if (!mdb_get(c->t, c->st->db[DB_VOLIDS], key1(&kk, vol), &nv))
			continue;
		/*
		 * A deletion a crash interrupted (meta "del/" + be64 id, see
		 * store_vol.c) is finished at the next daemon start.
		 */
		memcpy(kk.b, "del/", 4);
		be64(kk.b + 4, vol);
		kk.v.mv_data = kk.b;
		kk.v.mv_size = 12;
		if (mdb_get(c->t, c->st->db[DB_META], &kk.v, &nv))
			ck_report(c, "%s records for volume id %llu, which does not exist",
				  what, (unsigned long long)vol);
	}
	mdb_cursor_close(cur);
}

/* Volume ids below next_vol_id; DRC records well formed and bounded. */
static void ck_meta_drc(struct ck *c)
{
	static const char nvk[] = "next_vol_id";
	MDB_val mk = { .mv_size = sizeof(nvk) - 1, .mv_data = (void *)nvk };
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t next = 0, n = 0, nok = 0;
	int rc;

	if (!mdb_get(c->t, c->st->db[DB_META], &mk, &v) && v.mv_size == sizeof(next))
		memcpy(&next, v.mv_data, sizeof(next));
	if (!mdb_cursor_open(c->t, c->st->db[DB_VOLIDS], &cur)) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			if (kget(&k, 0) >= next)
				ck_report(c, "volume id %llu is not below next_vol_id %llu",
					  (unsigned long long)kget(&k, 0),
					  (unsigned long long)next);
		mdb_cursor_close(cur);
	}
	if (c->st->db[DB_DRC] == (MDB_dbi)-1 ||
	    mdb_cursor_open(c->t, c->st->db[DB_DRC], &cur))
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct modalfs_drc_reply rep;
		struct key sk;
		MDB_val sv;

		n++;
		if (k.mv_size != 8 || v.mv_size != sizeof(rep)) {
			ck_report(c, "duplicate-request cache: malformed record for request %llu",
				  (unsigned long long)kget(&k, 0));
			continue;
		}
		memcpy(&rep, v.mv_data, sizeof(rep));
		nok++;
		if (c->st->db[DB_DRCSEQ] == (MDB_dbi)-1 ||
		    mdb_get(c->t, c->st->db[DB_DRCSEQ], key1(&sk, rep.seq),
			    &sv) || sv.mv_size != 8 ||
		    get_be64(sv.mv_data) != kget(&k, 0))
			ck_report(c, "duplicate-request cache: request %llu is not in the insertion order at %llu",
				  (unsigned long long)kget(&k, 0),
				  (unsigned long long)rep.seq);
	}
	mdb_cursor_close(cur);
	{
		MDB_stat ms;

		if (c->st->db[DB_DRCSEQ] != (MDB_dbi)-1 &&
		    !mdb_stat(c->t, c->st->db[DB_DRCSEQ], &ms) &&
		    ms.ms_entries != nok)
			ck_report(c, "duplicate-request cache: %llu records but %llu in the insertion order",
				  (unsigned long long)nok,
				  (unsigned long long)ms.ms_entries);
	}
	/* Pruned once DRC_SLACK past the bound, so that much at most. */
	if (n > DRC_MAX + DRC_SLACK(DRC_MAX))
		ck_report(c, "duplicate-request cache holds %llu ids, more than %d",
			  (unsigned long long)n, DRC_MAX + DRC_SLACK(DRC_MAX));
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* LMDB's own page accounting: every page is in a tree, free, or meta. */
static void ck_pages(struct ck *c, bool quiet_env)
{
	MDB_dbi dbis[2 + NDBS] = { 0, 1 };	/* FREE_DBI, MAIN_DBI */
	MDB_envinfo info;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t tree = 0, nfree = 0, total;
	size_t *pg = NULL, npg = 0;
	int rc;

	mdb_env_info(c->st->env, &info);
	total = info.me_last_pgno + 1;
	if (total > info.me_mapsize / c->st->psize)
		ck_report(c, "store: last page %llu beyond the map of %llu pages",
			  (unsigned long long)info.me_last_pgno,
			  (unsigned long long)(info.me_mapsize /
					       c->st->psize));
	memcpy(dbis + 2, c->st->db, sizeof(c->st->db));
	for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
		MDB_stat ms;

		if (dbis[i] == (MDB_dbi)-1 || mdb_stat(c->t, dbis[i], &ms))
			continue;
		tree += ms.ms_branch_pages + ms.ms_leaf_pages +
			ms.ms_overflow_pages;
	}
	if (mdb_cursor_open(c->t, 0, &cur))
		return;
	while (!(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
		size_t n;

		if (v.mv_size < sizeof(n))
			continue;
		memcpy(&n, v.mv_data, sizeof(n));
		if ((n + 1) * sizeof(size_t) > v.mv_size) {
			ck_report(c, "store: malformed free list record");
			break;
		}
		pg = realloc(pg, (npg + n + 1) * sizeof(*pg));
		if (!pg) {
			ck_report(c, "out of memory");
			mdb_cursor_close(cur);
			return;
		}
		memcpy(pg + npg, (size_t *)v.mv_data + 1, n * sizeof(*pg));
		npg += n;
	}
	mdb_cursor_close(cur);
	nfree = npg;
	qsort(pg, npg, sizeof(*pg), cmp_size);
	for (size_t i = 0; i < npg; i++) {
		if (pg[i] < 2 || pg[i] >= total) {
			ck_report(c, "store: free page %zu outside [2, %llu)",
				  pg[i], (unsigned long long)total);
			break;
		}
		if (i && pg[i] == pg[i - 1]) {
			ck_report(c, "store: page %zu is on the free list twice",
				  pg[i]);
			break;
		}
	}
	free(pg);
	/*
	 * With no writer the snapshot is the newest state and the sum is
	 * exact; while modalfsd runs, newer commits may have grown the file.
	 */
	if (2 + tree + nfree > total ||
	    (quiet_env && 2 + tree + nfree != total))
		ck_report(c, "store: %llu pages in trees + %llu free + 2 meta != %llu pages in the file",
			  (unsigned long long)tree, (unsigned long long)nfree,
			  (unsigned long long)total);
}

struct ck_obj {
	struct ck *c;
	uint64_t objects, matched, strays;
};

static int ck_obj_cb(uint64_t vol, uint64_t ino, uint64_t idx, uint64_t len,
		     void *arg)
{
	struct ck_obj *o = arg;
	struct maprec m;
	struct key k;

	o->objects++;
	if (rec_get_raw(o->c->t, o->c->st->db[DB_BLOCKMAP],
			key3(&k, vol, ino, idx), &m, sizeof(m)))
		o->strays++;
	else if (len >= m.len)
		o->matched++;
	return 0;
}

/*
 * The block map against the block store and the store-wide data count.
 * Only on a store no daemon writes to (WRITE puts objects in place before
 * its commit). A store a crash left (no clean mark) may hold objects no
 * map entry names and objects shorter than their entry (data never
 * synced, which reads as zeros); the next start removes the former, so
 * both are noted, not counted, there.
 */
static void ck_blocks(struct ck *c, bool quiet_env)
{
	struct ck_obj o = { .c = c };
	uint64_t entries = 0, sum = 0, counted;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, err;

	if (c->st->db[DB_BLOCKMAP] == (MDB_dbi)-1 ||
	    mdb_cursor_open(c->t, c->st->db[DB_BLOCKMAP], &cur))
		return;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct maprec m;

		if (v.mv_size != sizeof(m))
			continue;
		memcpy(&m, v.mv_data, sizeof(m));
		entries++;
		sum += m.alloc;
	}
	mdb_cursor_close(cur);
	if (!data_blocks_get(c->st, c->t, &counted) && counted != sum)
		ck_report(c, "store: data count %llu, but the block map holds %llu (512-byte units)",
			  (unsigned long long)counted, (unsigned long long)sum);
	if (!quiet_env || !c->st->blocks)
		return;
	err = c->st->blocks->ops->walk(c->st->blocks, ck_obj_cb, &o);
	if (err) {
		ck_report(c, "block store: cannot list its objects: %s",
			  strerror(err));
		return;
	}
	if (c->st->rdonly && !c->st->was_clean) {
		char path[PATH_MAX];
		struct stat sb;

		if (o.strays || o.matched < entries)
			fprintf(c->out, "note: after a crash: %llu objects no file maps (removed at the next start unless its intent log names them), %llu map entries without all their bytes (never synced; they read as zeros)\n",
				(unsigned long long)o.strays,
				(unsigned long long)(entries - o.matched));
		snprintf(path, sizeof(path), "%s/intent.log", c->st->dir);
		if (!stat(path, &sb) && sb.st_size > 0)
			fprintf(c->out, "note: after a crash: intent.log holds %lld bytes of writes that the next start applies before it serves anything\n",
				(long long)sb.st_size);
		return;
	}
	if (o.strays)
		ck_report(c, "block store: %llu objects that no block map entry names",
			  (unsigned long long)o.strays);
	if (o.matched < entries)
		ck_report(c, "block store: %llu block map entries name missing or short objects",
			  (unsigned long long)(entries - o.matched));
}

static long check_store(struct modalfs_store *st, FILE *out, bool quiet_env)
{
	struct ck c = { .st = st, .out = out };
	MDB_cursor *cur;
	MDB_val k, v;
	int err, rc;

	err = store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &c.t));
	if (err)
		return -err;
	err = store_errno(mdb_cursor_open(c.t, st->db[DB_VOLUMES], &cur));
	if (err) {
		mdb_txn_abort(c.t);
		return -err;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char name[MODALFS_VOL_NAME_MAX + 1];
		struct volrec vr;
		struct key kk;
		MDB_val nv;

		if (k.mv_size == 0 || k.mv_size > MODALFS_VOL_NAME_MAX ||
		    v.mv_size != sizeof(vr)) {
			ck_report(&c, "volume record \"%.*s\" is malformed",
				  (int)(k.mv_size > 64 ? 64 : k.mv_size),
				  (char *)k.mv_data);
			continue;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		memcpy(&vr, v.mv_data, sizeof(vr));
		if (mdb_get(c.t, st->db[DB_VOLIDS], key1(&kk, vr.vol_id), &nv) ||
		    nv.mv_size != k.mv_size ||
		    memcmp(nv.mv_data, k.mv_data, k.mv_size))
			ck_report(&c, "volume %s: id %llu does not map back to it",
				  name, (unsigned long long)vr.vol_id);
		ck_volume(&c, name, &vr);
	}
	mdb_cursor_close(cur);
	/* Every id maps to a volume that has it. */
	if (!mdb_cursor_open(c.t, st->db[DB_VOLIDS], &cur)) {
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct volrec vr;

			if (k.mv_size != 8 ||
			    rec_get_raw(c.t, st->db[DB_VOLUMES], &v, &vr,
					sizeof(vr)) ||
			    vr.vol_id != kget(&k, 0))
				ck_report(&c, "volume id %llu names \"%.*s\", which is not that volume",
					  (unsigned long long)kget(&k, 0),
					  (int)(v.mv_size > 64 ? 64 : v.mv_size),
					  (char *)v.mv_data);
		}
		mdb_cursor_close(cur);
	}
	ck_meta_drc(&c);
	for (int i = 0; i < NDBS; i++)
		if (store_dbs[i].flags & DBF_PER_VOL)
			ck_strays(&c, st->db[i], store_dbs[i].what);
	ck_pages(&c, quiet_env);
	ck_blocks(&c, quiet_env);
	mdb_txn_abort(c.t);
	free(c.inos);
	return c.problems;
}

long modalfs_store_check_open(struct modalfs_store *st, FILE *out)
{
	long n;

	/*
	 * Between batches nothing is uncommitted; ops outside the writer
	 * (control channel, tests) run on the caller's thread.
	 */
	writer_pause(st);
	n = check_store(st, out, true);
	writer_resume(st);
	return n;
}

long modalfs_store_check(const char *dir, FILE *out)
{
	struct modalfs_store *st;
	unsigned int missing;
	char lockpath[PATH_MAX];
	bool quiet;
	int fd, err;
	long n;

	/* Holding the daemon's lock keeps it from starting meanwhile. */
	snprintf(lockpath, sizeof(lockpath), "%s/modalfsd.lock", dir);
	fd = open(lockpath, O_RDONLY | O_CLOEXEC);
	quiet = fd < 0 || !flock(fd, LOCK_SH | LOCK_NB);
	err = store_open(&st, dir, 0, true, &missing);
	if (err) {
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (missing & (1u << DB_BLOCKMAP)) {
		fprintf(out, "store: format 1 (file data inside LMDB): modalfsd converts it when it starts\n");
		n = 1;
		goto out;
	}
	for (int i = 0; i < NDBS; i++) {
		/* Databases that came later may be missing; no others. */
		if (!(missing & (1u << i)) || (store_dbs[i].flags & DBF_LATER))
			continue;
		fprintf(out, "store: database \"%s\" is missing\n",
			store_dbs[i].name);
		n = 1;
		goto out;
	}
	n = check_store(st, out, quiet);
out:
	modalfs_store_close(st);
	if (fd >= 0)
		close(fd);
	return n;
}

