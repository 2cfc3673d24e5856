#!/usr/bin/env python3
"""Each app is the only one that writes its models: find code that writes another app's.

Reads the source (it imports nothing of the project) and reports, for every module of an app
under src/tierline/<app>/, each place that writes a model imported from another app's `models`:

    Team.objects.create(...)          Team.objects.filter(...).update(...)
    Team.objects.get_or_create(...)   Team(name="x")                    (building a row to save)

Another app's rows are changed through its `services`, as docs/architecture.md says. Reading
(filter, get, exists, values, count) is not reported, and neither is `row.save()` on an
instance whose type the text does not show: queries belong in the owner's `queries`
module, which the import layers already keep in order.

    python scripts/check_model_writes.py [SRC_PACKAGE_DIR]    (default: src/tierline)

Exits 1 and prints one line per write when any is found, else prints a summary and exits 0.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# Manager and queryset methods that write rows.
WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "update",
        "bulk_update",
        "delete",
        "get_or_create",
        "update_or_create",
        "add",
        "remove",
        "set",
        "clear",
    }
)
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})

# Packages that are not apps owning models, and why they may write anyone's rows.
EXEMPT = {
    "migrations": "a migration works on the historical models of its own app",
    "demo": "the demo loader bulk-loads a whole help desk (a fixture, not an app)",
}


@dataclass(frozen=True)
class Write:
    path: Path
    line: int
    model: str
    owner: str
    what: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: writes {self.owner}.{self.model} ({self.what}); "
            f"call {self.owner}.services instead"
        )


def _app_of(module: str) -> str | None:
    """'tierline.people.models' -> 'people'."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "tierline" and parts[2] == "models":
        return parts[1]
    return None


def model_classes(package_dir: Path) -> dict[str, set[str]]:
    """app -> the names of the model classes its models.py defines (top level, a base whose
    name ends in Model or User: models.Model, AbstractUser)."""
    found: dict[str, set[str]] = {}
    for models_py in package_dir.glob("*/models.py"):
        tree = ast.parse(models_py.read_text(encoding="utf-8"))
        names = set()
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                if any(b.endswith(("Model", "User")) for b in bases):
                    names.add(node.name)
        found[models_py.parent.name] = names
    return found


def _foreign_models(tree: ast.AST, app: str, models: dict[str, set[str]]) -> dict[str, str]:
    """Names in this module bound to another app's model (or models module): name -> owner."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            owner = _app_of(node.module)
            if owner and owner != app:
                for alias in node.names:
                    if alias.name in models.get(owner, ()):
                        names[alias.asname or alias.name] = owner
            parts = node.module.split(".")
            if parts[0] == "tierline" and len(parts) == 2 and parts[1] != app:
                for alias in node.names:
                    if alias.name == "models":
                        names[alias.asname or "models"] = f"{parts[1]}:module"
    return names


def _root_model(node: ast.AST, foreign: dict[str, str]) -> tuple[str, str] | None:
    """For a chain like Team.objects.filter(...).update, the foreign model at its root."""
    seen_manager = False
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr in MANAGERS or node.attr == "through":
                seen_manager = True
            value = node.value
            # people_models.Team.objects...
            if isinstance(value, ast.Name) and foreign.get(value.id, "").endswith(":module"):
                return (node.attr, foreign[value.id].split(":")[0]) if seen_manager else None
            node = value
        elif isinstance(node, ast.Name):
            owner = foreign.get(node.id)
            if owner and not owner.endswith(":module") and seen_manager:
                return node.id, owner
            return None
        else:
            return None


def writes_in(path: Path, app: str, models: dict[str, set[str]]) -> list[Write]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    foreign = _foreign_models(tree, app, models)
    if not foreign:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # Team(...): building another app's row.
        if isinstance(func, ast.Name) and func.id in foreign:
            owner = foreign[func.id]
            if not owner.endswith(":module"):
                found.append(Write(path, node.lineno, func.id, owner, "a new row"))
            continue
        if isinstance(func, ast.Attribute) and func.attr in WRITES:
            root = _root_model(func.value, foreign)
            if root is not None:
                found.append(Write(path, node.lineno, root[0], root[1], f".{func.attr}()"))
    return found


def _apps(package_dir: Path) -> list[Path]:
    return sorted(p for p in package_dir.iterdir() if (p / "__init__.py").is_file())


def check(package_dir: Path) -> list[Write]:
    found: list[Write] = []
    models = model_classes(package_dir)
    for app_dir in _apps(package_dir):
        app = app_dir.name
        if app in EXEMPT or app.startswith(("_", ".")):
            continue
        for path in sorted(app_dir.rglob("*.py")):
            if any(part in EXEMPT for part in path.relative_to(app_dir).parts):
                continue
            found.extend(writes_in(path, app, models))
    return found


def main(argv: list[str]) -> int:
    package_dir = Path(argv[1] if len(argv) > 1 else "src/tierline")
    if not package_dir.is_dir():
        print(f"check_model_writes: {package_dir} is not a directory", file=sys.stderr)
        return 2
    found = check(package_dir)
    for write in found:
        print(write)
    if found:
        print(f"check_model_writes: {len(found)} write(s) to another app's models")
        return 1
    apps = [p.name for p in _apps(package_dir) if p.name not in EXEMPT]
    print(f"check_model_writes: no app writes another app's models ({', '.join(apps)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
