"""Fan out over 8 keys with .map(): each call in its own process, each
with its own private mount of the volume, results in input order."""
import os

import modalfs

stub = modalfs.App("map-demo")
volume = modalfs.NetworkFileSystem.new()  # ephemeral: gone with the app
DATA = "/data"


@stub.function(network_file_systems={DATA: volume})
def square(key: int) -> tuple:
    with open(os.path.join(DATA, f"key-{key}"), "w") as f:
        f.write(str(key * key))
    return key, key * key, os.getpid()


def main() -> list:
    with stub.run():
        results = list(square.map(range(8)))
        names = sorted(e.path for e in volume.listdir("/"))
        print(names)
    return results


if __name__ == "__main__":
    for r in main():
        print(r)
