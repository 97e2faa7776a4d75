// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * HTTP for the dashboard through libmicrohttpd: routing, the token and
 * CSRF checks, input validation, and file downloads streamed from the
 * daemon 64 KiB at a time.
 *
 * Access: every page but the stylesheet needs the token, from the cookie
 * that "/?token=T" sets (HttpOnly, SameSite=Strict) or an
 * "Authorization: Bearer T" header. The one mutation, POST /delete, also
 * needs the CSRF value of the confirmation form and refuses a request
 * whose Origin or Sec-Fetch-Site says it came from another site.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "dash.h"
#include "../userd/names.h"

#define POST_MAX 4096
#define COOKIE "modalfs_token"

struct post_state {
	struct MHD_PostProcessor *pp;
	size_t bytes;
	bool too_big;
	char name[MODALFS_VOL_NAME_MAX + 2];
	char csrf[DASH_TOKEN_LEN + 2];
	bool force, bad_field;
};

bool dash_token_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return !diff && la;
}

/*
 * A volume path from the URL: absolute, at most MODALFS_PATH_MAX bytes,
 * no NUL, no "." or ".." components; repeated and trailing slashes go.
 */
bool dash_path_ok(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in, *end = in + len;

	if (!len || in[0] != '/' || len > MODALFS_PATH_MAX ||
	    memchr(in, '\0', len) || outlen < 2)
		return false;
	out[o++] = '/';
	while (p < end) {
		const char *s;
		size_t n;

		while (p < end && *p == '/')
			p++;
		if (p == end)
			break;
		s = p;
		while (p < end && *p != '/')
			p++;
		n = (size_t)(p - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    n > MODALFS_NAME_MAX)
			return false;
		if (o > 1)
			out[o++] = '/';
		if (o + n + 1 > outlen)
			return false;
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	return true;
}

static enum MHD_Result send_reply(struct MHD_Connection *c,
				  struct dash_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->body.oom) {
		dash_buf_free(&r->body);
		r->status = 500;
		r->type = "text/plain; charset=utf-8";
		dash_buf_puts(&r->body, "out of memory\n");
	}
	resp = MHD_create_response_from_buffer(r->body.len,
					       r->body.p ? r->body.p : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	dash_buf_free(&r->body);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				r->type ? r->type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self' data:; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (r->status == 303)
		MHD_add_response_header(resp, "Location", r->location);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status,
			     const char *msg)
{
	struct dash_reply r = { 0 };

	dash_page_error(&r, status, msg);
	return send_reply(c, &r);
}

static bool authorized(struct dash *d, struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	const char *auth;

	if (v && dash_token_eq(v, d->token))
		return true;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	return auth && !strncmp(auth, "Bearer ", 7) &&
	       dash_token_eq(auth + 7, d->token);
}

/* The login link "/?token=T": set the cookie, then go to "/" without it. */
static enum MHD_Result login(struct dash *d, struct MHD_Connection *c,
			     const char *token)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char cookie[DASH_TOKEN_LEN + 128];

	if (!dash_token_eq(token, d->token))
		return error(c, 403, "wrong token: use the link modalfs-dashboard printed at start, or the token in its token file");
	resp = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	snprintf(cookie, sizeof(cookie),
		 COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", d->token);
	MHD_add_response_header(resp, "Set-Cookie", cookie);
	MHD_add_response_header(resp, "Location", "/");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	ret = MHD_queue_response(c, 303, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A GET argument with its true length: NULs inside are refused. */
static const char *arg(struct MHD_Connection *c, const char *key, size_t *len,
		       bool *bad)
{
	const char *v = NULL;

	*len = 0;
	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, key,
					  strlen(key), &v, len) != MHD_YES)
		return NULL;
	if (v && strlen(v) != *len)
		*bad = true;
	return v;
}

static bool name_from(const char *s, size_t len, char *out)
{
	if (!s || !len || len > MODALFS_VOL_NAME_MAX || strlen(s) != len)
		return false;
	memcpy(out, s, len + 1);
	return modalfs_vol_name_valid(out);
}

/* ---- downloads ---- */

static ssize_t dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct dash_get *g = cls;
	char err[DASH_ERR_MAX];
	size_t got;

	if (pos >= g->size)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (dash_get_read(g, pos, buf, max, &got, err)) {
		fprintf(stderr, "modalfs-dashboard: download %s:%s: %s\n",
			g->vol, g->path, err);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* The file shrank under us: end here rather than send zeros. */
	return got ? (ssize_t)got : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void dl_free(void *cls)
{
	struct dash_get *g = cls;

	dash_get_close(g);
	free(g);
}

static enum MHD_Result download(struct MHD_Connection *c, const char *vol,
				const char *path)
{
	struct dash_get *g = malloc(sizeof(*g));
	struct MHD_Response *resp;
	struct dash_buf disp = { 0 };
	const char *base = strrchr(path, '/') + 1;
	char err[DASH_ERR_MAX];
	enum MHD_Result ret;
	int rc;

	if (!g)
		return error(c, 500, "out of memory");
	rc = dash_get_open(g, vol, path, err);
	if (rc) {
		free(g);
		return error(c, dash_status_of(rc), err);
	}
	resp = MHD_create_response_from_callback(g->size, MODALFS_CTL_IO_MAX,
						 dl_read, g, dl_free);
	if (!resp) {
		dl_free(g);
		return MHD_NO;
	}
	/* An ASCII fallback name, and the exact one per RFC 6266. */
	dash_buf_puts(&disp, "attachment; filename=\"");
	for (const char *s = base; *s; s++) {
		char ch = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || strchr(".-_", *s) ? *s : '_';

		dash_buf_put(&disp, &ch, 1);
	}
	dash_buf_puts(&disp, "\"; filename*=UTF-8''");
	dash_buf_url(&disp, base, false);
	MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
	MHD_add_response_header(resp, "Content-Disposition",
				disp.p ? disp.p : "attachment");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	dash_buf_free(&disp);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- POST /delete ---- */

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *filename,
				  const char *type, const char *enc,
				  const char *data, uint64_t off, size_t size)
{
	struct post_state *ps = cls;
	char *dst = NULL;
	size_t cap = 0;

	(void)kind; (void)filename; (void)type; (void)enc;
	if (!strcmp(key, "name")) {
		dst = ps->name;
		cap = sizeof(ps->name);
	} else if (!strcmp(key, "csrf")) {
		dst = ps->csrf;
		cap = sizeof(ps->csrf);
	} else if (!strcmp(key, "force")) {
		ps->force = size == 1 && data[0] == '1';
		return MHD_YES;
	} else {
		ps->bad_field = true;
		return MHD_YES;
	}
	if (off + size >= cap || memchr(data, '\0', size)) {
		ps->bad_field = true;
		return MHD_YES;
	}
	memcpy(dst + off, data, size);
	dst[off + size] = '\0';
	return MHD_YES;
}

static bool same_site(struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Host");
	char want[300];

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return false;
	if (!origin)
		return true;
	snprintf(want, sizeof(want), "http://%s", host ? host : "");
	return host && !strcmp(origin, want);
}

static enum MHD_Result do_delete(struct dash *d, struct MHD_Connection *c,
				 struct post_state *ps)
{
	struct dash_reply r = { 0 };
	char name[MODALFS_VOL_NAME_MAX + 1];

	if (ps->too_big)
		return error(c, 413, "request too large");
	if (!same_site(c))
		return error(c, 403, "cross-site request refused");
	if (!dash_token_eq(ps->csrf, d->csrf))
		return error(c, 403, "missing or stale form token (CSRF): open the confirmation page again");
	if (ps->bad_field || !name_from(ps->name, strlen(ps->name), name))
		return error(c, 400, "invalid volume name: " MODALFS_VOL_NAME_RULE);
	dash_page_delete(d, name, ps->force, &r);
	if (r.status == 303)
		fprintf(stderr, "modalfs-dashboard: deleted volume '%s'%s\n",
			name, ps->force ? " (forced)" : "");
	return send_reply(c, &r);
}

/* ---- routing ---- */

static enum MHD_Result get(struct dash *d, struct MHD_Connection *c,
			   const char *url)
{
	struct dash_reply r = { 0 };
	char name[MODALFS_VOL_NAME_MAX + 1], path[MODALFS_PATH_MAX + 1];
	const char *v;
	size_t len;
	bool bad = false;

	if (!strcmp(url, "/style.css")) {
		r.status = 200;
		r.type = "text/css; charset=utf-8";
		dash_buf_puts(&r.body, dash_css);
		return send_reply(c, &r);
	}
	if (!strcmp(url, "/") && (v = arg(c, "token", &len, &bad)))
		return login(d, c, bad ? "" : v);
	if (!authorized(d, c))
		return error(c, 403, "missing or wrong token: open the link modalfs-dashboard printed at start (or use the token in its token file)");
	if (!strcmp(url, "/")) {
		v = arg(c, "deleted", &len, &bad);
		dash_page_index(d, v && name_from(v, len, name) ? name : NULL, &r);
		return send_reply(c, &r);
	}
	if (!strcmp(url, "/delete")) {
		v = arg(c, "name", &len, &bad);
		if (!name_from(v, len, name))
			return error(c, 400, "invalid volume name: " MODALFS_VOL_NAME_RULE);
		dash_page_confirm(d, name, &r);
		return send_reply(c, &r);
	}
	if (!strncmp(url, "/v/", 3) || !strncmp(url, "/dl/", 4)) {
		bool dl = url[1] == 'd';
		const char *n = url + (dl ? 4 : 3);

		if (!name_from(n, strlen(n), name))
			return error(c, 400, "invalid volume name: " MODALFS_VOL_NAME_RULE);
		v = arg(c, "path", &len, &bad);
		if (!v) {
			v = "/";
			len = 1;
		}
		if (bad || !dash_path_ok(v, len, path, sizeof(path)))
			return error(c, 400, "invalid path: it must be absolute, without '.' or '..' components or NUL bytes, at most 4095 bytes");
		if (dl) {
			if (!strcmp(path, "/"))
				return error(c, 400, "the root of a volume is a directory");
			return download(c, name, path);
		}
		v = arg(c, "live", &len, &bad);
		dash_page_volume(d, name, path, v && !strcmp(v, "1"), &r);
		return send_reply(c, &r);
	}
	return error(c, 404, "no such page");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct dash *d = cls;
	struct post_state *ps = *con_cls;

	(void)version;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return get(d, c, url);
	if (strcmp(method, "POST"))
		return error(c, 405, "method not allowed");
	if (strcmp(url, "/delete"))
		return error(c, 404, "no such page");
	if (!ps) {
		/* Refused before the body is read: no token, no work. */
		if (!authorized(d, c))
			return error(c, 403, "missing or wrong token");
		ps = calloc(1, sizeof(*ps));
		if (!ps)
			return MHD_NO;
		ps->pp = MHD_create_post_processor(c, 1024, post_field, ps);
		if (!ps->pp) {
			free(ps);
			return error(c, 415, "expected a form (application/x-www-form-urlencoded)");
		}
		*con_cls = ps;
		return MHD_YES;
	}
	if (*upload_size) {
		ps->bytes += *upload_size;
		if (ps->bytes > POST_MAX)
			ps->too_big = true;
		else
			MHD_post_process(ps->pp, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return do_delete(d, c, ps);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct post_state *ps = *con_cls;

	(void)cls; (void)c; (void)toe;
	if (!ps)
		return;
	MHD_destroy_post_processor(ps->pp);
	free(ps);
	*con_cls = NULL;
}

struct MHD_Daemon *dash_http_start(struct dash *d, const char *addr,
				   unsigned port)
{
	struct sockaddr_in sa4 = { .sin_family = AF_INET };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	const struct sockaddr *sa;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
		sa4.sin_port = htons((uint16_t)port);
		sa = (const struct sockaddr *)&sa4;
	} else if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
		sa6.sin6_port = htons((uint16_t)port);
		sa = (const struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		errno = EINVAL;
		return NULL;
	}
	return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, d,
				MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_THREAD_POOL_SIZE, 4,
				MHD_OPTION_CONNECTION_TIMEOUT, 30,
				MHD_OPTION_CONNECTION_LIMIT, 64,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				MHD_OPTION_END);
}
