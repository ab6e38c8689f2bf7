"""The documentation site builds with warnings as errors, and every page is in it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_docs_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w/-]+\.md)\s*$", nav, flags=re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == listed, f"pages not in mkdocs.yml nav: {pages - listed}; missing files: {listed - pages}"


def test_gallery_images_exist():
    text = (ROOT / "docs" / "gallery.md").read_text()
    for rel in re.findall(r"\]\((img/[^)]+)\)", text):
        assert (ROOT / "docs" / rel).is_file(), rel


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocstrings")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "flowsim.run" in api and "ParameterSet" in api
