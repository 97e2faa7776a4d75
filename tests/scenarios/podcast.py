#!/usr/bin/python3
"""Product brief scenario 5, the podcast pipeline, as a load driver.

  podcast.py produce  DIR ID NFILES SIZE   write NFILES raw "episodes"
  podcast.py transcribe DIR TOTAL TIMEOUT  poll metadata, claim, transcribe
  podcast.py verify   DIR PRODUCERS NFILES SIZE [--crc-only]   check everything

DIR is a directory of the volume (each process may use its own mount of
it). Producers write the audio in 1 MiB chunks of deterministic bytes and
publish metadata as JSON the way pipelines do (write a temporary file,
rename it over the final name), several times per episode ("recording",
progress, then "ready" with the checksum). Transcribers parse every
metadata file they see, over and over: rename is atomic, so any JSON that
does not parse is a torn read and an error. They claim a ready episode
with O_CREAT|O_EXCL, read and checksum it, and publish a transcript (tmp
+ rename). verify regenerates every byte from the seed.

--unsafe-meta (produce) rewrites metadata in place in two writes; it
exists only to prove on tmpfs that the torn-read check can fail.
"""
import hashlib
import json
import os
import random
import sys
import time
import zlib

CHUNK = 1 << 20


def chunk(seed, i):
    # SHAKE-128 as a keyed stream: ten times faster than random.randbytes,
    # which matters under TCG.
    return hashlib.shake_128(b"podcast:%d:%d" % (seed, i)).digest(CHUNK)


def episode_seed(pid, k):
    return 7919 * (pid + 1) + k


def gen(seed, size):
    off = 0
    i = 0
    while off < size:
        b = chunk(seed, i)[: size - off]
        yield b
        off += len(b)
        i += 1


