"""Text with its structure kept, for document readers (docx, epub, markdown): headings as Markdown
``#`` lines, paragraphs apart by a blank line, tables as ``| a | b |`` rows, and where each section starts."""

from __future__ import annotations

from html.parser import HTMLParser


class Outline:
    """Blocks of a document in reading order; ``text`` joins them, ``sections`` says where headings start."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.sections: list[dict] = []  # {"title", "level", "offset"} (offset: characters into text)
        self._length = 0

    def _add(self, block: str) -> None:
        block = block.strip()
        if block:
            self._length += (2 if self.blocks else 0) + len(block)
            self.blocks.append(block)

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())
        if title:
            offset = self._length + (2 if self.blocks else 0)
            self.sections.append({"title": title, "level": level, "offset": offset})
            self._add(f"{'#' * max(1, min(level, 6))} {title}")

    def paragraph(self, text: str) -> None:
        self._add(text)

    def table(self, rows: list[list[str]]) -> None:
        rows = [
            [" ".join(cell.split()).replace("|", "\\|") for cell in row] for row in rows if any(c.strip() for c in row)
        ]
        if rows:
            self._add("\n".join("| " + " | ".join(row) + " |" for row in rows))

    @property
    def text(self) -> str:
        return "\n\n".join(self.blocks)


BLOCK_TAGS = {"p", "div", "li", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "section", "article"}
HEADINGS = {f"h{i}": i for i in range(1, 7)}
SKIP_TAGS = {"script", "style", "head", "title", "nav"}


class _HtmlOutliner(HTMLParser):
    def __init__(self, outline: Outline):
        super().__init__(convert_charrefs=True)
        self.outline = outline
        self.buffer: list[str] = []
        self.heading: int | None = None
        self.rows: list[list[str]] | None = None
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag in HEADINGS or tag in BLOCK_TAGS or tag == "table":
            self._flush()
            self.heading = HEADINGS.get(tag, self.heading)
            self.pre += tag == "pre"
            if tag == "table":
                self.rows = []
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")
        elif tag == "br":
            self.buffer.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "table" and self.rows is not None:
            self.outline.table(self.rows)
            self.rows = None
        elif tag in HEADINGS or tag in BLOCK_TAGS:
            self._flush()
            self.pre -= tag == "pre" and self.pre > 0

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data
        elif self.rows is None:
            self.buffer.append(data)

    def _flush(self) -> None:
        raw = "".join(self.buffer)
        self.buffer = []
        if self.heading is not None:
            self.outline.heading(self.heading, raw)
            self.heading = None
        elif self.pre:
            self.outline.paragraph(raw.strip("\n"))
        else:
            self.outline.paragraph(" ".join(raw.split()))

    def close(self) -> None:
        super().close()
        self._flush()


def outline_html(html: str, outline: Outline | None = None) -> Outline:
    """The outline of an (X)HTML document, appended to ``outline`` when given."""
    outline = outline or Outline()
    parser = _HtmlOutliner(outline)
    parser.feed(html)
    parser.close()
    return outline
