#!/usr/bin/python3
"""Product brief scenario 6, datasette: one SQLite writer, many readers.

  datasette.py write DB MODE NTXN LOG DONE [--no-checkpoint]   MODE: delete (rollback journal) or wal
  datasette.py read  DB DONE TIMEOUT         query until DONE exists, then once more
  datasette.py check DB LOG [NTXN] [DB LOG NTXN...]   integrity_check + every logged commit present

The writer commits NTXN transactions. Transaction k inserts 1 + k % 5 rows
into t, each with the next value of a running counter c, val = f(c) and
chk = crc32 of both, and updates the one-row table summary (rows, total)
in the same transaction. After each COMMIT returns it appends "k c" to LOG
(outside the volume) and fsyncs it, so check knows what must be there.

Every snapshot a reader sees must satisfy: count(t) == max(c) ==
summary.rows, sum(val) == summary.total == sum of f(1..max c), no counter
missing, and the newest rows' chk right. A failed invariant means a reader
saw a transaction half applied, i.e. locking or shared memory (WAL -shm)
does not work across processes and mounts.

--no-checkpoint (write, WAL) exits without closing the database and with
automatic checkpoints off, so its commits are only in the -wal file.

--unsafe (write) skips the summary update in every 7th transaction; it
exists only to prove on tmpfs that the readers' checks can fail.
"""
import os
import sqlite3
import sys
import time
import zlib


def f(c):
    return (c * 2654435761) % 1000003


def total(n):
    return sum(f(c) for c in range(1, n + 1))


def chk(c, v):
    return "%08x" % zlib.crc32(b"%d:%d" % (c, v))


def connect(db, timeout=60.0):
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    return sqlite3.connect(db, timeout=timeout, isolation_level=None)


def write(db, mode, ntxn, log, done, unsafe=False, crash=False):
    con = connect(db)
    got = con.execute("PRAGMA journal_mode=%s" % mode).fetchone()[0]
    if got != mode:
        print("ERROR journal_mode is %s, want %s" % (got, mode), flush=True)
        return 1
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS t (c INTEGER PRIMARY KEY, txn INTEGER NOT NULL,"
                " val INTEGER NOT NULL, chk TEXT NOT NULL, pad BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS summary (id INTEGER PRIMARY KEY, rows INTEGER,"
                " total INTEGER, txn INTEGER)")
    con.execute("INSERT OR IGNORE INTO summary VALUES (1, 0, 0, 0)")
    if crash:
        con.execute("PRAGMA wal_autocheckpoint=0")
    # Resume after what an earlier writer committed.
    c, k0 = con.execute("SELECT coalesce(max(c), 0), coalesce(max(txn), 0) FROM t").fetchone()
    t0 = time.monotonic()
    with open(log, "a") as lf:
        for k in range(k0 + 1, k0 + ntxn + 1):
            con.execute("BEGIN IMMEDIATE")
            add = 0
            for _ in range(1 + k % 5):
                c += 1
                v = f(c)
                add += v
                # A few hundred bytes a row, so the database grows across
                # many pages and the journal/WAL has real work to do.
                con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                            (c, k, v, chk(c, v), bytes([c % 251]) * (200 + c % 300)))
            if not (unsafe and k % 7 == 0):
                con.execute("UPDATE summary SET rows = ?, total = total + ?, txn = ? WHERE id = 1",
                            (c, add, k))
            con.execute("COMMIT")
            lf.write("%d %d\n" % (k, c))
            lf.flush()
            os.fsync(lf.fileno())
    if crash:
        # Exit without closing: the committed transactions stay in the
        # -wal file, and the next opener must recover them from it.
        open(done, "w").close()
        print("writer: %d transactions left in the WAL" % ntxn, flush=True)
        os._exit(0)
    con.close()
    print("writer: %d transactions, %d rows, %.1f s" % (ntxn, c, time.monotonic() - t0), flush=True)
    open(done, "w").close()
    return 0


