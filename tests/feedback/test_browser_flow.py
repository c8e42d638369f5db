"""End to end in Debian's chromium (Playwright): an admin creates a project and imports real HH-RLHF
pairs through the pages, three annotators log in and annotate with the keyboard only (one writes a
comment and reloads: the draft keeps the choice and the comment), a reviewer adjudicates a
disagreement, and the export holds exactly the answers (and the comment) given. No console errors.
Screenshots go to the test's tmp dir (WINNOW_SCREENSHOTS=DIR keeps a copy)."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from pathlib import Path

import orjson
from pages import create_project, login_with_keys, shot
from playwright.sync_api import Browser
from webserver import thread_server

from browser import watch
from winnow.feedback.service import Feedback

RECORDS = 5
COMMENT = "both are polite; B also answers"
# annotator → the side they prefer on each record (by position in the file); U is exercised on the first
PLAN = {
    "ann0": ["a", "a", "a", "b", "a"],
    "ann1": ["a", "b", "a", "b", "t"],
    "ann2": ["a", "b", "b", "b", "b"],
}


def test_admin_annotators_reviewer_end_to_end(browser: Browser, tmp_path: Path, sample_data: Path) -> None:
    os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")
    fb = Feedback.open(f"sqlite:///{tmp_path / 'feedback.db'}", create=True)
    fb.users.add("root", "admin", password="root-password-1")
    for name in [*PLAN, "rev"]:
        fb.users.add(name, "reviewer" if name == "rev" else "annotator", password=f"{name}-password-1")
    lines = gzip.decompress((sample_data / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz").read_bytes())
    upload = tmp_path / "hh-rlhf-sample.jsonl"
    upload.write_bytes(b"\n".join(lines.splitlines()[:RECORDS]) + b"\n")
    logs = []
    with thread_server(fb) as url:
        admin = browser.new_page()
        logs.append(watch(admin))
        login_with_keys(admin, url, "root", "root-password-1")
        guidelines = "Prefer the **harmless** answer. Ties only when both are equal."
        fields = {"input[name=blind]": True, "textarea[name=guidelines]": guidelines}
        create_project(admin, url, "helpful", "pairwise", 3, fields)
        admin.set_input_files("#import-file", str(upload))
        admin.click("#import")
        admin.wait_for_selector("text=5 records added")
        for name in [*PLAN, "rev"]:
            admin.fill("input[name=user]", name)
            admin.select_option("select[name=role]", "reviewer" if name == "rev" else "annotator")
            admin.click("#add-member")
        shot(admin, tmp_path, "1-project-admin")

        order: list[str] = []  # record ids in file order, as the annotate page names them
        for name, plan in PLAN.items():
            page = browser.new_page()
            logs.append(watch(page))
            login_with_keys(page, url, name, f"{name}-password-1")
            page.goto(url + "/p/helpful/annotate")
            for i, key in enumerate(plan):
                record = page.get_attribute("#task", "data-record")
                if name == "ann0":
                    order.append(record)
                else:
                    assert record == order[i]
                if name == "ann0" and i == 0:  # a wrong answer first, then U brings the task back
                    page.keyboard.press("b" if key != "b" else "a")
                    with page.expect_navigation():
                        page.keyboard.press("Enter")
                    assert page.get_attribute("#task", "data-record") != record
                    with page.expect_navigation():
                        page.keyboard.press("u")
                    assert page.get_attribute("#task", "data-record") == record
                page.keyboard.press(key)
                if name == "ann1" and i == 1:  # a comment (C), then a reload: the draft brings both back
                    page.keyboard.press("c")
                    page.keyboard.type(COMMENT)
                    page.keyboard.press("Escape")
                    page.wait_for_selector("#draft-status:text('Draft saved')")
                    page.reload()
                    assert page.get_attribute("#answer button.selected", "value") == {"a": "A", "b": "B"}[key]
                    assert page.input_value("#comment") == COMMENT
                if i == 0:
                    shot(page, tmp_path, f"2-annotate-{name}")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
            page.wait_for_selector("#done")
            shot(page, tmp_path, f"3-done-{name}")

        reviewer = browser.new_page()
        logs.append(watch(reviewer))
        login_with_keys(reviewer, url, "rev", "rev-password-1")
        reviewer.goto(url + "/p/helpful/review")
        shot(reviewer, tmp_path, "4-review-list")
        disputed = [order[i] for i in range(RECORDS) if len({plan[i] for plan in PLAN.values()}) > 1]
        assert reviewer.locator("#disagreements a").count() == len(disputed)
        reviewer.click(f"#disagreements a:text-is('{order[4]}')")  # a, t, b: no majority until adjudicated
        reviewer.wait_for_selector("#answers")
        shot(reviewer, tmp_path, "5-review-record")
        reviewer.keyboard.press("t")
        with reviewer.expect_navigation():
            reviewer.keyboard.press("Enter")
        assert reviewer.url == url + "/p/helpful/review"
        reviewer.goto(url + "/p/helpful")
        shot(reviewer, tmp_path, "6-project-reviewer")
        export = reviewer.request.get(url + "/api/projects/helpful/export?format=winnow")
        assert export.ok
    fb_rows = [orjson.loads(line) for line in export.body().splitlines()]
    expected = {}
    for i, record in enumerate(order):
        votes = Counter(plan[i] for plan in PLAN.values())
        expected[record] = "t" if i == 4 else votes.most_common(1)[0][0]
    got = {}
    for row in fb_rows:
        feedback = row["meta"]["feedback"]
        assert feedback["annotators"] == list(PLAN)
        assert feedback["answers"] == [{"choice": {"a": "A", "b": "B", "t": "tie"}[p[order.index(row["id"])]]}
                                       for p in PLAN.values()]  # fmt: skip
        got[row["id"]] = {"A": "a", "B": "b", "tie": "t"}[feedback["answer"]["choice"]]
        assert feedback["comments"] == [COMMENT if (n, row["id"]) == ("ann1", order[1]) else None for n in PLAN]
    ties = [r for r, v in expected.items() if v == "t"]
    assert got == {r: v for r, v in expected.items() if v != "t"} and ties == [order[4]]  # ties export no pair
    assert fb.review.disagreements(fb.projects.get("helpful"), include_adjudicated=True)[0].adjudication is not None
    errors = [e for log in logs for e in log.errors]
    assert errors == [], "\n".join(errors)
    fb.close()
