"""Model checkpoints that outlive the job (Modal's /models pattern).

train() runs with the volume mounted at /models and writes a checkpoint
per epoch the way training code does: a temporary file, fsync, rename.
Afterwards the checkpoints are read back without mounting anything.
"""
import hashlib
import os
import sys

import modalfs

stub = modalfs.App("checkpoints")
volume = modalfs.NetworkFileSystem.persisted(
    os.environ.get("CKPT_VOLUME", "model-checkpoints"))
MODEL_DIR = "/models"


@stub.function(network_file_systems={MODEL_DIR: volume})
def train(run: str, epochs: int, size: int) -> dict:
    os.makedirs(os.path.join(MODEL_DIR, run), exist_ok=True)
    digests = {}
    for epoch in range(1, epochs + 1):
        weights = os.urandom(size + epoch)
        final = os.path.join(MODEL_DIR, run, f"epoch-{epoch:03d}.ckpt")
        with open(final + ".tmp", "wb") as f:
            f.write(weights)
            f.flush()
            os.fsync(f.fileno())
        os.replace(final + ".tmp", final)
        digests[f"{run}/epoch-{epoch:03d}.ckpt"] = hashlib.sha256(weights).hexdigest()
    return digests


def main(run: str = "run-1", epochs: int = 3, size: int = 1 << 20) -> dict:
    with stub.run():
        digests = train.remote(run, epochs, size)
    for path, digest in digests.items():
        h = hashlib.sha256()
        for chunk in volume.read_file(path):
            h.update(chunk)
        assert h.hexdigest() == digest, path
        print(f"{path}: ok")
    return digests


if __name__ == "__main__":
    main(*(sys.argv[1:2] or []))
