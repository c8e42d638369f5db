"""The README stays true: its step table is what `winnow steps --markdown` prints (the
examples it promises run in tests/test_examples.py)."""

from __future__ import annotations

import re
from pathlib import Path

from winnow.cli.steps import steps_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_readme_step_table_is_generated():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- steps:start[^>]*-->\n(.*?)<!-- steps:end -->", readme, re.S)
    assert block, "README lost its step table markers"
    assert block.group(1).strip() == steps_markdown().strip(), "run: python scripts/update_readme.py"
