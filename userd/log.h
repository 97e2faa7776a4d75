/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_LOG_H
#define MODALFS_LOG_H

enum { MODALFS_LOG_ERR, MODALFS_LOG_WARN, MODALFS_LOG_INFO,
       MODALFS_LOG_DEBUG };

extern int modalfs_log_level;

/* One line to stderr, prefixed "modalfsd: ". */
void modalfs_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define modalfs_err(...)	modalfs_log(MODALFS_LOG_ERR, __VA_ARGS__)
#define modalfs_warn(...)	modalfs_log(MODALFS_LOG_WARN, __VA_ARGS__)
#define modalfs_info(...)	modalfs_log(MODALFS_LOG_INFO, __VA_ARGS__)
#define modalfs_dbg(...)	modalfs_log(MODALFS_LOG_DEBUG, __VA_ARGS__)

#endif
