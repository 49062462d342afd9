"""The layer order of docs/architecture.md is enforced by import-linter (`make lint`); these
tests keep its configuration honest: every package of ours has a place in it, exactly one."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_APPS = {"tests", "bench"}  # ours, but nothing imports them


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _our_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_APPS and not path.parent.name.startswith(".")
    }


def _layered() -> list[str]:
    (layers,) = [c for c in _config()["contracts"] if c["type"] == "layers"]
    return [name.strip() for layer in layers["layers"] for name in re.split(r"[|:]", layer)]


def test_every_package_of_ours_is_analysed():
    assert set(_config()["root_packages"]) == _our_packages()


def test_every_package_of_ours_has_exactly_one_layer():
    layered = _layered()
    assert sorted(layered) == sorted(set(layered)), "a package is in two layers"
    assert set(layered) == _our_packages()


def test_foundation_is_the_bottom_layer_and_the_project_the_top():
    layered = _layered()
    assert layered[0] == "coalition" and layered[-1] == "foundation"


def test_the_contracts_hold():
    lint = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout[-3000:]
