"""The README stays a five-minute read, its links resolve, and the docs site builds with --strict."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = DOCS / "pages"
README_MAX_LINES = 150
#: A relative Markdown link target: ``](path)`` or ``](path#anchor)``, not a URL.
LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)(?:#[^)\s]*)?\)")


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def _config() -> dict:
    # mkdocs.yml has no custom YAML tags, so the plain loader reads it.
    return yaml.safe_load((DOCS / "mkdocs.yml").read_text(encoding="utf-8"))


def test_readme_is_at_most_150_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/pages/"


def test_readme_links_resolve_and_reach_every_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = LINK.findall(text)
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, missing
    linked = {t.removeprefix("docs/pages/") for t in targets if t.startswith("docs/pages/")}
    assert set(_nav_pages(_config()["nav"])) - {"index.md"} <= linked


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    nav = set(_nav_pages(_config()["nav"]))
    on_disk = {p.relative_to(PAGES).as_posix() for p in PAGES.rglob("*.md")}
    assert nav == on_disk


def test_the_site_builds_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.skip('mkdocs is not installed (pip install -e ".[docs]")')
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(DOCS / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    # The API page is rendered from docstrings, not left as ::: directives.
    assert "aligncot_tasks.scoring" in api and ":::" not in api and "question_key" in api
