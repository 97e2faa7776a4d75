// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of volume names, file names and mount sources. Pure functions,
 * exercised by the KUnit suites.
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "modalfs_i.h"

/* Returns 0 or -EINVAL: [A-Za-z0-9._-]{1,64}. */
int modalfs_valid_vol_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > MODALFS_VOL_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return -EINVAL;
	}
	return 0;
}

/*
 * One path component as the daemon may send it: 1..255 bytes, no '/',
 * no NUL, and never "." or ".." (the kernel synthesises those).
 */
int modalfs_valid_file_name(const char *name, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > MODALFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

/*
 * "NAME:/sub/dir" -> vol = NAME, *path points at "/sub/dir" inside src.
 * The path must be absolute, at most MODALFS_PATH_MAX bytes, and its
 * components must be valid file names (empty components from repeated
 * slashes are allowed; the daemon skips them).
 */
int modalfs_parse_source(const char *src, char *vol, size_t volsz,
			 const char **path)
{
	const char *colon, *p;
	size_t vlen, plen;

	if (!src)
		return -EINVAL;
	colon = strchr(src, ':');
	if (!colon)
		return -EINVAL;
	vlen = colon - src;
	if (modalfs_valid_vol_name(src, vlen) || vlen + 1 > volsz)
		return -EINVAL;
	p = colon + 1;
	if (*p == '\0')
		p = "/";
	if (*p != '/')
		return -EINVAL;
	plen = strlen(p);
	if (plen > MODALFS_PATH_MAX)
		return -ENAMETOOLONG;
	while (*p) {
		const char *end;
		size_t clen;
		int err;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		clen = end - p;
		err = modalfs_valid_file_name(p, clen);
		if (err)
			return err;
		p = end;
	}
	memcpy(vol, src, vlen);
	vol[vlen] = '\0';
	*path = colon + 1;
	if (**path == '\0')
		*path = "/";
	return 0;
}
