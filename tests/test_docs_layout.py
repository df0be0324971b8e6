"""docs/architecture.md and docs/search.md name files and settings that exist.

A newcomer follows these docs to the code, so a path they name must be there, and the search
tuning table must list exactly the fields of `Tuning`, with their defaults: moving a module
or a threshold without its doc fails here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dashboard.services.search.tuning import Tuning

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SEARCH_PACKAGE = ROOT / "dashboard" / "services" / "search"

# `dashboard/views/search.py`, `templates/dashboard/`: a path from the repository's root.
REPO_PATH = re.compile(r"`((?:dashboard|templates|static|migrations|tests|bench|docs)/[^`\s]*)`")
TUNING_ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \|", re.M)


def _section(text: str, heading: str) -> str:
    """The text under a `## heading`, up to the next one."""
    _, sep, rest = text.partition(f"\n## {heading}\n")
    assert sep, f"no '## {heading}' heading"
    return rest.split("\n## ", 1)[0]


def _named_paths(doc: Path) -> list[str]:
    # Placeholders (`templates/dashboard/<page>.html`) name a pattern, not a file.
    return [p for p in REPO_PATH.findall(doc.read_text()) if not re.search(r"[<*{…]", p)]


@pytest.mark.parametrize("name", ["architecture.md", "search.md"])
def test_every_path_named_exists(name: str) -> None:
    """Each `dashboard/…`, `templates/…` (and so on) path in the doc is in the repository."""
    paths = _named_paths(DOCS / name)
    assert paths, f"docs/{name} names no path: the test would check nothing"
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"docs/{name} names paths that do not exist: {missing}"


def test_search_doc_lists_every_module_of_the_package() -> None:
    """The layout table names every module of dashboard/services/search/, and only those."""
    section = _section((DOCS / "search.md").read_text(), "Where the code lives")
    named = set(re.findall(r"`([a-z_/]+\.py)`", section))
    actual = {str(p.relative_to(SEARCH_PACKAGE)) for p in SEARCH_PACKAGE.rglob("*.py")}
    actual.discard("backends/__init__.py")  # the registry's import list, described with base.py
    assert named == actual


def _doc_value(text: str) -> object:
    text = text.strip().replace(",", "")
    if text in ("on", "off"):
        return text == "on"
    return float(text) if "." in text else int(text)


def test_search_doc_tuning_table_matches_the_dataclass() -> None:
    """Every Tuning field is in the table with its default, and the table has no other rows."""
    section = _section((DOCS / "search.md").read_text(), "Tuning")
    documented = {name: _doc_value(value) for name, value in TUNING_ROW.findall(section)}
    defaults = {f.name: f.default for f in dataclasses.fields(Tuning)}
    assert documented == defaults
