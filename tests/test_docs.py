"""The README, the docs and pyproject.toml point only to files that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tierline"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# docs/style.md describes other projects' layouts (netbox/dcim/ and so on), not this one's.
ABOUT_THIS_REPO = [doc for doc in DOCUMENTS if doc.name != "style.md"]

MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
# A file named in backticks: `scripts/test.sh`, `core/text.py`, `tests/test_cli.py`.
FILE_IN_BACKTICKS = re.compile(r"`([\w.-]+(?:/[\w.-]+)*\.(?:py|md|sh|js|css|toml|html))`")


def where(name: str) -> list[Path]:
    """Where a path the docs name may live: the repository, the package, or an app of it
    (the docs say `core/text.py` for src/tierline/core/text.py)."""
    return [ROOT / name, PACKAGE / name, *(app / name for app in PACKAGE.iterdir() if app.is_dir())]


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.name)
def test_every_relative_link_of_a_document_exists(doc):
    links = [
        link.split("#")[0]
        for link in MARKDOWN_LINK.findall(doc.read_text())
        if not re.match(r"^[a-z]+:", link) and not link.startswith("#")
    ]
    missing = [link for link in links if not (doc.parent / link).exists()]
    assert not missing, f"{doc.name} links to files that don't exist: {missing}"


@pytest.mark.parametrize("doc", ABOUT_THIS_REPO, ids=lambda d: d.name)
def test_every_file_a_document_names_exists(doc):
    names = FILE_IN_BACKTICKS.findall(doc.read_text())
    missing = [name for name in names if not any(path.exists() for path in where(name))]
    assert not missing, f"{doc.name} names files that don't exist: {missing}"


def test_pyproject_points_to_files_that_exist():
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    named = [project["readme"], *re.findall(r"\b[\w/-]+\.md\b", text)]
    missing = [name for name in named if not (ROOT / name).exists()]
    assert not missing, f"pyproject.toml points to files that don't exist: {missing}"


def test_the_layout_in_the_architecture_names_only_what_exists_or_is_marked_to_come():
    text = (ROOT / "docs" / "architecture.md").read_text()
    layout = text.split("## Layout", 1)[1].split("```")[1]
    missing, to_come = [], False
    for line in layout.splitlines():
        to_come = to_come or line.strip().startswith("(to come")
        if "(to come)" in line or (to_come and line.startswith("  ")):
            continue
        app = re.match(r"^  ([\w]+)/\s", line)
        top = re.match(r"^([\w.-]+/)\s", line)
        if app and not (PACKAGE / app[1]).is_dir():
            missing.append(f"src/tierline/{app[1]}/")
        if top and not (ROOT / top[1]).is_dir():
            missing.append(top[1])
    assert not missing, f"docs/architecture.md's layout names what doesn't exist: {missing}"
