/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * modalfsctl's side of the control channel (protocol header section 5):
 * one connection, numbered requests, replies checked against them.
 * Every function prints its own error message (naming the volume and
 * path where there is one) and returns 1 on failure, 0 on success.
 */
#ifndef MODALFSCTL_CLIENT_H
#define MODALFSCTL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/genl/genl.h>

#include "../userd/ctlmsg.h"

/* Exit status: success, runtime error, usage error. */
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

extern const char *ctl_sock_path;

/* The group whose members may use modalfsd besides root (security.md). */
#define MODALFS_CTL_GROUP	"modalfs"

struct ctl_conn {
	int fd;
	uint32_t seq;
	void *buf;			/* MODALFS_CTL_DGRAM_MAX bytes */
	struct nlattr *tb[MODALFS_A_MAX + 1];	/* of the last reply */
	struct nlmsghdr *nlh;			/* the last reply */
};

int ctl_open(struct ctl_conn *c);
void ctl_close(struct ctl_conn *c);
/* A new request of cmd (NULL: out of memory, printed). */
struct nl_msg *ctl_request(struct ctl_conn *c, uint8_t cmd);
/* Sends m (and frees it), then receives the first reply. */
int ctl_call(struct ctl_conn *c, uint8_t cmd, struct nl_msg *m);
/* The next reply datagram of a multi-part answer. */
int ctl_next(struct ctl_conn *c, uint8_t cmd);
/* The reply's errno (0: success). */
int ctl_errno(const struct ctl_conn *c);
/* Prints the daemon's message, or "what: strerror"; returns 1. */
int ctl_report(const struct ctl_conn *c, const char *what);

/* "modalfsctl: ..." on stderr; returns 1. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Checks the volume name rule, printing it when broken. */
bool ctl_name_ok(const char *name);
/* mount and run: true if root, else prints the rule. */
bool ctl_root_ok(const char *cmd);

/* Progress bar on stderr, only when stderr is a terminal. */
struct progress {
	bool on;
	const char *label;
	uint64_t total, done;
	long long last_ms;
};
void progress_start(struct progress *p, const char *label, uint64_t total);
void progress_add(struct progress *p, uint64_t n);
void progress_end(struct progress *p);

/* JSON string with escapes; invalid UTF-8 bytes become U+FFFD. */
void json_string(FILE *f, const char *s);
void fmt_time(int64_t t, char *out, size_t n);

#endif
