#!/usr/bin/python3
"""Daemon-kill rounds, driven from one process (starting a python or a
shell command costs seconds under TCG; this does 50 rounds in one).

  killrounds.py --mnt M --logs DIR --daemon PATH --state-dir DIR
                --rounds N --seed S [--check] [--daemon-logs DIR]

The daemon must not be running when this starts; it is stopped (SIGTERM,
must exit 0) when this ends.

Each round: the workload (workload.py, in a thread) runs in M/kR, logging
to DIR/kR.log; after a random 0.1-1.5 s modalfsd is killed with SIGKILL,
`modalfsd --check` runs on the store as the kill left it (--check), a new
modalfsd is started, and the workload is stopped a moment later -- it
finishes whatever the kill interrupted, which the kernel resent to the new
daemon. Then: the workload must have seen no error (exactly once), after
dropping caches every acknowledged op must be there byte-exact, and the
kernel log (/dev/kmsg) must be free of oops/WARN/BUG/lockdep reports.

Output: one line per check, "ok DESC" or "not ok DESC", details indented
with "    | "; the shell wrapper records them with lib.sh.
"""

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402

BAD = re.compile(r"cut here|WARNING:|BUG:|Oops|kernel BUG at|general protection fault|"
                 r"Kernel panic|possible circular locking|possible recursive locking|"
                 r"inconsistent lock state|suspicious RCU usage|INFO: task .* blocked for more than|"
                 r"soft lockup|hard LOCKUP|Call Trace:|UBSAN:|KASAN:|list_(add|del) corruption|"
                 r"refcount_t: ")


def out(s):
    print(s, flush=True)


def detail(s):
    for line in str(s).splitlines():
        out("    | " + line)


class Kmsg:
    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def new_bad(self):
        bad = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError:		# EPIPE: records overwritten; go on
                continue
            if not rec:
                break
            msg = rec.decode(errors="replace").split(";", 1)[-1].split("\n")[0]
            if BAD.search(msg):
                bad.append(msg)
        return bad


class Daemon:
    def __init__(self, path, state, logdir):
        self.path, self.state, self.logdir = path, state, logdir
        self.proc = None
        self.n = 0

    def start(self):
        self.n += 1
        logf = os.path.join(self.logdir, "modalfsd.%d.log" % self.n)
        with open(logf, "w") as err:
            self.proc = subprocess.Popen([self.path, "--state-dir", self.state],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err)
        t = time.monotonic() + 30
        while time.monotonic() < t:
            with open(logf) as f:
                if "registered with the kernel" in f.read():
                    return True, ""
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        with open(logf) as f:
            log = f.read()
        rc = self.proc.poll()
        if rc is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        return False, "modalfsd (status %s) did not register:\n%s" % (rc, log)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnt", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--daemon-logs")
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--seed", default="0")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.logs, exist_ok=True)
    d = Daemon(a.daemon, a.state_dir, a.daemon_logs or a.logs)
    kmsg = Kmsg()
    ok, why = d.start()
    if not ok:
        out("not ok modalfsd starts")
        detail(why)
        return 1
    full = 0
    t0 = time.monotonic()
    for r in range(1, a.rounds + 1):
        good = True
        stop = threading.Event()
        res = {}
        log = workload.TextLog(os.path.join(a.logs, "k%d.log" % r))

        def work(r=r, log=log, res=res, stop=stop):
            res["n"], res["err"] = workload.run_workload(
                os.path.join(a.mnt, "k%d" % r), log, "%s-%d" % (a.seed, r),
                lambda n: stop.is_set())
        th = threading.Thread(target=work, daemon=True)
        th.start()
        time.sleep(rng.uniform(0.1, 1.5))
        d.kill()
        if a.check:
            c = subprocess.run([a.daemon, "--check", "--state-dir", a.state_dir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if c.returncode == 0:
                out("ok round %d: modalfsd --check passes on the killed daemon's store" % r)
            else:
                out("not ok round %d: modalfsd --check passes on the killed daemon's store "
                    "(status %d)" % (r, c.returncode))
                detail("\n".join(c.stdout.splitlines()[:20]))
                good = False
        time.sleep(rng.uniform(0, 0.3))
        ok, why = d.start()
        if not ok:
            out("not ok round %d: modalfsd restarts after kill -9" % r)
            detail(why)
            return 1
        time.sleep(rng.uniform(0, 0.3))
        stop.set()
        th.join(60)
        if th.is_alive():
            out("not ok round %d: the workload finishes within 60 s of the restart" % r)
            return 1
        if res["err"] is None:
            out("ok round %d: every op completed without an error (%d ops)" % (r, res["n"]))
        else:
            op, e = res["err"]
            out("not ok round %d: every op completed without an error (resent op not "
                "applied exactly once?)" % r)
            detail("%s failed: %s" % (op, e))
            good = False
        try:
            workload.drop_caches()
        except OSError as e:
            detail("cannot drop caches: %s" % e)
        n, nacked, bad = workload.verify_logs(a.mnt, [log_path(a, r)], False)
        if not bad:
            out("ok round %d: %d acknowledged ops present and byte-exact" % (r, nacked))
        else:
            out("not ok round %d: acknowledged ops present and byte-exact" % r)
            detail("\n".join(bad[:15]))
            good = False
        kb = kmsg.new_bad()
        if not kb:
            out("ok round %d: kernel log clean" % r)
        else:
            out("not ok round %d: kernel log clean" % r)
            detail("\n".join(kb[:10]))
            good = False
        full += good
    detail("%d of %d rounds fully passed in %.0f s" % (full, a.rounds, time.monotonic() - t0))
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        rc = d.proc.wait()
    out("%s the last modalfsd exits 0 on SIGTERM" % ("ok" if rc == 0 else "not ok"))
    return 0


def log_path(a, r):
    return os.path.join(a.logs, "k%d.log" % r)


if __name__ == "__main__":
    sys.exit(main())
