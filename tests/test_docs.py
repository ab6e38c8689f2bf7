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


def test_every_image_of_the_docs_exists():
    """Images referenced by any page (the gallery's come from docs/make_gallery.py) are in docs/."""
    gallery = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "docs" / "gallery.md").read_text())
    assert len(gallery) >= 14 and all(rel.startswith("img/") for rel in gallery)
    for page in (ROOT / "docs").rglob("*.md"):
        for rel in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (page.parent / rel).is_file(), f"{page.name}: {rel}"


def test_gallery_images_are_small_and_referenced():
    """Every PNG in docs/img/ is shown by the gallery (no stale files) and stays below 250 KB."""
    shown = set(re.findall(r"\]\(img/([^)]+)\)", (ROOT / "docs" / "gallery.md").read_text()))
    files = {p.name: p.stat().st_size for p in (ROOT / "docs" / "img").glob("*.png")}
    assert set(files) <= shown, set(files) - shown
    assert max(files.values()) < 250_000, {k: v for k, v in files.items() if v >= 250_000}


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocstrings")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "flowsim.run" in api and "ParameterSet" in api
