"""A project with further questions, in Debian's chromium (Playwright), keyboard only: the admin page
creates it, an annotator answers a pairwise choice, a 1–5 helpfulness rating and multi-label flags
(Q moves between the questions, the numbers answer the marked one), cannot submit with a question
left open, gets the draft back after a reload; a reviewer changes one question's answer and
adjudicates. What is stored is what was keyed. No console errors."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from pages import create_project, login_with_keys, shot
from playwright.sync_api import Browser
from webserver import thread_server

from browser import watch
from winnow.feedback.service import Feedback
from winnow.feedback.service.answers import load_answers


def test_keyboard_answers_every_question_and_review_adjudicates_them(
    browser: Browser, tmp_path: Path, sample_data: Path
) -> None:
    os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")
    fb = Feedback.open(f"sqlite:///{tmp_path / 'feedback.db'}", create=True)
    fb.users.add("root", "admin", password="root-password-1")
    fb.users.add("ann", "annotator", password="ann-password-1")
    lines = gzip.decompress((sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz").read_bytes())
    upload = tmp_path / "hh.jsonl"
    upload.write_bytes(b"\n".join(lines.splitlines()[:2]) + b"\n")
    logs = []
    with thread_server(fb) as url:
        admin = browser.new_page()
        logs.append(watch(admin))
        login_with_keys(admin, url, "root", "root-password-1")
        questions = "helpful:rating\nflags:multilabel:PII,toxic,wrong"
        create_project(admin, url, "chats", "pairwise", 1, {"#new-questions": questions})
        assert "pairwise + helpful (rating) + flags (label)" in admin.inner_text("main")
        described = admin.request.get(url + "/api/projects/chats").json()["question"]["questions"]
        assert [(q["name"], q["task"], q.get("multi")) for q in described] == [
            ("helpful", "rating", None), ("flags", "label", True)]  # fmt: skip
        admin.set_input_files("#import-file", str(upload))
        admin.click("#import")
        admin.wait_for_selector("text=2 records added")
        admin.fill("input[name=user]", "ann")
        admin.click("#add-member")

        page = browser.new_page()
        logs.append(watch(page))
        login_with_keys(page, url, "ann", "ann-password-1")
        page.goto(url + "/p/chats/annotate")
        first = page.get_attribute("#task", "data-record")
        assert page.get_attribute("#q-helpful", "class") == "question active"  # pairwise takes letters: numbers go here
        page.keyboard.press("a")
        page.keyboard.press("Enter")  # the questions are still open: nothing is sent
        page.wait_for_selector("#selected:text('too')")
        assert "“helpful”" in page.inner_text("#selected") and page.get_attribute("#task", "data-record") == first
        page.keyboard.press("4")  # helpful: Good
        page.keyboard.press("q")  # → flags
        page.keyboard.press("1")
        page.keyboard.press("3")
        page.keyboard.press("3")  # toggles "wrong" off again
        page.keyboard.press("3")
        shot(page, tmp_path, "q1-annotate-questions")
        assert page.is_checked("#q-helpful input[value='4']") and page.is_checked("#q-flags input[value=PII]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        second = page.get_attribute("#task", "data-record")
        assert second != first
        page.keyboard.press("b")
        page.keyboard.press("5")  # flags left empty: a multi-label question may be answered with none
        page.wait_for_selector("#draft-status:text('Draft saved')")
        page.reload()
        assert page.is_checked("#q-helpful input[value='5']")  # the draft brings the questions back
        assert page.get_attribute("#answer button.selected", "value") == "B"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#done")

        p = fb.projects.get("chats")
        answers = {e.external_id: e for e in load_answers(fb.db, p).values()}
        assert answers[first].answers[0].value == {"choice": "A"}
        assert answers[first].answers[0].questions == {"helpful": {"rating": 4}, "flags": {"labels": ["PII", "wrong"]}}
        assert answers[second].answers[0].value == {"choice": "B"}
        assert answers[second].answers[0].questions == {"helpful": {"rating": 5}, "flags": {"labels": []}}

        reviewer = admin  # an admin reviews too
        reviewer.goto(f"{url}/p/chats/review/{answers[first].record_id}")
        assert [x.strip() for x in reviewer.locator("#answers th").all_inner_texts()][:4] == [
            "annotator", "answer", "helpful", "flags"]  # fmt: skip
        assert reviewer.is_checked("#q-helpful input[value='4']")  # starts from the answers given
        reviewer.keyboard.press("2")  # helpful: Bad
        reviewer.keyboard.press("b")
        shot(reviewer, tmp_path, "q2-review-questions")
        with reviewer.expect_navigation():
            reviewer.keyboard.press("Enter")
        reviewer.goto(url + "/p/chats")
        assert reviewer.locator("#alpha-helpful").count() == 1
    entry = load_answers(fb.db, p)[answers[first].record_id]
    assert entry.adjudication == {"choice": "B"}
    assert entry.adjudicated_questions == {"helpful": {"rating": 2}, "flags": {"labels": ["PII", "wrong"]}}
    errors = [e for log in logs for e in log.errors]
    assert errors == [], "\n".join(errors)
    fb.close()
