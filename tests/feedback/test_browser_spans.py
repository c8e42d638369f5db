"""Span labels end to end in Debian's chromium (Playwright), keyboard only: an admin creates a spans
project on the page, two annotators mark spans of real MT-Bench reference answers (word keys, a
character key, a label key, Delete), write a comment with C, reload half way (the draft and the
comment come back), a reviewer sees the comments and adjudicates, and the export holds exactly
the spans typed. No console errors. Screenshots go to the test's tmp dir (WINNOW_SCREENSHOTS=DIR
keeps a copy)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import orjson
from pages import create_project, login_with_keys, shot
from playwright.sync_api import Browser, Page
from webserver import thread_server

from browser import watch
from winnow.feedback.service import Feedback

QUESTIONS = (102, 104, 108)  # MT-Bench reasoning questions with a reference answer (FastChat, Apache-2.0)
LABELS = ["PII", "factual error"]


def _records(sample_data: Path, out: Path) -> dict[str, str]:
    """The MT-Bench questions and GPT-4 reference answers as conversations; record id → answer text."""
    bench = sample_data / "sft" / "mt_bench"
    questions = {q["question_id"]: q for q in map(orjson.loads, (bench / "question.jsonl").read_bytes().splitlines())}
    answers = {a["question_id"]: a for a in map(orjson.loads, (bench / "reference_answer-gpt-4.jsonl").read_bytes().splitlines())}  # fmt: skip
    rows, texts = [], {}
    for qid in QUESTIONS:
        text = answers[qid]["choices"][0]["turns"][0]
        rows.append({"id": f"mt-bench-{qid}", "messages": [
            {"role": "user", "content": questions[qid]["turns"][0]}, {"role": "assistant", "content": text}]})  # fmt: skip
        texts[f"mt-bench-{qid}"] = text
    out.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return texts


def _tokens(text: str) -> list[tuple[int, int]]:
    """The word keys' stops, as spans.js finds them: runs of word characters, any other non-space alone."""
    return [m.span() for m in re.finditer(r"\w+|\S", text)]


def _mark(page: Page, text: str, first: int, words: int, label: int, back: int = 0) -> dict:
    """Keys that mark ``words`` tokens from token ``first`` (less ``back`` characters) with ``label``;
    the span they should give. The cursor starts at the text's start (Home is not a key: → from 0)."""
    tokens = _tokens(text)
    page.keyboard.press("Escape")
    for _ in range(60):  # back to the start: ← until the cursor is at 0
        if page.inner_text("#selected").startswith("Cursor at 0 "):
            break
        page.keyboard.press("ArrowLeft")
    for _ in range(first + (tokens[0][0] > 0)):  # from 0, the first → goes to the first word
        page.keyboard.press("ArrowRight")
    for _ in range(words):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(back):
        page.keyboard.press("BracketLeft")
    page.keyboard.press(str(label))
    start, end = tokens[first][0], tokens[first + words - 1][1] - back
    return {"start": start, "end": end, "label": LABELS[label - 1]}


def rows_majority(text: str) -> dict:
    """What both annotators marked on the first record: the address, as PII."""
    start = text.index("1600 Pennsylvania Avenue NW")
    return {"start": start, "end": start + len("1600 Pennsylvania Avenue NW"), "label": "PII"}


