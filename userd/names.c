// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <string.h>

#include "names.h"
#include "../netlink/modalfs.h"

bool modalfs_vol_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (; name[n]; n++) {
		char c = name[n];

		if (n >= MODALFS_VOL_NAME_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n > 0;
}

bool modalfs_file_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, MODALFS_NAME_MAX + 1);
	if (n == 0 || n > MODALFS_NAME_MAX)
		return false;
	if (memchr(name, '/', n))
		return false;
	/* The kernel resolves these itself; storing them would shadow it. */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return true;
}
