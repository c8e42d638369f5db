"""The HTML report: self-contained, and it opens in a real headless Chromium without console errors."""

from __future__ import annotations

import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser import PageLog
from winnow.report.html import write_report

SECTIONS = [
    "summary", "funnel", "drops", "lengths", "languages", "sources", "licenses",
    "duplicates", "pii", "mixture", "examples", "quarantine", "steps",
]  # fmt: skip
CHARTED = ["funnel", "drops", "lengths", "languages", "sources", "licenses", "duplicates", "pii"]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "poster") and value:
                self.urls.append(value)
            if name == "id" and value:
                self.ids.append(value)


@pytest.fixture(scope="module")
def rich_report(rich_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(str(rich_run), str(path))
    return path


def test_report_is_self_contained(rich_report: Path) -> None:
    page = rich_report.read_text()
    parser = Links()
    parser.feed(page)
    assert all(url.startswith("#") for url in parser.urls), parser.urls  # only in-page links
    assert "@import" not in page and "url(" not in page
    assert [i for i in parser.ids if i in SECTIONS] == SECTIONS


def test_report_shows_the_run(rich_run: Path, rich_report: Path) -> None:
    page = rich_report.read_text()
    m = json.loads((rich_run / "_winnow" / "manifest.json").read_text())
    for step in m["steps"]:
        for reason in step["dropped"]:
            assert f"{step['name']}: {reason}" in page
    assert f"<b>{m['counts']['kept']:,}</b>kept documents" in page
    assert "EMAIL" in page and "minhash_dedup: clusters by size" in page
    # example drops are shown escaped (HTML pages in the corpus must not become markup of the report)
    assert page.count("<details>") >= 3 and "<pre>" in page


SOURCES_COLUMN = "Array.from(document.querySelectorAll('#sources tbody tr')).map(tr => tr.cells[{}].textContent)"


@pytest.mark.browser
def test_report_opens_in_chromium_without_errors(
    rich_report: Path, page: Page, page_log: PageLog, tmp_path: Path
) -> None:
    """The rich report in Debian's chromium (Playwright, tests/browser.py): no errors, nothing fetched,
    every section and chart drawn, the sortable tables, <details> and the navigation work."""
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(rich_report.as_uri())
    page.wait_for_timeout(200)  # let late console messages arrive
    assert page_log.errors == []
    assert page_log.requests == [rich_report.as_uri()]  # nothing fetched from anywhere else
    found = page.evaluate(
        "Array.from(document.querySelectorAll('section')).map(s => [s.id, s.querySelector('h2').textContent])"
    )
    assert [section_id for section_id, _ in found] == SECTIONS
    charts = page.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll('section')).map(s => [s.id,
             Array.from(s.querySelectorAll('svg.chart')).map(svg => {
               const box = svg.getBoundingClientRect();
               const bars = Array.from(svg.querySelectorAll('rect.bar')).filter(r => r.getBBox().width > 0 && r.getBBox().height > 0);
               return [Math.round(box.width), Math.round(box.height), bars.length];
             })]))"""
    )
    for section_id in CHARTED:
        assert charts[section_id], f"no chart in {section_id}"
        for width, height, bars in charts[section_id]:
            assert width > 300 and height > 20 and bars > 0, (section_id, width, height, bars)

    # the sortable tables work (the only script on the page), clicked with the mouse
    headers = page.locator("#sources thead th")
    before = page.evaluate(SOURCES_COLUMN.format(0))
    headers.nth(0).click()
    after = page.evaluate(SOURCES_COLUMN.format(0))
    assert after == sorted(before, reverse=True) and after != before
    headers.nth(0).click()  # a second click sorts the other way
    assert page.evaluate(SOURCES_COLUMN.format(0)) == sorted(before)
    headers.nth(2).click()  # "kept documents": numbers, sorted as numbers (1,234 > 999)
    kept = [int(text.replace(",", "")) for text in page.evaluate(SOURCES_COLUMN.format(2))]
    assert kept == sorted(kept, reverse=True) and len(set(kept)) > 1
    assert sorted(page.evaluate(SOURCES_COLUMN.format(0))) == sorted(before)  # rows moved whole

    # an example of a dropped document opens on a click on its summary
    example = page.locator("#examples details").first
    expect(example.locator("pre")).to_be_hidden()
    example.locator("summary").click()
    expect(example).to_have_attribute("open", "")
    expect(example.locator("pre")).to_be_visible()

    # the navigation bar jumps to its section
    page.locator('nav a[href="#pii"]').click()
    assert page.evaluate("location.hash") == "#pii"
    expect(page.locator("#pii h2")).to_be_in_viewport()

    assert page_log.errors == []
    assert page_log.requests == [rich_report.as_uri()]  # in-page links load nothing either
    shot = tmp_path / "report.png"
    page.screenshot(path=shot, full_page=True)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1200 and height > 3000


def test_report_of_a_minimal_run(quickstart_run: Path, tmp_path: Path) -> None:
    write_report(str(quickstart_run), str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    assert "no deduplication step in this run" in page and "no PII step in this run" in page
    assert re.search(r"length_filter: too_few_words", page)


def test_report_says_what_the_license_step_renamed(tmp_path: Path) -> None:
    """Input counts are by the licence as read and kept counts by the licence set: the report shows
    the renaming, counted from the records themselves, so a renamed licence does not look dropped."""
    from collections import Counter

    from report_helpers import example_recipe

    from winnow import read_output, run

    recipe = example_recipe("curate.yaml", tmp_path / "out")
    run(recipe, workers=2)
    write_report(str(tmp_path / "out"), str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    # every record reaches the license step (nothing is dropped before it), kept or rejected later
    records = (
        read_output(str(tmp_path / "out")).to_pylist() + read_output(str(tmp_path / "out"), rejected=True).to_pylist()
    )
    renamed = Counter(
        (r["license.declared"], r["license"])
        for r in records
        if r["license.declared"] and r["license.declared"] != r["license"]
    )
    assert renamed[("GPL2 with Classpath exception", "GPL-2.0-only WITH Classpath-exception-2.0")] > 50
    section = page[page.index("Licences set by the") :]
    from winnow.report.card import write_card

    write_card(str(tmp_path / "out"), str(tmp_path / "card.md"))
    card = (tmp_path / "card.md").read_text()
    for (read, set_), count in renamed.items():
        assert f'<td>{read}</td><td>{set_}</td><td class="n">{count:,}</td>' in section
        assert f"| {read} | {set_} | {count:,} |" in card
