#!/usr/bin/python3
"""fsync-heavy workload and its verifier, for the daemon-kill and power-cut tests.

  workload.py run    --dir D --log L [--sector-log] --seed S [--stop F]
                     [--max-ops N] [--max-secs S] [--marker TEXT] [--verify]
  workload.py verify --dir D --log L [--log L2 ...] [--sector-log]
  workload.py count  --log L [--sector-log]

`run` creates D (mkdir + fsync of its parent), then does random creates,
writes, truncates, renames (some replacing a file, some across
directories) and unlinks in D and its subdirectories a/ and b/. Every
operation is logged twice, outside the volume: a "begin" record before it
starts (with everything needed to replay it) and an "ack" record only
after the fsync that makes it durable returned -- fsync of the file for
data (write, truncate, a create's contents), fsync of the directory for
names (create, rename, unlink; both directories for a cross-directory
rename). Any error from the file system ends the run with status 3: after
a daemon restart the kernel resends what was in flight, and a create,
rename or unlink applied twice would fail with EEXIST or ENOENT, so an
error here is what disproves exactly-once.

The log is either a text file (one JSON object a line, fsync'd after each
line) or, with --sector-log, a raw device or file written with O_SYNC in
512-byte records (one JSON object each, NUL-padded, record i at offset
512*i): this survives a power cut of the VM when it is a second virtio
disk, as a completed O_SYNC write is in the host's file.

`verify` replays the acknowledged operations of one or more logs into a
model and compares it with the tree under D (which must hold the logs' round
directories): every acknowledged operation must be there, byte-exact, and
nothing else. An operation that was begun but not acknowledged (the power
was cut, or the run failed) may or may not have happened: a rename or
unlink either did or did not, a create's file may be absent or hold
anything, and a write may have reached any of its bytes. Exit status 0 iff
the tree matches; mismatches are printed.
"""

import argparse
import errno
import json
import os
import random
import sys
import time

REC = 512
SUBDIRS = ("a", "b")
MAX_FILES = 24


def data_for(seed, seq, n):
    return random.Random("%s:%d" % (seed, seq)).randbytes(n)


# --- log ---------------------------------------------------------------

class TextLog:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def put(self, obj):
        os.write(self.fd, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
        os.fsync(self.fd)


class SectorLog:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_SYNC)
        self.i = 0
        # Appends after whatever is there (normally nothing: a fresh disk).
        while True:
            b = os.pread(self.fd, REC, self.i * REC)
            if len(b) < REC or b[0] == 0:
                break
            self.i += 1

    def put(self, obj):
        b = json.dumps(obj, separators=(",", ":")).encode()
        if len(b) >= REC:
            raise ValueError("log record too long")
        os.pwrite(self.fd, b.ljust(REC, b"\0"), self.i * REC)
        self.i += 1


def read_log(path, sector):
    recs = []
    if sector:
        with open(path, "rb") as f:
            while True:
                b = f.read(REC)
                if len(b) < REC or b[0] == 0:
                    break
                recs.append(json.loads(b.rstrip(b"\0")))
    else:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    recs.append(json.loads(line))
    return recs


# --- model ---------------------------------------------------------------

class Model:
    """Files as path -> bytearray, directories as a set; paths relative."""

    def __init__(self):
        self.files = {}
        self.dirs = set()

    def copy(self):
        m = Model()
        m.files = {k: bytearray(v) for k, v in self.files.items()}
        m.dirs = set(self.dirs)
        return m

    def apply(self, op):
        k = op["op"]
        if k == "mkdir":
            self.dirs.add(op["p"])
        elif k == "create":
            self.files[op["p"]] = bytearray(data_for(op["seed"], op["s"], op["len"]))
        elif k == "write":
            f = self.files[op["p"]]
            off, n = op["off"], op["len"]
            if len(f) < off:
                f.extend(bytes(off - len(f)))
            f[off:off + n] = data_for(op["seed"], op["s"], n)
        elif k == "truncate":
            f = self.files[op["p"]]
            if op["len"] < len(f):
                del f[op["len"]:]
            else:
                f.extend(bytes(op["len"] - len(f)))
        elif k == "rename":
            self.files[op["to"]] = self.files.pop(op["p"])
        elif k == "unlink":
            del self.files[op["p"]]
        else:
            raise ValueError("unknown op %r" % k)


