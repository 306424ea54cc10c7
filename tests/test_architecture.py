"""The import direction of the apps (reference/architecture.md): events imports members,
members never imports events (it reaches events through signals)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_members_never_imports_events():
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "members").rglob("*.py")
        for name in imported_modules(path)
        if name == "events" or name.startswith("events.")
    )
    assert offenders == []
