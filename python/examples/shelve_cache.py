"""The shared shelve cache of Modal's NetworkFileSystem example, on modalfs.

Every call of expensive_computation() runs in its own process with the
volume mounted privately at /root/cache; they share results through a
shelve file guarded by flufl.lock, which relies on exact hard-link counts.
"""
import os
import sys
import time

import modalfs

stub = modalfs.App("shelve-cache")
volume = modalfs.NetworkFileSystem.persisted(
    os.environ.get("SHELVE_VOLUME", "job-storage-vol"))
CACHE_DIR = "/root/cache"
COMPUTE_SECONDS = float(os.environ.get("COMPUTE_SECONDS", "1"))


@stub.function(network_file_systems={CACHE_DIR: volume})
def expensive_computation(key: str) -> str:
    import shelve

    from flufl.lock import Lock

    with Lock(os.path.join(CACHE_DIR, "shelve.lock")):
        with shelve.open(os.path.join(CACHE_DIR, "shelve")) as cache:
            if key in cache:
                print(f"cache hit for {key}")
                return cache[key]
            time.sleep(COMPUTE_SECONDS)  # the "expensive" part
            value = f"{key.upper()}-{sum(map(ord, key))}"
            cache[key] = value
            # Counts computations, so a test can check each key ran once.
            with open(os.path.join(CACHE_DIR, "computed.log"), "a") as log:
                log.write(key + "\n")
            print(f"cache miss for {key}, computed {value}")
            return value


def main(keys: list) -> list:
    with stub.run():
        return list(expensive_computation.map(keys))


if __name__ == "__main__":
    print(main(sys.argv[1:] or ["modalfs", "nfs", "modalfs"]))