def replay(recs):
    """The model of the acknowledged ops, the unacknowledged ones (in begin
    order) and any error records."""
    m = Model()
    begun = {}
    order = []
    errors = []
    for r in recs:
        if "op" in r:
            begun[r["s"]] = r
            order.append(r["s"])
        elif "a" in r:
            op = begun.pop(r["a"])
            m.apply(op)
        elif "err" in r:
            errors.append(r)
    pending = [begun[s] for s in order if s in begun]
    return m, pending, errors


# --- run -----------------------------------------------------------------

def fsync_path(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def do_op(root, op):
    k = op["op"]
    p = os.path.join(root, op["p"])
    if k == "mkdir":
        os.mkdir(p)
        fsync_path(os.path.dirname(p))
    elif k == "create":
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data_for(op["seed"], op["s"], op["len"]))
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_path(os.path.dirname(p))
    elif k == "write":
        fd = os.open(p, os.O_WRONLY)
        try:
            b = data_for(op["seed"], op["s"], op["len"])
            n = os.pwrite(fd, b, op["off"])
            if n != len(b):
                raise OSError(errno.EIO, "short write %d of %d" % (n, len(b)))
            os.fsync(fd)
        finally:
            os.close(fd)
    elif k == "truncate":
        fd = os.open(p, os.O_WRONLY)
        try:
            os.ftruncate(fd, op["len"])
            os.fsync(fd)
        finally:
            os.close(fd)
    elif k == "rename":
        q = os.path.join(root, op["to"])
        os.rename(p, q)
        fsync_path(os.path.dirname(p))
        if os.path.dirname(q) != os.path.dirname(p):
            fsync_path(os.path.dirname(q))
    elif k == "unlink":
        os.unlink(p)
        fsync_path(os.path.dirname(p))


def choose(rng, m, rd, seq, seed):
    files = sorted(m.files)
    x = rng.random()
    base = {"s": seq, "seed": seed}
    if not files or (x < 0.30 and len(files) < MAX_FILES):
        d = rng.choice(("",) + SUBDIRS)
        return dict(base, op="create", p=os.path.join(rd, d, "f%d" % seq),
                    len=rng.choice((0, 1, 100, 4096, 5000, 20000, 65536)))
    p = rng.choice(files)
    size = len(m.files[p])
    if x < 0.60:
        off = rng.randrange(0, size + 8192)
        return dict(base, op="write", p=p, off=off, len=rng.randrange(1, 16384))
    if x < 0.68:
        return dict(base, op="truncate", p=p, len=rng.randrange(0, size + 8192))
    if x < 0.88:
        others = [f for f in files if f != p]
        if others and rng.random() < 0.3:
            to = rng.choice(others)	# replaces an existing file
        else:
            to = os.path.join(rd, rng.choice(("",) + SUBDIRS), "r%d" % seq)
        return dict(base, op="rename", p=p, to=to)
    return dict(base, op="unlink", p=p)


def run_workload(dirpath, log, seed, should_stop, marker=None):
    """Ops in dirpath until should_stop(n_acked) is true. Returns (number
    of acknowledged ops, None) or (n, (op, OSError)) after a failed op."""
    root = os.path.dirname(os.path.abspath(dirpath))
    rd = os.path.basename(os.path.abspath(dirpath))
    rng = random.Random(seed)
    m = Model()
    ops = [dict(s=0, op="mkdir", p=rd)]
    ops += [dict(s=i + 1, op="mkdir", p=os.path.join(rd, d)) for i, d in enumerate(SUBDIRS)]
    seq = len(ops)
    if marker:
        print(marker, flush=True)
    n = 0
    while True:
        if ops:
            op = ops.pop(0)
        else:
            if should_stop(n):
                break
            op = choose(rng, m, rd, seq, seed)
            seq += 1
        log.put(op)
        try:
            do_op(root, op)
        except OSError as e:
            log.put({"err": op["s"], "errno": e.errno, "msg": str(e)})
            return n, (op, e)
        log.put({"a": op["s"]})
        m.apply(op)
        n += 1
    return n, None