def publish(path, obj, unsafe=False):
    data = json.dumps(obj).encode()
    if unsafe:
        with open(path, "r+b" if os.path.exists(path) else "wb") as f:
            f.truncate(0)
            f.write(data[: len(data) // 2])
            f.flush()
            time.sleep(0.02)
            f.write(data[len(data) // 2:])
        return
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def padding(name, n):
    # Several KiB, so a torn read spans pages and cannot pass as whole.
    r = random.Random(zlib.crc32(name.encode()) * 7 + n)
    return "".join(r.choice("abcdefghij") for _ in range(4096 + r.randrange(8192)))


def produce(d, pid, nfiles, size, unsafe):
    for sub in ("audio", "meta", "claims", "transcripts"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for k in range(nfiles):
        name = "ep-%d-%d" % (pid, k)
        seed = episode_seed(pid, k)
        audio = os.path.join(d, "audio", name + ".raw")
        meta = os.path.join(d, "meta", name + ".json")
        crc = 0
        done = 0
        with open(audio, "wb") as f:
            for i, b in enumerate(gen(seed, size)):
                f.write(b)
                crc = zlib.crc32(b, crc)
                done += len(b)
                if i % 8 == 0 or done == size:
                    f.flush()
                    publish(meta, {"name": name, "state": "recording", "bytes": done,
                                   "pad": padding(name, done)}, unsafe)
        publish(meta, {"name": name, "state": "ready", "bytes": size, "seed": seed,
                       "crc32": crc, "pad": padding(name, -1)}, unsafe)
        print("produced %s %d bytes crc32 %08x" % (name, size, crc), flush=True)
    return 0


def transcribe(d, total, timeout):
    meta_dir = os.path.join(d, "meta")
    deadline = time.monotonic() + timeout
    parses = torn = mine = 0
    errors = 0
    while True:
        try:
            names = sorted(n for n in os.listdir(meta_dir) if n.endswith(".json"))
        except FileNotFoundError:
            names = []
        for n in names:
            path = os.path.join(meta_dir, n)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                continue
            try:
                m = json.loads(raw)
                parses += 1
            except ValueError:
                torn += 1
                print("TORN %s: %d bytes read" % (n, len(raw)), flush=True)
                continue
            ep = m["name"]
            audio = os.path.join(d, "audio", ep + ".raw")
            st = os.stat(audio)
            # The metadata was published after those bytes were written.
            if st.st_size < m["bytes"]:
                errors += 1
                print("ERROR %s: metadata says %d bytes, audio has %d"
                      % (ep, m["bytes"], st.st_size), flush=True)
            if m["state"] != "ready":
                continue
            try:
                fd = os.open(os.path.join(d, "claims", ep), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.write(fd, b"%d\n" % os.getpid())
            os.close(fd)
            crc = 0
            size = 0
            with open(audio, "rb") as f:
                while True:
                    b = f.read(CHUNK)
                    if not b:
                        break
                    crc = zlib.crc32(b, crc)
                    size += len(b)
            ok = size == m["bytes"] and crc == m["crc32"]
            if not ok:
                errors += 1
                print("ERROR %s: read %d bytes crc32 %08x, metadata %d %08x"
                      % (ep, size, crc, m["bytes"], m["crc32"]), flush=True)
            publish(os.path.join(d, "transcripts", ep + ".json"),
                    {"name": ep, "bytes": size, "crc32": crc, "matches_meta": ok,
                     "by": os.getpid(), "text": "words " * (size % 97 + 50)})
            mine += 1
            print("transcribed %s %d bytes crc32 %08x" % (ep, size, crc), flush=True)
        try:
            have = len([n for n in os.listdir(os.path.join(d, "transcripts"))
                        if n.endswith(".json")])
        except FileNotFoundError:
            have = 0
        if have >= total:
            break
        if time.monotonic() > deadline:
            print("ERROR timeout: %d of %d transcripts" % (have, total), flush=True)
            errors += 1
            break
        time.sleep(0.05)
    print("summary parses=%d torn=%d transcribed=%d errors=%d" % (parses, torn, mine, errors),
          flush=True)
    return 1 if torn or errors else 0


def verify(d, producers, nfiles, size, crc_only=False):
    """Byte by byte against the generator; with crc_only, the files'
    CRC-32 against the one the producers computed from the generator."""
    bad = 0
    for pid in range(producers):
        for k in range(nfiles):
            name = "ep-%d-%d" % (pid, k)
            seed = episode_seed(pid, k)
            crc = 0
            n = 0
            with open(os.path.join(d, "audio", name + ".raw"), "rb") as f:
                if crc_only:
                    with open(os.path.join(d, "meta", name + ".json"), "rb") as mf:
                        want_crc = json.load(mf)["crc32"]
                    while True:
                        b = f.read(CHUNK)
                        if not b:
                            break
                        crc = zlib.crc32(b, crc)
                        n += len(b)
                    if (n, crc) != (size, want_crc):
                        print("MISMATCH %s: %d bytes crc32 %08x, want %d %08x"
                              % (name, n, crc, size, want_crc), flush=True)
                        bad += 1
                else:
                    for want in gen(seed, size):
                        got = f.read(len(want))
                        if got != want:
                            i = next((j for j in range(min(len(got), len(want)))
                                      if got[j] != want[j]), min(len(got), len(want)))
                            print("MISMATCH %s at byte %d (read %d of %d)"
                                  % (name, n + i, len(got), len(want)), flush=True)
                            bad += 1
                            break
                        crc = zlib.crc32(want, crc)
                        n += len(want)
                    else:
                        if f.read(1):
                            print("MISMATCH %s: longer than %d" % (name, size))
                            bad += 1
            for kind in ("meta", "transcripts"):
                with open(os.path.join(d, kind, name + ".json"), "rb") as f:
                    m = json.load(f)
                if m["bytes"] != size or m["crc32"] != crc or m.get("matches_meta", True) is not True:
                    print("BAD %s/%s.json: %d bytes crc32 %08x, want %d %08x"
                          % (kind, name, m["bytes"], m["crc32"], size, crc))
                    bad += 1
            if not os.path.exists(os.path.join(d, "claims", name)):
                print("BAD no claim for %s" % name)
                bad += 1
    leftovers = [n for sub in ("meta", "transcripts") for n in os.listdir(os.path.join(d, sub))
                 if ".tmp." in n]
    if leftovers:
        print("BAD temporary files left: %s" % leftovers)
        bad += 1
    total = producers * nfiles
    for sub in ("audio", "meta", "transcripts", "claims"):
        n = len(os.listdir(os.path.join(d, sub)))
        if n != total:
            print("BAD %s holds %d entries, want %d" % (sub, n, total))
            bad += 1
    print("verified %d episodes of %d bytes: %s" % (total, size, "ok" if not bad else "%d problems" % bad))
    return 1 if bad else 0


def main(argv):
    unsafe = "--unsafe-meta" in argv
    argv = [a for a in argv if a != "--unsafe-meta"]
    crc_only = "--crc-only" in argv
    argv = [a for a in argv if a != "--crc-only"]
    cmd = argv[1]
    if cmd == "produce":
        return produce(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), unsafe)
    if cmd == "transcribe":
        return transcribe(argv[2], int(argv[3]), float(argv[4]))
    if cmd == "verify":
        return verify(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), crc_only)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
