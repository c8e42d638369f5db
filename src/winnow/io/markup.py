"""Markdown and reStructuredText documents (``format: markdown`` / ``format: rst``; ``.md``/``.rst`` files
are read by the plain ``text`` format unless the input declares one of these).

One record per file, the text as written (Markdown and RST already are structured text); ``meta`` holds
``title`` (a front-matter ``title:``, else the first heading), ``sections`` (each heading's title, level
and offset) and, from YAML front matter (``---`` … ``---`` at the top of a Markdown file), ``author``,
``date`` and ``license`` (which becomes the record's ``license``); the front matter is not part of the text.
"""

from __future__ import annotations

import re

import yaml

from winnow.io.base import ErrorSink, Shard, register_reader
from winnow.io.document import DocumentReader
from winnow.licenses import normalize_license

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", re.S)
ATX_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
SETEXT = re.compile(r"^(?P<title>[^\n]*\S[^\n]*)\n(?P<line>=+|-+)[ \t]*$", re.M)
RST_HEADING = re.compile(
    r"^(?:(?P<over>[=\-~^\"'`#*+:.]{3,})\n)?(?P<title>[^\n]*\S[^\n]*)\n(?P<under>[=\-~^\"'`#*+:.]{3,})[ \t]*$", re.M
)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def _decode(data: bytes, shard: Shard, errors: ErrorSink) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        errors.bad(shard.source_file, f"byte {error.start}", "not UTF-8 text")
        return None


@register_reader
class MarkdownReader(DocumentReader):
    format = "markdown"
    extensions = (".markdown", ".mdown")

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        text = _decode(data, shard, errors)
        if text is None:
            return None
        meta: dict = {}
        front = FRONT_MATTER.match(text)
        if front:
            try:
                fields = yaml.safe_load(front.group(1))
            except yaml.YAMLError as error:
                errors.bad(shard.source_file, "line 1", f"front matter is not YAML: {error}")
                return None
            if isinstance(fields, dict):
                meta.update({k: str(fields[k]) for k in ("title", "author", "date", "license") if fields.get(k)})
            text = text[front.end() :]
        blanked = FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)  # no headings inside code
        found = [(m.start(), len(m.group(1)), m.group(2)) for m in ATX_HEADING.finditer(blanked)]
        found += [
            (m.start(), 1 if m.group("line")[0] == "=" else 2, m.group("title").strip())
            for m in SETEXT.finditer(blanked)
        ]
        row = _with_sections(text, sorted(found), meta)
        if meta.get("license") and normalize_license(meta["license"]):
            row["_license"] = normalize_license(meta["license"])
        return row


@register_reader
class RstReader(DocumentReader):
    format = "rst"
    extensions = ()  # .rst stays with the text format unless declared

    def document(self, data: bytes, shard: Shard, errors: ErrorSink) -> dict | None:
        text = _decode(data, shard, errors)
        if text is None:
            return None
        levels: list[tuple[str, bool]] = []  # RST levels: by the order adornment styles first appear
        found = []
        for m in RST_HEADING.finditer(text):
            under = m.group("under")
            if len(set(under)) != 1 or len(under) < len(m.group("title").strip()):
                continue
            style = (under[0], bool(m.group("over")))
            if style not in levels:
                levels.append(style)
            found.append((m.start(), levels.index(style) + 1, m.group("title").strip()))
        return _with_sections(text, found, {})


def _with_sections(text: str, found: list[tuple[int, int, str]], meta: dict) -> dict:
    sections = [{"title": title, "level": level, "offset": offset} for offset, level, title in found]
    meta["sections"] = sections
    if "title" not in meta and sections:
        meta["title"] = sections[0]["title"]
    return {"text": text, "_meta": meta}
