"""``winnow feedback`` end to end through the command line (SQLite)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from winnow.cli import main
from winnow.feedback.service import Feedback


def test_cli_init_users_project_import_agreement_export(tmp_path: Path, hh_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'f.db'}"
    guide = tmp_path / "guide.md"
    guide.write_text("# Helpful\nPrefer the answer that helps without harm.")
    assert main(["feedback", "init", "--db", db]) == 0
    assert main(["feedback", "user", "add", "alice", "--role", "admin", "--db", db]) == 0
    password = re.search(r"one-time password: (\S+)", capsys.readouterr().out).group(1)
    assert main(["feedback", "project", "create", "helpful", "--task", "pairwise", "--guidelines", str(guide),
                 "--overlap", "2", "--blind", "--db", db]) == 0  # fmt: skip
    assert main(["feedback", "import", "helpful", str(hh_path), "--db", db]) == 0
    assert "400 records added" in capsys.readouterr().out
    assert main(["feedback", "import", "helpful", str(hh_path), "--db", db]) == 0
    assert "0 records added to helpful (400 already there)" in capsys.readouterr().out
    assert main(["feedback", "import", "helpful", str(tmp_path / "nope.jsonl"), "--db", db]) == 2
    assert "not found" in capsys.readouterr().err

    fb = Feedback.open(db)
    assert fb.users.login("alice", password).role == "admin"
    p = fb.projects.get("helpful")
    assert p.blind and p.guidelines.startswith("# Helpful") and p.overlap == 2
    people = [fb.users.add(f"u{i}", "annotator")[0] for i in range(2)]
    for user in people:
        for _ in range(10):
            task = fb.tasks.next(p, user)
            fb.tasks.submit(p, user, task.assignment_id, {"choice": "A" if user is people[0] else "B"})
    fb.close()
    assert main(["feedback", "agreement", "helpful", "--json", "--db", db]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] == 10 and report["pairs"][0]["agreement"] == 0.0
    out = tmp_path / "dpo.jsonl"
    assert main(["feedback", "export", "helpful", "--format", "trl-dpo", "-o", str(out), "--db", db]) == 0
    assert "10 answered records -> 0 trl-dpo rows" in capsys.readouterr().out  # every record an even split
    assert out.read_text() == "" and (tmp_path / "dpo.jsonl.provenance.jsonl").exists()


def test_cli_explicit_assignment(tmp_path: Path, hh_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'f.db'}"
    assert main(["feedback", "init", "--db", db]) == 0
    assert main(["feedback", "user", "add", "bob", "--role", "annotator", "--db", db]) == 0
    assert main(["feedback", "project", "create", "expert", "--task", "pairwise", "--assignment", "explicit",
                 "--db", db]) == 0  # fmt: skip
    assert "explicit assignment" in capsys.readouterr().out
    assert main(["feedback", "member", "add", "expert", "bob", "--role", "annotator", "--db", db]) == 0
    assert main(["feedback", "import", "expert", str(hh_path), "--db", db]) == 0
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{hh_path.name}:7\n{hh_path.name}:9\n")
    capsys.readouterr()
    assert main(["feedback", "assign", "expert", "bob", "--records", f"@{ids}", "--db", db]) == 0
    assert "2 of 2 records reserved for bob" in capsys.readouterr().out
    assert main(["feedback", "assign", "expert", "bob", "--records", "missing:1", "--db", db]) == 2
    assert "no record 'missing:1'" in capsys.readouterr().err
    fb = Feedback.open(db)
    p, bob = fb.projects.get("expert"), fb.users.get("bob")
    assert fb.tasks.next(p, bob).external_id == f"{hh_path.name}:7"
    fb.close()
    assert main(["feedback", "unassign", "expert", "bob", "--db", db]) == 0
    assert "1 reserved records of bob given back" in capsys.readouterr().out
