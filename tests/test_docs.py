from __future__ import annotations

import re
from pathlib import Path

from botschaft.settings_reference import reference_table

ROOT = Path(__file__).resolve().parent.parent


def test_the_settings_page_lists_every_setting_as_the_code_describes_it() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert reference_table() in page, "regenerate: uv run python -m botschaft.settings_reference"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\(docs/([\w-]+\.md)\)", readme))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages <= linked, f"not linked from README.md: {sorted(pages - linked)}"
