// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * modalfsctl mount and run.
 *
 * run mirrors @stub.function(network_file_systems={...}): CMD runs in a
 * mount namespace of its own with the volumes mounted there, so nobody
 * else sees those mounts, and they vanish with the namespace. A "new"
 * volume belongs to an app: an anonymous one owned by this process (the
 * daemon stops it when this process is gone, also after SIGKILL), or the
 * named app of --app, which lives until "app stop".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_client.h"
#include "modalfsctl.h"
#include "mountopts.h"
#include "volprobe.h"
#include "../userd/fsutil.h"
#include "../userd/names.h"

#define MAX_NFS 32

int cmd_mount(int argc, char **argv)
{
	struct mount_opts mo = { 0 };
	char src[MODALFS_VOL_NAME_MAX + MODALFS_PATH_MAX + 2], err[512];
	const char *pos[2];
	int n = 0, e;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strncmp(argv[i], "--options", 9)) {
			const char *o = argv[i][1] == 'o' ? argv[++i] :
					argv[i][9] == '=' ? argv[i] + 10 :
					argv[++i];

			if (!o)
				return usage_error(usage_mount,
						   "mount: -o needs OPTIONS");
			if (mount_opts_parse(o, &mo, err, sizeof(err)))
				return usage_error(usage_mount, "mount: %s",
						   err);
			continue;
		}
		if (argv[i][0] == '-')
			return usage_error(usage_mount,
					   "mount: unknown option '%s'",
					   argv[i]);
		if (n == 2)
			return usage_error(usage_mount,
					   "mount: unexpected argument '%s'",
					   argv[i]);
		pos[n++] = argv[i];
	}
	if (n < 2)
		return usage_error(usage_mount, "mount: missing %s",
				   n ? "DIR" : "NAME[:/path] and DIR");
	if (mount_source(pos[0], src, sizeof(src), err, sizeof(err))) {
		fprintf(stderr, "modalfsctl: %s\n", err);
		return EXIT_USAGE;
	}
	if (!ctl_root_ok("mount"))
		return EXIT_RUNTIME;
	e = mount_volume(src, pos[1], &mo, err, sizeof(err));
	if (!e)
		return 0;
	if (e == ENOENT)
		volprobe_explain(ctl_sock_path, src, pos[1], err, sizeof(err));
	return ctl_fail("mounting %s on %s: %s", src, pos[1], err);
}

struct nfs {
	char dir[PATH_MAX];
	char vol[MODALFS_VOL_NAME_MAX + 1];
	bool is_new;
	bool mounted;
};

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* One reply-checked request with an optional string attribute. */
static int simple_call(struct ctl_conn *c, uint8_t cmd, int attr,
		       const char *val, const char *what)
{
	struct nl_msg *m = ctl_request(c, cmd);
	int rc;

	if (m && attr && nla_put_string(m, attr, val)) {
		nlmsg_free(m);
		m = NULL;
	}
	rc = ctl_call(c, cmd, m);
	if (!rc && ctl_errno(c))
		rc = ctl_report(c, what);
	return rc;
}

/* The ephemeral volumes app_id already has, in creation order. */
static int app_volumes(struct ctl_conn *c, const char *app_id,
		       char (*names)[MODALFS_VOL_NAME_MAX + 1], int max,
		       int *n)
{
	uint64_t ids[MAX_NFS];
	int rc;

	*n = 0;
	rc = simple_call(c, MODALFS_CTL_LIST, 0, NULL, "listing volumes");
	while (!rc) {
		struct nlattr *a;
		int rem;

		nlmsg_for_each_attr(a, c->nlh, GENL_HDRLEN, rem) {
			struct modalfs_ctl_volume v;
			int i;

			if (nla_type(a) != MODALFS_A_VOLUME ||
			    modalfs_ctl_get_volume(a, &v) ||
			    v.vi.kind != MODALFS_KIND_EPHEMERAL ||
			    strcmp(v.vi.app_id, app_id))
				continue;
			/* Insertion sort by id: ids only grow. */
			for (i = *n; i > 0 && ids[i - 1] > v.vi.vol_id; i--) {
				if (i < max) {
					ids[i] = ids[i - 1];
					memcpy(names[i], names[i - 1],
					       sizeof(names[i]));
				}
			}
			if (i < max) {
				ids[i] = v.vi.vol_id;
				snprintf(names[i], sizeof(names[i]), "%s",
					 v.vi.name);
			}
			if (*n < max)
				(*n)++;
		}
		if (c->tb[MODALFS_A_EOF])
			break;
		rc = ctl_next(c, MODALFS_CTL_LIST);
		if (!rc && ctl_errno(c))
			rc = ctl_report(c, "listing volumes");
	}
	return rc;
}

