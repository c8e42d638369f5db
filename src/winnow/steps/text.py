"""Text clean-up mappers: repair broken Unicode (``fix_unicode``) and normalise form and spacing (``normalize``).

Both rewrite ``text`` and drop nothing. ``fix_unicode`` uses ftfy (mojibake, HTML entities left in text,
control characters); ``normalize`` is a few explicit rules (NFC, line endings, spaces) so that equal
texts compare equal for deduplication.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

import pyarrow as pa
from pydantic import Field

from winnow.records import with_column
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

# Runs of whitespace other than newline (tabs, NBSP, ideographic space...) after a word; leading
# indentation is kept, since code and man pages mean something by it.
# Only runs that change something match (two or more characters, or one that is not a space):
# most single spaces between words are left alone instead of being replaced by themselves.
SPACES = re.compile(r"(?<=\S)(?: [^\S\n]+|[^\S \n][^\S\n]*)")
TRAILING_SPACE = re.compile(r"[^\S\n]+(?=\n)")
LINE_ENDINGS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
# Blanks SPACES could change: any blank but a space (tab, NBSP, \x1f...), or two spaces in a row.
UNUSUAL_BLANKS = re.compile(r"[^\S \n]| {2}")
OTHER_LINE_ENDINGS = ("\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85")


# ASCII control characters ftfy removes (tab, newline and carriage return are text). ASCII text without
# them (and without "&" when entities are decoded) is exactly what ftfy would return: mojibake needs
# non-ASCII characters, and ASCII is already in every normal form. Most web text is ASCII, and ftfy
# costs ~10 ms per document, so such texts skip it (tests/steps/test_text.py checks the equivalence).
ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@register
class FixUnicode(Step):
    """Repair mojibake, stray HTML entities and control characters with ftfy."""

    name = "fix_unicode"
    on_conversations = "contents"
    needs = ("ftfy",)
    extra = "unicode"

    class Params(StepParams):
        normalization: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = Field(
            "NFC", description="Unicode normal form ftfy applies at the end (NFC, NFKC, or null for none)"
        )
        unescape_html: bool | Literal["auto"] = Field(
            "auto",
            description="decode HTML entities such as &amp; left in the text; auto (ftfy's default): "
            "only in texts with no '<', which are not themselves HTML or code about HTML",
        )
        remove_control_chars: bool = Field(True, description="remove control characters other than newline and tab")

    def config(self):  # -> ftfy.TextFixerConfig
        import ftfy

        return ftfy.TextFixerConfig(
            normalization=self.params.normalization,
            unescape_html=self.params.unescape_html,
            remove_control_chars=self.params.remove_control_chars,
            # Typographic quotes and ligatures are correct text, not damage: keep them. Line breaks
            # are normalize's job.
            uncurl_quotes=False,
            fix_latin_ligatures=False,
            fix_character_width=False,
            fix_line_breaks=False,
            explain=False,
        )

    def needs_ftfy(self, text: str, unescape_html: bool | str | None = None) -> bool:
        if not text.isascii():
            return True
        if ASCII_CONTROL.search(text):  # control characters, and ESC of terminal escapes (always removed)
            return True
        unescape = self.params.unescape_html if unescape_html is None else unescape_html
        return bool(unescape) and "&" in text

    def fix(self, text: str, config) -> str:
        """``ftfy.fix_text(text, config)``, segment for segment, calling ftfy only on the segments
        (lines) it could change. ftfy fixes a text line by line, and its per-line overhead (~20 us)
        is most of its time on documentation and code, whose lines are mostly plain ASCII. The loop
        is ftfy's own: the same segments, and the same switch of ``unescape_html: auto`` to off for
        the rest of the text once a segment holds a '<' (tests/steps/test_text.py compares)."""
        from ftfy import fix_and_explain

        out, pos, end = [], 0, len(text)
        while pos < end:
            cut = text.find("\n", pos) + 1 or end
            cut = min(cut, pos + config.max_decode_length)
            segment = text[pos:cut]
            if config.unescape_html == "auto" and "<" in segment:
                config = config._replace(unescape_html=False)
            if self.needs_ftfy(segment, config.unescape_html):
                segment = fix_and_explain(segment, config)[0]
            out.append(segment)
            pos = cut
        return "".join(out)

    def transform(self, batch: pa.Table) -> pa.Table:
        config = self.config()
        texts = batch.column("text").to_pylist()
        fixed = [self.fix(t, config) if t and self.needs_ftfy(t) else t for t in texts]
        self.counters["changed"] += sum(a != b for a, b in zip(texts, fixed, strict=True))
        return with_column(batch, "text", pa.array(fixed, pa.string()))


@functools.cache
def _blank_line_runs(max_blank_lines: int) -> re.Pattern[str]:
    """Runs of more than ``max_blank_lines`` blank lines (that is, of max_blank_lines + 2 or more newlines)."""
    return re.compile("\n{" + str(max_blank_lines + 2) + ",}")


def normalize_text(text: str, form: str | None = "NFC", max_blank_lines: int = 1) -> str:
    """Unicode normal form, \\n line endings, single spaces between words (indentation kept), no trailing spaces, at most
    ``max_blank_lines`` blank lines in a row, no leading or trailing blank lines."""
    # Each rule runs only where a cheap substring test says it can change something (the regexes
    # are most of this step's time).
    if form:
        text = unicodedata.normalize(form, text)
    if any(ending in text for ending in OTHER_LINE_ENDINGS):
        text = LINE_ENDINGS.sub("\n", text)
    if UNUSUAL_BLANKS.search(text):
        text = SPACES.sub(" ", text)
        text = TRAILING_SPACE.sub("", text)
    elif " \n" in text:  # blanks are single spaces: only a space before a newline can go
        text = TRAILING_SPACE.sub("", text)
    if "\n" * (max_blank_lines + 2) in text:
        text = _blank_line_runs(max_blank_lines).sub("\n" * (max_blank_lines + 1), text)
    return text.lstrip("\n").rstrip()


@register
class Normalize(Step):
    """Normalise text: Unicode form (NFC), \\n line endings, collapsed spaces, at most one blank line in a row."""

    name = "normalize"
    on_conversations = "contents"

    class Params(StepParams):
        form: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = Field(
            "NFC", description="Unicode normal form: NFC, NFKC, NFD, NFKD, or null to keep"
        )
        max_blank_lines: int = Field(1, ge=0, description="longest run of blank lines kept")

    def transform(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        out = [normalize_text(t, self.params.form, self.params.max_blank_lines) if t else t for t in texts]
        self.counters["changed"] += sum(a != b for a, b in zip(texts, out, strict=True))
        return with_column(batch, "text", pa.array(out, pa.string()))
