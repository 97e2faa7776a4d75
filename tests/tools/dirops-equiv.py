#!/usr/bin/python3
"""Random directory operations with their errnos, for comparing filesystems.

usage: dirops-equiv.py DIR SEED COUNT

Runs COUNT operations drawn from SEED on a small pool of names below DIR
(which should be empty): O_CREAT|O_EXCL creates, unlinks, mkdirs, rmdirs,
renames, hard links and, now and then, an fsync of DIR. The pool is small,
so many of them fail (EEXIST, ENOENT, ENOTEMPTY, ENOTDIR, EISDIR, ...).
Prints one line per operation with its result, then the final tree: the
same SEED on two filesystems that behave alike prints the same text, so a
plain diff compares them (issue 11: asynchronous directory operations must
fail exactly as synchronous ones do on tmpfs).
"""
import errno
import os
import random
import sys

NAMES = ["a", "b", "c", "d", "e"]


def rand_path(rng):
    depth = rng.choice((1, 1, 2, 2, 3))
    return "/".join(rng.choice(NAMES) for _ in range(depth))


def run(op, fn, *args):
    try:
        fn(*args)
        res = "OK"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    return "%s %s %s" % (op, " ".join(args), res)


def create(p):
    os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))


def fsync_dir(p):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tree(top):
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            kind = "d" if os.path.isdir(p) else "f"
            out.append("%s %s nlink=%d" % (kind, os.path.relpath(p, top),
                                           st.st_nlink))
    return out


def main():
    top, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    os.chdir(top)
    for i in range(count):
        k = rng.random()
        if k < 0.25:
            line = run("create", create, rand_path(rng))
        elif k < 0.45:
            line = run("unlink", os.unlink, rand_path(rng))
        elif k < 0.60:
            line = run("mkdir", os.mkdir, rand_path(rng))
        elif k < 0.75:
            line = run("rmdir", os.rmdir, rand_path(rng))
        elif k < 0.92:
            line = run("rename", os.rename, rand_path(rng), rand_path(rng))
        elif k < 0.99:
            line = run("link", os.link, rand_path(rng), rand_path(rng))
        else:
            line = run("fsync", fsync_dir, ".")
        print(i, line)
    print("tree:")
    for line in tree("."):
        print(line)


if __name__ == "__main__":
    main()
