/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * modalfs-dashboard: a local web page over modalfsd's control socket.
 * One context is shared by the HTTP threads and the sampler; it holds
 * nothing they change except the history, which has its own lock.
 */
#ifndef MODALFS_DASH_H
#define MODALFS_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dash_buf.h"
#include "dash_hist.h"

#define DASH_TOKEN_LEN 64		/* hex digits of 32 random bytes */

struct dash {
	struct dash_hist hist;
	char token[DASH_TOKEN_LEN + 1];	/* grants access (cookie or bearer) */
	char csrf[DASH_TOKEN_LEN + 1];	/* must come back with every form */
};

/* What a page handler answers: a status and an HTML (or other) body. */
struct dash_reply {
	unsigned status;
	const char *type;		/* Content-Type */
	struct dash_buf body;
	char location[512];		/* redirect target for 303 */
};

/* Pages (dash_pages.c). Inputs are validated by the caller. */
void dash_page_index(struct dash *d, const char *deleted, struct dash_reply *r);
void dash_page_volume(struct dash *d, const char *vol, const char *path,
		      bool live, struct dash_reply *r);
void dash_page_confirm(struct dash *d, const char *vol, struct dash_reply *r);
void dash_page_delete(struct dash *d, const char *vol, bool force,
		      struct dash_reply *r);
/* An error page with a sentence. */
void dash_page_error(struct dash_reply *r, unsigned status, const char *msg);
/* The HTTP status for a daemon errno. */
unsigned dash_status_of(int err);
extern const char dash_css[];

/* HTTP (dash_http.c). */
struct MHD_Daemon;
struct MHD_Daemon *dash_http_start(struct dash *d, const char *addr,
				   unsigned port);

/* Checks (dash_http.c). */
bool dash_path_ok(const char *in, size_t len, char *out, size_t outlen);
bool dash_token_eq(const char *a, const char *b);

#endif