def cmd_run(a):
    log = SectorLog(a.log) if a.sector_log else TextLog(a.log)
    t0 = time.monotonic()

    def should_stop(n):
        return ((a.stop and os.path.exists(a.stop)) or (a.max_ops and n >= a.max_ops)
                or (a.max_secs and time.monotonic() - t0 >= a.max_secs))
    n, err = run_workload(a.dir, log, a.seed, should_stop, a.marker)
    if err:
        print("workload: %s failed: %s" % (json.dumps(err[0]), err[1]), flush=True)
        if a.verify:
            verify_after_run(a)
        return 3
    print("workload: %d ops acknowledged" % n, flush=True)
    if a.verify:
        return verify_after_run(a)
    return 0


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def verify_after_run(a):
    """The round's own check, in this process (a python start costs
    seconds under TCG): drop the caches so the data comes from the
    daemon, then verify the log. Exit 4 on mismatches."""
    try:
        drop_caches()
    except OSError as e:
        print("workload: cannot drop caches: %s" % e, file=sys.stderr)
    a.log = [a.log]
    a.dir = os.path.dirname(os.path.abspath(a.dir))
    return 4 if cmd_verify(a) else 0


# --- verify ----------------------------------------------------------------

def scan(root, rds):
    files, dirs, other = {}, set(), []
    for rd in rds:
        top = os.path.join(root, rd)
        if not os.path.lexists(top):
            continue
        dirs.add(rd)
        for dp, dns, fns in os.walk(top):
            for d in dns:
                full = os.path.join(dp, d)
                rel = os.path.relpath(full, root)
                if os.path.islink(full):
                    other.append(rel)
                else:
                    dirs.add(rel)
            for f in fns:
                full = os.path.join(dp, f)
                rel = os.path.relpath(full, root)
                if os.path.islink(full) or not os.path.isfile(full):
                    other.append(rel)
                    continue
                with open(full, "rb") as fh:
                    files[rel] = fh.read()
    return files, dirs, other


def write_may(before, op):
    """Byte-wise check for an unacknowledged write or truncate: return a
    predicate over the file's actual content."""
    after = before.copy()
    after.apply(op)
    b = bytes(before.files[op["p"]])
    af = bytes(after.files[op["p"]])

    def ok(got):
        lo, hi = min(len(b), len(af)), max(len(b), len(af))
        if not lo <= len(got) <= hi:
            return False
        for i in range(0, len(got), 4096):
            g = got[i:i + 4096]
            if g != b[i:i + 4096][:len(g)] and g != af[i:i + 4096][:len(g)]:
                # A mix inside one page: check bytewise.
                for j, c in enumerate(g):
                    k = i + j
                    bc = b[k] if k < len(b) else 0
                    ac = af[k] if k < len(af) else 0
                    if c != bc and c != ac:
                        return False
        return True
    return ok


