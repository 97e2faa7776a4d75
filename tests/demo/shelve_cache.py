#!/usr/bin/python3
"""Shared shelve cache on a modalfs volume, after Modal's NetworkFileSystem
example: every job that mounts the volume at /root/cache shares the
results of expensive_computation(), guarded by a flufl.lock lock file
(which relies on exact hard-link counts).

    shelve_cache.py [KEY...]       (default key: "modalfs")
"""
import os
import shelve
import sys
import time

from flufl.lock import Lock

CACHE_DIR = os.environ.get("CACHE_DIR", "/root/cache")
# How long the "expensive" part takes; tests make it short.
COMPUTE_SECONDS = float(os.environ.get("COMPUTE_SECONDS", "2"))


def expensive_computation(key: str) -> str:
    with Lock(os.path.join(CACHE_DIR, "shelve.lock")):
        with shelve.open(os.path.join(CACHE_DIR, "shelve")) as cache:
            if key in cache:
                value = cache[key]
                print(f"cache hit for {key}: {value}")
                return value
            start = time.monotonic()
            time.sleep(COMPUTE_SECONDS)  # the "expensive" part
            value = f"{key.upper()}-{sum(map(ord, key))}"
            cache[key] = value
            print(f"cache miss for {key}, computed {value} "
                  f"in {time.monotonic() - start:.1f} s and stored it")
            return value


if __name__ == "__main__":
    for k in sys.argv[1:] or ["modalfs"]:
        expensive_computation(k)
