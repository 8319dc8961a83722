"""docs/design.md keeps up with the package: every module is named in its stage."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symbackprop"
STAGES = ("spec", "network", "derivation", "numbers", "checks", "solution", "printers", "surface")


def _modules_section() -> tuple[str, dict[str, str]]:
    """The design's section on every module, and its table's rows by stage."""
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = design.split("## Every module, by stage", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\w+) \| (.*) \|$", section, re.MULTILINE))
    return section, rows


def test_every_module_is_named_in_its_stage():
    section, rows = _modules_section()
    missing = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        stage = path.parent.name
        where = rows[stage] if stage in STAGES else rows["surface"] + section
        if f"`{path.name}`" not in where and f"`{path.relative_to(PACKAGE).as_posix()}`" not in where:
            missing.append(path.relative_to(PACKAGE).as_posix())
    assert set(STAGES) <= set(rows) and missing == []
