"""The built wheel installs one import name, rwachain, and works from it alone.

The wheel is built from this repository (setup.py maps the five layer folders to
rwachain.<layer>) and installed into a fresh virtual environment. The project's
dependencies are borrowed from the test's own environment through a path entry, so the
fresh environment's site-packages holds exactly what the wheel added."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import sysconfig
import venv
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = ("state", "modules", "genesis", "node", "rpc")

pytestmark = pytest.mark.slow


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert p.returncode == 0, (cmd, p.stdout[-2000:], p.stderr[-4000:])
    return p


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree keeps the build's by-products (build/, *.egg-info) out of the
    # repository; git ls-files (tracked, and new files not ignored) is what a clone would hold.
    src = out / "src"
    files = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((ROOT / name).read_bytes())
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "-w", out, src])
    [whl] = out.glob("rwachain-*.whl")
    return whl


def _site_packages(env: pathlib.Path) -> pathlib.Path:
    [site] = (env / "lib").glob("python3*/site-packages")
    return site


def test_the_wheel_holds_only_rwachain_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"rwachain"}, sorted(tops)
    for layer in LAYERS:
        assert f"rwachain/{layer}/__init__.py" in names, layer
    assert "rwachain/genesis/devnet.json" in names  # the embedded genesis travels with it
    assert any(n.startswith("rwachain/genesis/scenarios/") for n in names)
    assert any(n.startswith("rwachain/state/_tree_native") for n in names)  # the native part
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_installed_in_a_fresh_environment_it_adds_one_name_and_runs(wheel, tmp_path):
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    site = _site_packages(env)
    before = set(os.listdir(site))
    py = env / "bin" / "python"
    _run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel])
    added = set(os.listdir(site)) - before
    assert {a for a in added if not a.endswith(".dist-info")} == {"rwachain"}, sorted(added)
    # The dependencies (plyvel, trio, ...) come from this test's environment; the path entry
    # adds the directory only, so its editable install of rwachain is not seen.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    neutral = tmp_path / "elsewhere"
    neutral.mkdir()
    (neutral / "state.py").write_text("raise SystemExit('a user file named state.py was imported')\n")
    probe = ("import importlib.util, rwachain, rwachain.rpc.client.clients, rwachain.state.tree as t\n"
             "from rwachain.genesis import devnet\n"
             "assert t.__file__.startswith(sys.argv[1]), t.__file__\n"
             "assert importlib.util.find_spec('rwachain.state._tree_native') is not None\n"
             "assert all(importlib.util.find_spec(n) is None for n in ('modules','node','rpc','genesis'))\n"
             "print(rwachain.__version__, len(devnet.dev_keys()))\n")
    out = _run([py, "-c", "import sys\n" + probe, site], cwd=neutral).stdout.split()
    assert out == ["0.1.0", "10"], out
    home = tmp_path / "home"
    _run([env / "bin" / "rwad", "init", "--home", home], cwd=neutral)
    assert (home / "genesis.json").is_file()