def snapshot(con):
    """One consistent read transaction; returns a list of broken invariants."""
    bad = []
    con.execute("BEGIN")
    try:
        n, mx, s = con.execute("SELECT count(*), coalesce(max(c), 0), coalesce(sum(val), 0)"
                               " FROM t").fetchone()
        row = con.execute("SELECT rows, total, txn FROM summary WHERE id = 1").fetchone()
        last = con.execute("SELECT c, val, chk FROM t ORDER BY c DESC LIMIT 5").fetchall()
    finally:
        con.execute("COMMIT")
    if row is None:
        return [], 0
    rows, tot, txn = row
    if n != mx:
        bad.append("count %d != max(c) %d" % (n, mx))
    if rows != n:
        bad.append("summary.rows %d != count %d (txn %d)" % (rows, n, txn))
    if tot != s:
        bad.append("summary.total %d != sum(val) %d" % (tot, s))
    if s != total(mx):
        bad.append("sum(val) %d != f-sum to %d" % (s, mx))
    for c, v, h in last:
        if v != f(c) or h != chk(c, v):
            bad.append("row %d: val %d chk %s" % (c, v, h))
    return bad, txn


def read(db, done, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(db):
        if time.monotonic() > deadline:
            print("ERROR no database", flush=True)
            return 1
        time.sleep(0.05)
    con = connect(db)
    snaps = errors = 0
    seen = set()
    final = False
    while True:
        if os.path.exists(done):
            final = True
        try:
            bad, txn = snapshot(con)
        except sqlite3.OperationalError as e:
            # "database is locked" beyond the busy timeout, or the schema
            # not created yet: both only delay; anything else is an error.
            if "locked" in str(e) or "no such table" in str(e):
                time.sleep(0.02)
                if time.monotonic() > deadline:
                    print("ERROR timeout", flush=True)
                    return 1
                continue
            raise
        snaps += 1
        seen.add(txn)
        for b in bad:
            errors += 1
            if errors <= 20:
                print("BROKEN snapshot at txn %d: %s" % (txn, b), flush=True)
        if final or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    con.close()
    print("reader: %d snapshots, %d distinct transactions seen, last %d, %d broken invariants%s"
          % (snaps, len(seen), max(seen), errors, "" if final else ", TIMEOUT"), flush=True)
    return 0 if final and not errors else 1


def check(db, log, ntxn=None):
    con = connect(db)
    bad = []
    ic = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
    if ic != ["ok"]:
        bad.append("integrity_check: %s" % ic[:5])
    logged = [tuple(map(int, line.split())) for line in open(log)]
    if ntxn is not None and len(logged) != ntxn:
        bad.append("log has %d commits, want %d" % (len(logged), ntxn))
    lk, lc = logged[-1] if logged else (0, 0)
    n, mx, s, ntx = con.execute("SELECT count(*), max(c), sum(val), count(DISTINCT txn) FROM t").fetchone()
    if (n, mx, ntx) != (lc, lc, lk):
        bad.append("t has %d rows, max c %s, %d txns; log says %d rows, %d txns" % (n, mx, ntx, lc, lk))
    if s != total(lc):
        bad.append("sum(val) %s, want %d" % (s, total(lc)))
    per = dict(con.execute("SELECT txn, max(c) FROM t GROUP BY txn").fetchall())
    missing = [k for k, c in logged if per.get(k) != c]
    if missing:
        bad.append("%d logged commits missing or different, first %d" % (len(missing), missing[0]))
    wrong = con.execute("SELECT count(*) FROM t WHERE length(pad) != 200 + c % 300").fetchone()[0]
    if wrong:
        bad.append("%d rows with a wrong pad" % wrong)
    rows = con.execute("SELECT rows, total, txn FROM summary").fetchone()
    if rows != (lc, total(lc), lk):
        bad.append("summary %s, want %s" % (rows, (lc, total(lc), lk)))
    mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    for b in bad:
        print("BAD " + b)
    print("check: journal_mode %s, %d commits, %d rows: %s" % (mode, lk, lc, "ok" if not bad else "FAILED"))
    return 1 if bad else 0


def main(argv):
    unsafe = "--unsafe" in argv
    crash = "--no-checkpoint" in argv
    argv = [a for a in argv if a not in ("--unsafe", "--no-checkpoint")]
    if len(argv) >= 7 and argv[1] == "write":
        return write(argv[2], argv[3], int(argv[4]), argv[5], argv[6], unsafe, crash)
    if len(argv) >= 5 and argv[1] == "read":
        return read(argv[2], argv[3], float(argv[4]))
    if len(argv) >= 4 and argv[1] == "check":
        # check DB LOG [NTXN] [DB LOG NTXN]...: several in one process,
        # which saves a python start under TCG.
        if len(argv) > 5:
            return max(check(argv[i], argv[i + 1], int(argv[i + 2])) for i in range(2, len(argv) - 2, 3))
        return check(argv[2], argv[3], int(argv[4]) if len(argv) > 4 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