def compare(m, pending, files, dirs, other):
    """Mismatches between the model (plus leeway for pending ops) and the tree."""
    exp_files = {k: bytes(v) for k, v in m.files.items()}
    exp_dirs = set(m.dirs)
    free_paths = {}	# path -> predicate(content or None) for pending ops
    for op in pending:
        k = op["op"]
        if k == "mkdir":
            free_paths[op["p"]] = "dir"
        elif k == "create":
            free_paths[op["p"]] = lambda got: True
        elif k in ("write", "truncate"):
            if op["p"] in m.files:
                pred = write_may(m, op)
                free_paths[op["p"]] = lambda got, pred=pred: got is not None and pred(got)
        elif k in ("rename", "unlink"):
            src = exp_files.get(op["p"])
            if src is None:
                continue
            if k == "unlink":
                free_paths[op["p"]] = lambda got, src=src: got is None or got == src
            else:
                dst = exp_files.get(op["to"])
                # Either the rename happened or not; both names are checked
                # together below.
                free_paths[op["p"]] = ("rename", op["to"], src, dst)
    bad = []
    for p in other:
        bad.append("%s: not a regular file or directory" % p)
    for d in sorted(exp_dirs - dirs):
        bad.append("%s/: directory missing" % d)
    for d in sorted(dirs - exp_dirs):
        if free_paths.get(d) != "dir":
            bad.append("%s/: unexpected directory" % d)
    done = set()
    for p, v in free_paths.items():
        if isinstance(v, tuple) and v[0] == "rename":
            _, to, src, dst = v
            g_from, g_to = files.get(p), files.get(to)
            if not ((g_from == src and g_to == dst) or (g_from is None and g_to == src)):
                bad.append("%s -> %s: unacknowledged rename left neither the old nor "
                           "the new state (old name %s, new name %s)" %
                           (p, to, desc(g_from), desc(g_to)))
            done.update((p, to))
        elif callable(v):
            if not v(files.get(p)):
                bad.append("%s: unacknowledged op left an impossible state (%s)" %
                           (p, desc(files.get(p))))
            done.add(p)
    for p in sorted(set(exp_files) | set(files)):
        if p in done:
            continue
        e, g = exp_files.get(p), files.get(p)
        if e == g:
            continue
        if g is None:
            bad.append("%s: acknowledged file missing (expected %d bytes)" % (p, len(e)))
        elif e is None:
            bad.append("%s: unexpected file (%d bytes)" % (p, len(g)))
        else:
            i = next((i for i in range(min(len(e), len(g))) if e[i] != g[i]), min(len(e), len(g)))
            bad.append("%s: content differs: %d bytes expected, %d found, first difference at %d"
                       % (p, len(e), len(g), i))
    return bad


def desc(b):
    return "absent" if b is None else "%d bytes" % len(b)


def verify_logs(root, logs, sector):
    """(number of logs, acknowledged ops, list of mismatches)."""
    root = os.path.abspath(root)
    rds, bad = [], []
    nacked = 0
    for lp in logs:
        recs = read_log(lp, sector)
        if not recs:
            continue
        m, pending, errors = replay(recs)
        rd = recs[0]["p"]
        rds.append(rd)
        nacked += sum(1 for r in recs if "a" in r)
        files, dirs, other = scan(root, [rd])
        for b in compare(m, pending, files, dirs, other):
            bad.append("%s: %s" % (os.path.basename(lp), b))
    return len(rds), nacked, bad


def cmd_verify(a):
    nlogs, nacked, bad = verify_logs(a.dir, a.log, a.sector_log)
    for b in bad[:30]:
        print("verify: " + b)
    if len(bad) > 30:
        print("verify: ... %d more" % (len(bad) - 30))
    print("verify: %d logs, %d acknowledged ops, %d mismatches" % (nlogs, nacked, len(bad)))
    return 1 if bad else 0


def cmd_count(a):
    recs = read_log(a.log, a.sector_log)
    print(sum(1 for r in recs if "a" in r))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--sector-log", action="store_true")
    r.add_argument("--seed", default="0")
    r.add_argument("--stop")
    r.add_argument("--max-ops", type=int, default=0)
    r.add_argument("--max-secs", type=float, default=0)
    r.add_argument("--marker")
    r.add_argument("--verify", action="store_true",
                   help="when done, drop caches and verify the log (exit 4 on mismatches)")
    v = sub.add_parser("verify")
    v.add_argument("--dir", required=True, help="the directory holding the round directories")
    v.add_argument("--log", required=True, action="append")
    v.add_argument("--sector-log", action="store_true")
    c = sub.add_parser("count", help="print how many ops a log acknowledges")
    c.add_argument("--log", required=True)
    c.add_argument("--sector-log", action="store_true")
    a = ap.parse_args()
    return {"run": cmd_run, "verify": cmd_verify, "count": cmd_count}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
