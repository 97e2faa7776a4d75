// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The dashboard's pages: plain HTML with one stylesheet, no script.
 * Everything from the daemon or the URL is escaped on the way out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dash.h"
#include "dash_chart.h"
#include "../userd/stats.h"

const char dash_css[] =
	":root{--fg:#1d232a;--mut:#5b6672;--bg:#fff;--line:#dde3e9;--acc:#1f6feb;--bad:#c62828;--ok:#2e7d32}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}\n"
	"header{display:flex;align-items:center;gap:1rem;padding:.6rem 1rem;background:#0d1117;color:#fff}\n"
	"header a{color:#fff;text-decoration:none;font-weight:600}\n"
	"main{max-width:70rem;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.3rem;margin:.2rem 0 .8rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}\n"
	"a{color:var(--acc)}\n"
	".scroll{overflow-x:auto}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:middle}\n"
	"th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--mut)}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	".kind{font-size:.75rem;padding:.1rem .4rem;border-radius:.6rem;background:#eef2f6}\n"
	".kind.ephemeral{background:#fff4e0}\n"
	".mut{color:var(--mut)}.small{font-size:.85rem}\n"
	".trash{display:inline-flex;padding:.3rem;border-radius:.3rem;color:var(--bad)}\n"
	".trash:hover,.trash:focus{background:#fdecea}\n"
	".trash svg{width:18px;height:18px;fill:currentColor}\n"
	".chart .bg{fill:#f6f8fa}.chart .line{fill:none;stroke:var(--acc);stroke-width:1.5}\n"
	".chart .note{font-size:10px;fill:var(--mut)}\n"
	".chartlabel{font-size:.8rem;color:var(--mut);margin-left:.5rem}\n"
	".charts{display:flex;flex-wrap:wrap;gap:1.2rem}.charts figure{margin:0}\n"
	".charts figcaption{font-size:.85rem;color:var(--mut)}\n"
	".flash{padding:.6rem .8rem;border-radius:.3rem;background:#e8f5e9;color:var(--ok);margin-bottom:1rem}\n"
	".error{padding:.6rem .8rem;border-radius:.3rem;background:#fdecea;color:var(--bad);margin-bottom:1rem}\n"
	".crumbs{margin:.2rem 0 .8rem;word-break:break-all}\n"
	"button.danger{background:var(--bad);color:#fff;border:0;border-radius:.3rem;padding:.5rem 1rem;font-size:1rem}\n"
	"form p{margin:.6rem 0}\n"
	"@media (max-width:640px){.opt{display:none}main{padding:.6rem}th,td{padding:.35rem .3rem}}\n";

static const char trash_svg[] =
	"<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M9 3h6l1 1h4v2H4V4h4l1-1zm-3 5h12l-1 13H7L6 8zm4 2v9h1.5v-9H10zm3.5 0v9H15v-9h-1.5z\"/></svg>";

unsigned dash_status_of(int err)
{
	switch (err) {
	case ENOENT: return 404;
	case EBUSY: case EEXIST: return 409;
	case EINVAL: case EISDIR: case ENOTDIR: case ENAMETOOLONG: return 400;
	case EPERM: case EACCES: return 403;
	case ECONNREFUSED: return 503;
	default: return 502;
	}
}

static void head(struct dash_buf *b, const char *title, bool refresh)
{
	dash_buf_puts(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
	if (refresh)
		dash_buf_puts(b, "<meta http-equiv=\"refresh\" content=\"5\">");
	dash_buf_puts(b, "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	dash_buf_html(b, title);
	dash_buf_puts(b, " · modalfs</title></head><body><header><a href=\"/\">modalfs</a>"
		      "<span class=\"small\">volumes</span></header><main>");
}

static void tail(struct dash_buf *b)
{
	dash_buf_puts(b, "</main></body></html>\n");
}

void dash_page_error(struct dash_reply *r, unsigned status, const char *msg)
{
	dash_buf_free(&r->body);
	r->status = status;
	r->type = "text/html; charset=utf-8";
	head(&r->body, "error", false);
	dash_buf_printf(&r->body, "<h1>%u</h1><p class=\"error\">", status);
	dash_buf_html(&r->body, msg);
	dash_buf_puts(&r->body, "</p><p><a href=\"/\">All volumes</a></p>");
	tail(&r->body);
}

static void ok_html(struct dash_reply *r)
{
	r->status = 200;
	r->type = "text/html; charset=utf-8";
}

static const char *kind_name(uint32_t k)
{
	return k == MODALFS_KIND_EPHEMERAL ? "ephemeral" : "persisted";
}

static void vol_link(struct dash_buf *b, const char *name)
{
	dash_buf_puts(b, "<a href=\"/v/");
	dash_buf_url(b, name, false);
	dash_buf_puts(b, "\">");
	dash_buf_html(b, name);
	dash_buf_puts(b, "</a>");
}

static void trash(struct dash_buf *b, const char *name)
{
	dash_buf_puts(b, "<a class=\"trash\" href=\"/delete?name=");
	dash_buf_url(b, name, false);
	dash_buf_puts(b, "\" title=\"Delete volume ");
	dash_buf_html(b, name);
	dash_buf_puts(b, "\" aria-label=\"Delete volume ");
	dash_buf_html(b, name);
	dash_buf_puts(b, "\">");
	dash_buf_puts(b, trash_svg);
	dash_buf_puts(b, "</a>");
}

static int by_app(const void *a, const void *b)
{
	const struct dash_vol *x = a, *y = b;
	int c = strcmp(x->app_id, y->app_id);

	return c ? c : strcmp(x->name, y->name);
}

static void apps_section(struct dash_buf *b, struct dash_vol *v, size_t n)
{
	struct dash_vol *e = calloc(n ? n : 1, sizeof(*e));
	size_t k = 0;

	if (!e) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == MODALFS_KIND_EPHEMERAL)
			e[k++] = v[i];
	qsort(e, k, sizeof(*e), by_app);
	dash_buf_puts(b, "<h2>Apps</h2>");
	if (!k) {
		dash_buf_puts(b, "<p class=\"mut\">No running app owns an ephemeral volume.</p>");
		free(e);
		return;
	}
	dash_buf_puts(b, "<div class=\"scroll\"><table id=\"apps\"><thead><tr><th>App</th><th>Name</th><th>Ephemeral volumes</th></tr></thead><tbody>");
	for (size_t i = 0; i < k;) {
		size_t j = i;

		dash_buf_puts(b, "<tr><td><code>");
		dash_buf_html(b, e[i].app_id);
		dash_buf_puts(b, "</code></td><td>");
		dash_buf_html(b, e[i].app_name[0] ? e[i].app_name : "—");
		dash_buf_puts(b, "</td><td>");
		for (; j < k && !strcmp(e[j].app_id, e[i].app_id); j++) {
			if (j > i)
				dash_buf_puts(b, ", ");
			vol_link(b, e[j].name);
			dash_buf_puts(b, " <span class=\"mut small\">");
			dash_buf_size(b, e[j].bytes);
			dash_buf_puts(b, "</span>");
		}
		dash_buf_puts(b, "</td></tr>");
		i = j;
	}
	dash_buf_puts(b, "</tbody></table></div>");
	free(e);
}

void dash_page_index(struct dash *d, const char *deleted, struct dash_reply *r)
{
	struct dash_buf *b = &r->body;
	char err[DASH_ERR_MAX];
	double series[DASH_HIST_SAMPLES];
	struct dash_vol *v;
	size_t n, k;
	uint64_t total = 0;
	int rc = dash_ctl_list(&v, &n, err);

	if (rc) {
		dash_page_error(r, dash_status_of(rc), err);
		return;
	}
	ok_html(r);
	head(b, "Volumes", false);
	if (deleted) {
		dash_buf_puts(b, "<p class=\"flash\" id=\"flash\">Volume <b>");
		dash_buf_html(b, deleted);
		dash_buf_puts(b, "</b> was deleted with all its data.</p>");
	}
	for (size_t i = 0; i < n; i++)
		total += v[i].bytes;
	dash_buf_printf(b, "<h1>Volumes</h1><p class=\"mut\">%zu volume%s, ", n,
			n == 1 ? "" : "s");
	dash_buf_size(b, total);
	dash_buf_puts(b, " stored.</p>");
	if (!n) {
		dash_buf_puts(b, "<p>No volumes yet: <code>modalfsctl persisted NAME</code> makes one.</p>");
	} else {
		dash_buf_puts(b, "<div class=\"scroll\"><table id=\"volumes\"><thead><tr>"
			      "<th>Name</th><th>Kind</th><th class=\"opt\">App</th>"
			      "<th class=\"num\">Size</th><th class=\"num\">Files</th>"
			      "<th class=\"num\">Mounts</th><th class=\"opt\">Created</th>"
			      "<th class=\"opt\">Size, last minutes</th><th><span class=\"opt\">Delete</span></th>"
			      "</tr></thead><tbody>");
	}
	for (size_t i = 0; i < n; i++) {
		dash_buf_puts(b, "<tr data-volume=\"");
		dash_buf_html(b, v[i].name);
		dash_buf_puts(b, "\"><td>");
		vol_link(b, v[i].name);
		dash_buf_printf(b, "</td><td><span class=\"kind %s\">%s</span></td><td class=\"opt\"><code class=\"small\">",
				kind_name(v[i].kind), kind_name(v[i].kind));
		dash_buf_html(b, v[i].app_id);
		dash_buf_puts(b, "</code></td><td class=\"num\">");
		dash_buf_size(b, v[i].bytes);
		dash_buf_printf(b, "</td><td class=\"num\">%llu</td><td class=\"num\">%u</td><td class=\"opt small\">",
				(unsigned long long)v[i].files, v[i].mounts);
		dash_buf_time(b, v[i].created);
		dash_buf_puts(b, "</td><td class=\"opt\">");
		k = dash_hist_sizes(&d->hist, v[i].name, series);
		dash_chart(b, series, k, 120, 24, "size over the last minutes",
			   true, false);
		dash_buf_puts(b, "</td><td>");
		trash(b, v[i].name);
		dash_buf_puts(b, "</td></tr>");
	}
	if (n)
		dash_buf_puts(b, "</tbody></table></div>");
	apps_section(b, v, n);
	dash_buf_puts(b, "<h2>Daemon</h2><div class=\"charts\"><figure>");
	k = dash_hist_rates(&d->hist, series);
	dash_chart(b, series, k, 300, 60, "kernel requests per second", false,
		   true);
	dash_buf_printf(b, "<figcaption>kernel requests per second, sampled every %u s</figcaption></figure></div>",
			d->hist.interval);
	tail(b);
	free(v);
}

static int by_name(const void *a, const void *b)
{
	const struct dash_entry *x = a, *y = b;
	bool dx = S_ISDIR(x->attr.mode), dy = S_ISDIR(y->attr.mode);

	if (dx != dy)
		return dx ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void crumbs(struct dash_buf *b, const char *vol, const char *path)
{
	const char *p = path;

	dash_buf_puts(b, "<nav class=\"crumbs\" aria-label=\"path\">");
	vol_link(b, vol);
	dash_buf_puts(b, " : <a href=\"/v/");
	dash_buf_url(b, vol, false);
	dash_buf_puts(b, "?path=/\">/</a>");
	while (*p == '/')
		p++;
	while (*p) {
		size_t n = strcspn(p, "/");
		char *prefix = strndup(path, (size_t)(p - path) + n);
		char *comp = strndup(p, n);

		if (!prefix || !comp) {
			b->oom = true;
		} else {
			dash_buf_puts(b, " <a href=\"/v/");
			dash_buf_url(b, vol, false);
			dash_buf_puts(b, "?path=");
			dash_buf_url(b, prefix, true);
			dash_buf_puts(b, "\">");
			dash_buf_html(b, comp);
			dash_buf_puts(b, "</a> /");
		}
		free(prefix);
		free(comp);
		p += n;
		while (*p == '/')
			p++;
	}
	dash_buf_puts(b, "</nav>");
}

static void child_path(struct dash_buf *b, const char *dir, const char *name)
{
	dash_buf_url(b, dir, true);
	if (strcmp(dir, "/"))
		dash_buf_puts(b, "/");
	dash_buf_url(b, name, false);
}

static void counters(struct dash_buf *b)
{
	struct modalfs_ctl_stats *s = malloc(sizeof(*s));
	char err[DASH_ERR_MAX];
	bool any = false;

	if (!s || dash_ctl_stats(s, err)) {
		dash_buf_puts(b, "<p class=\"error\">Counters unavailable.</p>");
		free(s);
		return;
	}
	dash_buf_puts(b, "<div class=\"scroll\"><table id=\"counters\"><thead><tr><th>Op</th>"
		      "<th class=\"num\">Requests</th><th class=\"num\">Errors</th>"
		      "<th class=\"num\">Mean</th><th class=\"num\">p99</th></tr></thead><tbody>");
	for (uint32_t op = 1; op <= MODALFS_OP_MAX; op++) {
		const struct modalfs_ctl_stats_op *o = &s->op[op];

		if (!o->requests)
			continue;
		any = true;
		dash_buf_printf(b, "<tr><td>%s</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td>"
				"<td class=\"num\">%.0f µs</td><td class=\"num\">%.0f µs</td></tr>",
				modalfs_stats_op_name(op),
				(unsigned long long)o->requests,
				(unsigned long long)o->errors,
				o->mean_ns / 1000.0, o->p99_ns / 1000.0);
	}
	if (!any)
		dash_buf_puts(b, "<tr><td colspan=\"5\" class=\"mut\">No kernel requests yet.</td></tr>");
	dash_buf_printf(b, "</tbody></table></div><p class=\"mut small\">Daemon-wide, since it started; %llu commits, %llu syncs.</p>",
			(unsigned long long)s->commits,
			(unsigned long long)s->syncs);
	free(s);
}

static const struct dash_vol *find_vol(const struct dash_vol *v, size_t n,
				       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

void dash_page_volume(struct dash *d, const char *vol, const char *path,
		      bool live, struct dash_reply *r)
{
	struct dash_buf *b = &r->body;
	char err[DASH_ERR_MAX];
	double series[DASH_HIST_SAMPLES];
	struct dash_entry *e;
	struct dash_vol *v;
	const struct dash_vol *me;
	size_t n, nv, k;
	int rc = dash_ctl_list(&v, &nv, err);

	if (rc) {
		dash_page_error(r, dash_status_of(rc), err);
		return;
	}
	me = find_vol(v, nv, vol);
	if (!me) {
		free(v);
		snprintf(err, sizeof(err), "volume '%s' does not exist", vol);
		dash_page_error(r, 404, err);
		return;
	}
	rc = dash_ctl_ls(vol, path, &e, &n, err);
	if (rc) {
		free(v);
		dash_page_error(r, dash_status_of(rc), err);
		return;
	}
	ok_html(r);
	head(b, vol, live);
	dash_buf_puts(b, "<h1>");
	dash_buf_html(b, vol);
	dash_buf_printf(b, " <span class=\"kind %s\">%s</span> ", kind_name(me->kind),
			kind_name(me->kind));
	trash(b, vol);
	dash_buf_puts(b, "</h1><p class=\"mut small\">app <code>");
	dash_buf_html(b, me->app_id);
	dash_buf_puts(b, "</code>");
	if (me->app_name[0]) {
		dash_buf_puts(b, " (");
		dash_buf_html(b, me->app_name);
		dash_buf_puts(b, ")");
	}
	dash_buf_puts(b, " · ");
	dash_buf_size(b, me->bytes);
	dash_buf_printf(b, " in %llu files · %u mount%s · created ",
			(unsigned long long)me->files, me->mounts,
			me->mounts == 1 ? "" : "s");
	dash_buf_time(b, me->created);
	dash_buf_puts(b, "</p>");
	crumbs(b, vol, path);
	qsort(e, n, sizeof(*e), by_name);
	dash_buf_puts(b, "<div class=\"scroll\"><table id=\"files\"><thead><tr><th>Name</th>"
		      "<th class=\"num\">Size</th><th class=\"opt\">Modified</th><th class=\"opt\">Mode</th></tr></thead><tbody>");
	if (!n)
		dash_buf_puts(b, "<tr><td colspan=\"4\" class=\"mut\">Empty directory.</td></tr>");
	for (size_t i = 0; i < n; i++) {
		bool dir = S_ISDIR(e[i].attr.mode), reg = S_ISREG(e[i].attr.mode);
		/* LS of a file lists that file under its own name. */
		bool self = n == 1 && !dir && strcmp(path, "/") &&
			    !strcmp(strrchr(path, '/') + 1, e[i].name);

		dash_buf_puts(b, "<tr><td>");
		if (dir || reg) {
			dash_buf_printf(b, "<a class=\"%s\" href=\"/%s/", dir ? "dir" : "file",
					dir ? "v" : "dl");
			dash_buf_url(b, vol, false);
			dash_buf_puts(b, "?path=");
			if (self)
				dash_buf_url(b, path, true);
			else
				child_path(b, path, e[i].name);
			dash_buf_puts(b, "\">");
		}
		dash_buf_html(b, e[i].name);
		if (dir)
			dash_buf_puts(b, "/");
		if (dir || reg)
			dash_buf_puts(b, "</a>");
		dash_buf_puts(b, "</td><td class=\"num\">");
		if (dir)
			dash_buf_puts(b, "—");
		else
			dash_buf_size(b, e[i].attr.size);
		dash_buf_puts(b, "</td><td class=\"opt small\">");
		dash_buf_time(b, e[i].attr.mtime_sec);
		dash_buf_printf(b, "</td><td class=\"opt small\"><code>%04o</code></td></tr>",
				e[i].attr.mode & 07777);
	}
	dash_buf_puts(b, "</tbody></table></div>");
	dash_buf_puts(b, "<h2>Last minutes</h2><div class=\"charts\"><figure>");
	k = dash_hist_sizes(&d->hist, vol, series);
	dash_chart(b, series, k, 300, 60, "volume size", true, true);
	dash_buf_puts(b, "<figcaption>size of this volume</figcaption></figure><figure>");
	k = dash_hist_rates(&d->hist, series);
	dash_chart(b, series, k, 300, 60, "kernel requests per second", false,
		   true);
	dash_buf_puts(b, "<figcaption>kernel requests per second (daemon-wide)</figcaption></figure></div>");
	dash_buf_puts(b, "<h2>Operations</h2><p class=\"small\">");
	dash_buf_puts(b, live ? "Updating every 5 s · <a href=\"/v/" :
			       "<a href=\"/v/");
	dash_buf_url(b, vol, false);
	dash_buf_puts(b, "?path=");
	dash_buf_url(b, path, true);
	dash_buf_puts(b, live ? "\">stop updating</a></p>" :
			       "&amp;live=1\">update every 5 s</a></p>");
	counters(b);
	tail(b);
	free(e);
	free(v);
}

void dash_page_confirm(struct dash *d, const char *vol, struct dash_reply *r)
{
	struct dash_buf *b = &r->body;
	char err[DASH_ERR_MAX];
	const struct dash_vol *me;
	struct dash_vol *v;
	size_t n;
	int rc = dash_ctl_list(&v, &n, err);

	if (rc) {
		dash_page_error(r, dash_status_of(rc), err);
		return;
	}
	me = find_vol(v, n, vol);
	if (!me) {
		free(v);
		snprintf(err, sizeof(err), "volume '%s' does not exist", vol);
		dash_page_error(r, 404, err);
		return;
	}
	ok_html(r);
	head(b, "Delete volume", false);
	dash_buf_puts(b, "<h1>Delete volume <b id=\"confirm-name\">");
	dash_buf_html(b, vol);
	dash_buf_puts(b, "</b>?</h1><p>This deletes <b>");
	dash_buf_html(b, vol);
	dash_buf_puts(b, "</b> and all its data (");
	dash_buf_size(b, me->bytes);
	dash_buf_printf(b, " in %llu files). It cannot be undone.</p>",
			(unsigned long long)me->files);
	dash_buf_puts(b, "<form method=\"post\" action=\"/delete\"><input type=\"hidden\" name=\"name\" value=\"");
	dash_buf_html(b, vol);
	dash_buf_puts(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	dash_buf_puts(b, d->csrf);
	dash_buf_puts(b, "\">");
	if (me->mounts) {
		dash_buf_printf(b, "<p class=\"error\">It is mounted (%u mount%s). Deleting it refuses unless forced; forced, those mounts fail with ESTALE until unmounted.</p>",
				me->mounts, me->mounts == 1 ? "" : "s");
		dash_buf_puts(b, "<p><label><input type=\"checkbox\" name=\"force\" value=\"1\" id=\"force\"> delete it although it is mounted</label></p>");
	}
	dash_buf_puts(b, "<p><button class=\"danger\" type=\"submit\" id=\"confirm-delete\">Delete ");
	dash_buf_html(b, vol);
	dash_buf_puts(b, "</button> <a href=\"/\">Cancel</a></p></form>");
	tail(b);
	free(v);
}

void dash_page_delete(struct dash *d, const char *vol, bool force,
		      struct dash_reply *r)
{
	char err[DASH_ERR_MAX];
	int rc = dash_ctl_delete(vol, force, err);
	struct dash_buf *b = &r->body;

	(void)d;
	if (!rc) {
		r->status = 303;
		snprintf(r->location, sizeof(r->location), "/?deleted=%s", vol);
		return;
	}
	if (rc != EBUSY) {
		dash_page_error(r, dash_status_of(rc), err);
		return;
	}
	r->status = 409;
	r->type = "text/html; charset=utf-8";
	head(b, "Volume is mounted", false);
	dash_buf_puts(b, "<h1>Not deleted</h1><p class=\"error\" id=\"refused\">");
	dash_buf_html(b, err);
	dash_buf_puts(b, "</p><p><a href=\"/delete?name=");
	dash_buf_url(b, vol, false);
	dash_buf_puts(b, "\">Back to the confirmation</a>, where it can be forced.</p>");
	tail(b);
}
