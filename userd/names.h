/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Name rules shared by modalfsd and modalfsctl. */
#ifndef MODALFS_NAMES_H
#define MODALFS_NAMES_H

#include <stdbool.h>

#define MODALFS_VOL_NAME_RULE \
	"volume names are 1 to 64 characters from A-Z a-z 0-9 . _ -"

bool modalfs_vol_name_valid(const char *name);
/* One path component: 1..MODALFS_NAME_MAX bytes, no '/', not "." or "..". */
bool modalfs_file_name_valid(const char *name);

#endif
