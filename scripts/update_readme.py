"""Regenerate the README's step table from the registry: python scripts/update_readme.py"""

import re
from pathlib import Path

from winnow.cli.steps import steps_markdown

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
text = re.sub(
    r"(<!-- steps:start[^>]*-->\n).*?(<!-- steps:end -->)",
    lambda m: m.group(1) + steps_markdown() + "\n" + m.group(2),
    text,
    flags=re.S,
)
readme.write_text(text)
print("README step table updated")