def test_spans_keyboard_only_with_comments_drafts_review_and_export(
    browser: Browser, tmp_path: Path, sample_data: Path
) -> None:
    os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")
    fb = Feedback.open(f"sqlite:///{tmp_path / 'feedback.db'}", create=True)
    fb.users.add("root", "admin", password="root-password-1")
    for name in ("ann0", "ann1", "rev"):
        fb.users.add(name, "reviewer" if name == "rev" else "annotator", password=f"{name}-password-1")
    texts = _records(sample_data, tmp_path / "mt-bench.jsonl")
    logs = []
    typed: dict[str, dict[str, list[dict]]] = {"ann0": {}, "ann1": {}}
    with thread_server(fb) as url:
        admin = browser.new_page()
        logs.append(watch(admin))
        login_with_keys(admin, url, "root", "root-password-1")
        create_project(admin, url, "marks", "spans", 2, {"input[name=labels]": ", ".join(LABELS)})
        fb.import_records("marks", tmp_path / "mt-bench.jsonl")
        for name in ("ann0", "ann1", "rev"):
            fb.projects.add_member("marks", name, "reviewer" if name == "rev" else "annotator")

        for name in ("ann0", "ann1"):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            logs.append(watch(page))
            login_with_keys(page, url, name, f"{name}-password-1")
            page.goto(url + "/p/marks/annotate")
            for i in range(len(QUESTIONS)):
                record = page.get_attribute("#task", "data-record")
                text = texts[record]
                assert page.inner_text("#span-text") == text  # the DOM text is the response, character for character
                spans: list[dict] = []
                if i == 0:  # the address (PII), and for ann0 a wrongly marked word then deleted
                    address = text.index("1600")
                    first = next(k for k, (a, _) in enumerate(_tokens(text)) if a == address)
                    spans.append(_mark(page, text, first, 4, 1))
                    if name == "ann0":
                        _mark(page, text, 0, 1, 2)
                        page.keyboard.press("Delete")  # the cursor is at the end of that span: it goes
                        page.keyboard.press("c")
                        page.keyboard.type("the address is real: PII")
                        page.keyboard.press("Escape")
                        page.wait_for_selector("#draft-status:text('Draft saved')")
                        shot(page, tmp_path, "spans-1-annotate")
                        page.reload()  # the draft and the comment come back
                        assert page.input_value("#comment") == "the address is real: PII"
                        assert page.locator("#span-list li").count() == 1
                    else:
                        spans.append(_mark(page, text, 0, 2, 2, back=1))  # "The Whit": a character key
                elif i == 2:
                    spans.append(_mark(page, text, 0, 1, 2))
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                typed[name][record] = sorted(spans, key=lambda s: s["start"])
            page.wait_for_selector("#done")

        reviewer = browser.new_page(viewport={"width": 1280, "height": 900})
        logs.append(watch(reviewer))
        login_with_keys(reviewer, url, "rev", "rev-password-1")
        reviewer.goto(url + "/p/marks/review")
        first_record = f"mt-bench-{QUESTIONS[0]}"
        reviewer.click(f"#disagreements a:text-is('{first_record}')")
        reviewer.wait_for_selector("#answers")
        assert "the address is real: PII" in reviewer.inner_text("#answers")
        shot(reviewer, tmp_path, "spans-2-review")
        text = texts[first_record]
        assert reviewer.locator("#span-list li").count() == 1  # the page starts from the majority: the address
        place = text.index("Washington")
        first = next(k for k, (a, _) in enumerate(_tokens(text)) if a == place)
        decided = [rows_majority(text), _mark(reviewer, text, first, 6, 2)]  # "Washington, D.C." is 6 stops
        with reviewer.expect_navigation():
            reviewer.keyboard.press("Enter")
        export = reviewer.request.get(url + "/api/projects/marks/export?format=winnow")
        assert export.ok
    rows = {r["id"]: r["meta"]["feedback"] for r in map(orjson.loads, export.body().splitlines())}
    for record, text in texts.items():
        feedback = rows[record]
        assert feedback["answers"] == [{"spans": typed[n][record], "length": len(text)} for n in ("ann0", "ann1")]
        assert feedback["annotators"] == ["ann0", "ann1"]
    assert rows[first_record]["answer"]["spans"] == decided and rows[first_record]["adjudicated_by"] == "rev"
    assert rows[first_record]["comments"] == ["the address is real: PII", None]
    for record in list(texts)[1:]:  # both marked the same: the consensus is what they typed
        assert rows[record]["answer"]["spans"] == typed["ann0"][record] == typed["ann1"][record]
    errors = [e for log in logs for e in log.errors]
    assert errors == [], "\n".join(errors)
    fb.close()


def test_offsets_are_code_points_and_the_mouse_selects_too(browser: Browser, tmp_path: Path) -> None:
    """A response with an accent, an emoji outside the BMP (two UTF-16 units, one Python character), a
    leading newline and CR LF line ends: the page's text equals it exactly and both the keys and a
    mouse drag give Python string offsets."""
    os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")
    fb = Feedback.open(f"sqlite:///{tmp_path / 'feedback.db'}", create=True)
    fb.users.add("ann", "annotator", password="ann-password-1")
    text = "\nCafé 😀 Zoë lives at\r\n12 Rue Oberkampf, Paris."
    path = tmp_path / "one.jsonl"
    path.write_bytes(orjson.dumps({"id": "r1", "messages": [{"role": "user", "content": "Who?"},
                                                           {"role": "assistant", "content": text}]}) + b"\n")  # fmt: skip
    fb.projects.create("marks", "spans", labels=LABELS, overlap=1)
    fb.import_records("marks", path)
    fb.projects.add_member("marks", "ann", "annotator")
    with thread_server(fb) as url:
        page = browser.new_page()
        log = watch(page)
        login_with_keys(page, url, "ann", "ann-password-1")
        page.goto(url + "/p/marks/annotate")
        assert page.evaluate("() => document.getElementById('span-text').textContent") == text
        zoe = _mark(page, text, 2, 1, 1)  # the stops: Café, 😀, Zoë, …
        street = text.index("12 Rue")
        box = page.evaluate(
            """([a, b]) => { const node = document.getElementById('span-text');
                 const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT); const range = document.createRange();
                 let seen = 0, t; const units = Array.from(node.textContent);
                 const ua = units.slice(0, a).join('').length, ub = units.slice(0, b).join('').length;
                 while ((t = walker.nextNode())) { const n = t.length;
                   if (ua >= seen && ua <= seen + n) range.setStart(t, ua - seen);
                   if (ub >= seen && ub <= seen + n) { range.setEnd(t, ub - seen); break; } seen += n; }
                 const rects = range.getClientRects(); const first = rects[0], last = rects[rects.length - 1];
                 return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2]; }""",
            [street, street + len("12 Rue Oberkampf")],
        )
        page.mouse.move(box[0], box[1])
        page.mouse.down()
        page.mouse.move(box[2], box[3], steps=5)
        page.mouse.up()
        page.keyboard.press("2")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#done")
    (answer,) = [a.value for e in fb_answers(fb) for a in e]
    assert answer["length"] == len(text)
    assert [text[s["start"] : s["end"]] for s in answer["spans"]] == ["Zoë", "12 Rue Oberkampf"]
    assert answer["spans"][0] == zoe
    assert log.errors == [], "\n".join(log.errors)
    fb.close()


def fb_answers(fb: Feedback) -> list:
    from winnow.feedback.service.answers import load_answers

    return [e.answers for e in load_answers(fb.db, fb.projects.get("marks")).values()]