/* Stops the anonymous app; retries briefly while a mount lingers. */
static int stop_app(const char *app_id)
{
	struct ctl_conn c;
	int rc = 1;

	for (int tries = 0; tries < 50; tries++) {
		struct nl_msg *m;

		if (ctl_open(&c))
			return EXIT_RUNTIME;
		m = ctl_request(&c, MODALFS_CTL_APP_STOP);
		if (m && nla_put_string(m, MODALFS_A_APP_ID, app_id)) {
			nlmsg_free(m);
			m = NULL;
		}
		rc = ctl_call(&c, MODALFS_CTL_APP_STOP, m);
		if (!rc && ctl_errno(&c) == EBUSY && tries < 49) {
			ctl_close(&c);
			usleep(100000);
			continue;
		}
		if (!rc && ctl_errno(&c))
			rc = ctl_report(&c, app_id);
		ctl_close(&c);
		break;
	}
	if (rc)
		fprintf(stderr, "modalfsctl: app %s is left to modalfsd, which stops it once this process has exited\n",
			app_id);
	return rc;
}

/* Creates the app and the ephemeral volumes; fills nfs[].vol. */
static int setup_volumes(const char *app_name, struct nfs *nfs, int nnfs,
			 char *app_id, bool *anon)
{
	char have[MAX_NFS][MODALFS_VOL_NAME_MAX + 1];
	struct ctl_conn c;
	int nhave = 0, used = 0, nnew = 0, rc;

	for (int i = 0; i < nnfs; i++)
		nnew += nfs[i].is_new;
	*anon = false;
	app_id[0] = '\0';
	if (!app_name && !nnew)
		return 0;
	if (ctl_open(&c))
		return EXIT_RUNTIME;
	rc = simple_call(&c, MODALFS_CTL_APP_CREATE,
			 app_name ? MODALFS_A_APP_NAME : 0, app_name,
			 app_name ? app_name : "creating the app of this run");
	if (!rc && !c.tb[MODALFS_A_APP_ID])
		rc = ctl_fail("malformed reply from modalfsd at %s",
			      ctl_sock_path);
	if (rc)
		goto out;
	snprintf(app_id, MODALFS_APP_ID_MAX + 1, "%s",
		 (const char *)nla_data(c.tb[MODALFS_A_APP_ID]));
	*anon = !app_name;
	if (app_name)
		rc = app_volumes(&c, app_id, have, MAX_NFS, &nhave);
	for (int i = 0; !rc && i < nnfs; i++) {
		struct modalfs_ctl_volume v;

		if (!nfs[i].is_new)
			continue;
		if (used < nhave) {
			snprintf(nfs[i].vol, sizeof(nfs[i].vol), "%s",
				 have[used++]);
			continue;
		}
		rc = simple_call(&c, MODALFS_CTL_EPHEMERAL, MODALFS_A_APP_ID,
				 app_id, app_id);
		if (!rc && (!c.tb[MODALFS_A_VOLUME] ||
			    modalfs_ctl_get_volume(c.tb[MODALFS_A_VOLUME], &v)))
			rc = ctl_fail("malformed reply from modalfsd at %s",
				      ctl_sock_path);
		if (!rc)
			snprintf(nfs[i].vol, sizeof(nfs[i].vol), "%s",
				 v.vi.name);
	}
out:
	ctl_close(&c);
	return rc;
}

