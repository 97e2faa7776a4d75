/*
 * Writes the format-1 store of 56-migrate.sh (modalfs 0.1: file data in
 * LMDB). Built against that version's userd, e.g.
 *   git show 207b96d:userd/store.c > store.c   (and store_vol.inc, store.h, ...)
 *   cc -D_GNU_SOURCE -I. gen-format1.c store.c fsutil.c names.c stats.c log.c -llmdb -lpthread
 *   ./a.out DIR && xz -9 < DIR/data.mdb > format1-store.mdb.xz
 * File contents follow pat(); the test holds their sha256 sums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "store.h"

static unsigned char pat(unsigned long long i, unsigned seed)
{
	return (unsigned char)((i * 2654435761ULL + seed) >> 11);
}

static void put(struct modalfs_store *st, uint64_t vol, uint64_t dir,
		const char *name, unsigned long long off, unsigned long long len,
		unsigned seed)
{
	struct modalfs_iattr a;
	static unsigned char buf[1 << 20];

	if (modalfs_store_create(st, vol, dir, name, S_IFREG | 0644, 0, 0, 0, &a))
		exit(1);
	for (unsigned long long done = 0; done < len;) {
		unsigned long long n = len - done > sizeof(buf) ? sizeof(buf) : len - done;

		for (unsigned long long i = 0; i < n; i++)
			buf[i] = pat(off + done + i, seed);
		if (modalfs_store_write(st, vol, a.ino, off + done, buf, n, NULL))
			exit(2);
		done += n;
	}
}

int main(int argc, char **argv)
{
	struct modalfs_store *st;
	struct modalfs_volinfo vi;
	struct modalfs_iattr d, a;

	if (argc != 2 || modalfs_store_open(&st, argv[1], 0) ||
	    modalfs_store_vol_persisted(st, "legacy", &vi))
		return 1;
	if (modalfs_store_mkdir(st, vi.vol_id, 1, "dir", 0755, 0, 0, &d))
		return 1;
	put(st, vi.vol_id, 1, "small", 0, 1000, 1);
	put(st, vi.vol_id, 1, "big", 0, 5 * 1048576 + 12345, 2);
	put(st, vi.vol_id, d.ino, "sparse", 9 * 1048576 + 100, 70000, 3);
	put(st, vi.vol_id, d.ino, "empty", 0, 0, 4);
	if (modalfs_store_symlink(st, vi.vol_id, 1, "link", "dir/sparse", 0, 0, &a) ||
	    modalfs_store_setxattr(st, vi.vol_id, a.ino - 1, "user.k", "v1", 2, 0, NULL))
		return 1;
	modalfs_store_close(st);
	return 0;
}
