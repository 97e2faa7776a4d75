/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The subcommands of modalfsctl, one file per group. */
#ifndef MODALFSCTL_H
#define MODALFSCTL_H

#include <stdbool.h>
#include <stdio.h>

/* Each takes the subcommand's argv (argv[0] is its name) and returns the
 * exit status. */
int cmd_ls(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* Usage texts (modalfsctl.c); f is stdout for --help, else stderr. */
void usage_ls(FILE *f);
void usage_put(FILE *f);
void usage_get(FILE *f);
void usage_rm(FILE *f);
void usage_run(FILE *f);
void usage_mount(FILE *f);
void usage_stats(FILE *f);

/* Prints usage to stderr and returns EXIT_USAGE. */
int usage_error(void (*usage)(FILE *), const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A subcommand's options: only the flags listed (long name, e.g. "json",
 * with an optional one-letter alias) are accepted; the rest of argv[1..]
 * is positional. Returns the number of positionals (moved to pos[]), or
 * -1 after a usage error.
 */
struct flag {
	const char *name;
	char alias;
	bool *set;
};
int parse_flags(int argc, char **argv, const struct flag *flags,
		char **pos, int maxpos, void (*usage)(FILE *));

/* True if argv has --help or -h before a "--". */
bool wants_help(int argc, char **argv);

#endif
