#!/usr/bin/python3
# SQLite workload of make bench:
#   sqlite.py DIR MODE N
# N single-row transactions (BEGIN; INSERT; COMMIT) into a fresh database
# in DIR with journal_mode=MODE (delete or wal) and synchronous=FULL, so
# every commit is fsynced (the rollback journal or the WAL). Prints
# transactions per second.
import os
import sqlite3
import sys
import time

d, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
path = os.path.join(d, "bench-%s.db" % mode)
db = sqlite3.connect(path, isolation_level=None)
got = db.execute("PRAGMA journal_mode=%s" % mode).fetchone()[0]
if got.lower() != mode.lower():
    sys.exit("sqlite.py: journal_mode=%s gave %s" % (mode, got))
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
row = b"r" * 100
t0 = time.monotonic()
for i in range(n):
    db.execute("BEGIN")
    db.execute("INSERT INTO t (v) VALUES (?)", (row,))
    db.execute("COMMIT")
el = time.monotonic() - t0
if db.execute("SELECT count(*) FROM t").fetchone()[0] != n:
    sys.exit("sqlite.py: rows missing")
db.close()
for suffix in ("", "-wal", "-shm", "-journal"):
    try:
        os.unlink(path + suffix)
    except FileNotFoundError:
        pass
print("%.1f" % (n / el))
