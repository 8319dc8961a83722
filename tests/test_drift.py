"""No drift into dead code: every field of the package's records is read somewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _record_fields(tree: ast.Module):
    """(class, field) for every annotated field of a dataclass."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
                "dataclass" in ast.unparse(decorator) for decorator in node.decorator_list):
            yield from ((node.name, statement.target.id) for statement in node.body
                        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name))


def test_every_record_field_is_read():
    """A field nothing reads (as `.field`, by the package or a test) is dead weight in every record."""
    package = {path: path.read_text(encoding="utf-8") for path in (ROOT / "symbackprop").rglob("*.py")}
    readers = "\n".join([*package.values(), *(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("*.py"))])
    unread = [f"{name}.{field}" for text in package.values() for name, field in _record_fields(ast.parse(text))
              if not re.search(rf"\.{field}\b", readers)]
    assert unread == []