static int mount_all(struct nfs *nfs, int nnfs)
{
	struct mount_opts mo = { 0 };
	char err[512];

	if (unshare(CLONE_NEWNS))
		return ctl_fail("cannot make a private mount namespace: %s",
				strerror(errno));
	/* Our mounts must not propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return ctl_fail("cannot make / a slave mount: %s",
				strerror(errno));
	for (int i = 0; i < nnfs; i++) {
		char src[MODALFS_VOL_NAME_MAX + 3];
		int e = modalfs_mkdir_p(nfs[i].dir, 0755);

		if (e)
			return ctl_fail("cannot create %s: %s", nfs[i].dir,
					strerror(e));
		snprintf(src, sizeof(src), "%s:/", nfs[i].vol);
		if (mount_volume(src, nfs[i].dir, &mo, err, sizeof(err)))
			return ctl_fail("mounting volume '%s' on %s: %s",
					nfs[i].vol, nfs[i].dir, err);
		nfs[i].mounted = true;
	}
	return 0;
}

static void umount_all(struct nfs *nfs, int nnfs)
{
	for (int i = nnfs - 1; i >= 0; i--)
		if (nfs[i].mounted && umount2(nfs[i].dir, MNT_DETACH))
			fprintf(stderr, "modalfsctl: unmounting %s: %s\n",
				nfs[i].dir, strerror(errno));
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app", required_argument, NULL, 'a' },
		{ "nfs", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct nfs nfs[MAX_NFS];
	char app_id[MODALFS_APP_ID_MAX + 1];
	const char *app_name = NULL;
	struct sigaction sa = { .sa_handler = forward };
	int nnfs = 0, c, status, rc;
	bool anon;

	memset(nfs, 0, sizeof(nfs));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		char *eq;

		switch (c) {
		case 'a':
			if (!modalfs_vol_name_valid(optarg)) {
				fprintf(stderr, "modalfsctl: invalid app name '%s': app names follow the volume name rule: %s\n",
					optarg, MODALFS_VOL_NAME_RULE);
				return EXIT_USAGE;
			}
			app_name = optarg;
			break;
		case 'n':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || optarg[0] != '/')
				return usage_error(usage_run,
						   "run: --nfs takes /ABSOLUTE/DIR=VOLUME or /ABSOLUTE/DIR=new, not '%s'",
						   optarg);
			if (nnfs == MAX_NFS)
				return usage_error(usage_run,
						   "run: at most %d --nfs",
						   MAX_NFS);
			if ((size_t)(eq - optarg) >= sizeof(nfs[nnfs].dir))
				return usage_error(usage_run,
						   "run: directory too long");
			memcpy(nfs[nnfs].dir, optarg, eq - optarg);
			if (!strcmp(eq + 1, "new")) {
				nfs[nnfs].is_new = true;
			} else if (modalfs_vol_name_valid(eq + 1)) {
				snprintf(nfs[nnfs].vol, sizeof(nfs[nnfs].vol),
					 "%s", eq + 1);
			} else {
				fprintf(stderr, "modalfsctl: invalid volume name '%s' in --nfs %s: %s (or 'new')\n",
					eq + 1, optarg, MODALFS_VOL_NAME_RULE);
				return EXIT_USAGE;
			}
			nnfs++;
			break;
		case 'h':
			usage_run(stdout);
			return 0;
		default:
			return usage_error(usage_run,
					   "run: unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error(usage_run, "run: missing -- CMD");
	if (!ctl_root_ok("run"))
		return EXIT_RUNTIME;

	rc = setup_volumes(app_name, nfs, nnfs, app_id, &anon);
	if (!rc)
		rc = mount_all(nfs, nnfs);
	if (rc) {
		umount_all(nfs, nnfs);
		if (anon)
			stop_app(app_id);
		return rc;
	}

	/* Signals meant for the job reach CMD; we wait and clean up. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	fflush(NULL);
	child_pid = fork();
	if (child_pid < 0) {
		rc = ctl_fail("fork: %s", strerror(errno));
	} else if (child_pid == 0) {
		sa.sa_handler = SIG_DFL;
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaction(sigs[i], &sa, NULL);
		if (app_id[0])
			setenv("MODALFS_APP_ID", app_id, 1);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "modalfsctl: cannot run '%s': %s\n",
			argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	} else {
		while (waitpid(child_pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = WIFEXITED(status) ? WEXITSTATUS(status) :
		     WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
	}
	umount_all(nfs, nnfs);
	if (anon)
		stop_app(app_id);
	return rc;
}
