"""The in-tree build backend makes an installable wheel offline."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_build"))

import modalfs_build  # noqa: E402


def test_wheel_contents(tmp_path: Path) -> None:
    assert modalfs_build.get_requires_for_build_wheel() == []
    name = modalfs_build.build_wheel(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as z:
        names = set(z.namelist())
        record = z.read("modalfs-0.1.0.dist-info/RECORD").decode()
    for mod in ("__init__", "client", "wire", "app", "network_file_system",
                "exceptions", "_remote", "stats", "session", "_paths"):
        assert f"modalfs/{mod}.py" in names
        assert f"modalfs/{mod}.py,sha256=" in record
    assert "modalfs/py.typed" in names
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)


def test_pip_install(tmp_path: Path) -> None:
    """``pip install ./python`` with no index: nothing to download.
    (Slow under TCG, so the VM test deselects it and unpacks the wheel.)"""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index",
                    "--no-cache-dir", "--target", str(site), str(ROOT)],
                   check=True, env=dict(os.environ, PIP_NO_INPUT="1"))
    out = subprocess.run(
        [sys.executable, "-c", "import modalfs; print(modalfs.__file__)"],
        env=dict(os.environ, PYTHONPATH=str(site)), cwd=str(tmp_path),
        check=True, capture_output=True, text=True).stdout
    assert out.startswith(str(site))
