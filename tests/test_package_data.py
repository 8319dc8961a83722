"""Every data file the package reads at run time ships in the wheel `pip install .` builds: an example, a
published source's spec or facts, the formula grammar. A file the globs miss works in a clone and fails
after a plain install (a published source's JSON spec did)."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symbackprop"


def _package_data() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]["symbackprop"]


DATA = sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*")
              if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts)


def test_the_package_has_data_files():
    assert any(name.startswith("checks/documents/") and name.endswith(".json") for name in DATA)
    assert any(name.startswith("examples/") for name in DATA)


@pytest.mark.parametrize("name", DATA)
def test_every_data_file_is_package_data(name):
    assert any(fnmatch(name, pattern) for pattern in _package_data()), \
        f"symbackprop/{name} is not in pyproject.toml's package-data: a plain install would lack it"
