"""Shared fixtures: the document's network, derived once per session."""

from __future__ import annotations

import os
from pathlib import Path

import mpmath
import pytest

from symbackprop.checks.document import load_document, reproduce
from symbackprop.derivation import Derivation, derive
from symbackprop.network import build_network
from symbackprop.numbers.evaluate import PRECISION
from symbackprop.numbers.point import pass_values
from symbackprop.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = Path(__file__).resolve().parents[2] / "shared" / "document" / "backpropagation-example.txt"
"""The document's own text: not ours to ship, so it lies beside the repository only where CI puts it."""


@pytest.fixture(scope="session")
def document_text() -> str:
    """The document's text. A user's clone has nothing beside it: the tests that read it are skipped,
    saying which file is missing; under CI (CI=true) a missing document fails them."""
    if not DOCUMENT.is_file():
        message = f"the document's text is not beside the repository: {DOCUMENT} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: CI puts it there)")
        pytest.skip(message)
    return DOCUMENT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def mazur() -> Derivation:
    return derive(build_network(load_spec("mazur")))


@pytest.fixture(scope="session")
def mazur_values(mazur):
    """Every symbol of the document's network by name, at full precision."""
    return {symbol.name: value for symbol, value in pass_values(mazur).items()}


@pytest.fixture(scope="session")
def mazur_rows(mazur):
    """The reproduction of the document (about ten seconds: it trains 10,000 rounds in both orders)."""
    return reproduce(mazur, load_document("mazur"))


@pytest.fixture(autouse=True)
def high_precision():
    """Arithmetic inside tests at the engine's precision, so comparisons are not limited by mpmath's default."""
    with mpmath.workdps(PRECISION):
        yield


@pytest.fixture(scope="session")
def tutorial():
    """docs/tutorial.ipynb, executed top to bottom (once per session)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook
