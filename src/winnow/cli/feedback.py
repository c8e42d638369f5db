"""``winnow feedback``: the human-feedback app (a thin adapter over ``winnow.feedback.service``;
the ``web`` extra is imported only when a feedback command runs)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from winnow.cli.base import add_command

DB_HELP = "the database: sqlite:///feedback.db (default: $WINNOW_FEEDBACK_DB or sqlite:///feedback.db) or postgresql+psycopg://…"
EXAMPLES = """examples:
  winnow feedback init --db sqlite:///feedback.db
  winnow feedback user add alice --role admin            # prints a one-time password
  winnow feedback project create helpful --task pairwise --guidelines guide.md --overlap 3 --blind
  winnow feedback project create chats --task pairwise --question helpful:rating:5 --question flags:multilabel:pii,toxic
  winnow feedback member add helpful bob --role annotator
  winnow feedback import helpful out/sft/                # a Winnow output, or any conversation file
  winnow feedback assign helpful bob --count 200         # reserve work for one annotator
  winnow feedback serve --host 127.0.0.1 --port 8642
  winnow feedback agreement helpful
  winnow feedback export helpful --format trl-dpo -o dpo.jsonl

Every command takes --db (or $WINNOW_FEEDBACK_DB). Tasks: pairwise, rating, label, ranking,
correction, spans; --question adds a further rating or label question (repeatable). Roles: owner,
admin (every project), reviewer, annotator (per project)."""


def _open(args: argparse.Namespace, create: bool = False):  # type: ignore[no-untyped-def]
    try:
        from winnow.feedback.service import Feedback
    except ImportError as error:  # pragma: no cover - the extra is missing
        from winnow.errors import WinnowError

        raise WinnowError(f"winnow feedback needs the web extra: pip install 'winnow[web]' ({error})") from None
    return Feedback.open(args.db, create=create)


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=os.environ.get("WINNOW_FEEDBACK_DB", "sqlite:///feedback.db"), help=DB_HELP)


def add_commands(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "feedback", lambda a: parser.print_help() or 0, "the human-feedback web app", EXAMPLES)
    inner = parser.add_subparsers(dest="feedback_command", metavar="COMMAND")

    p = add_command(inner, "init", _init, "create or upgrade the database (Alembic migrations)")
    _db(p)

    user = add_command(inner, "user", lambda a: user.print_help() or 0, "accounts")
    users = user.add_subparsers(metavar="COMMAND")
    p = add_command(users, "add", _user_add, "add a user; prints a one-time password")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["owner", "admin", "reviewer", "annotator"])
    _db(p)
    p = add_command(users, "token", _user_token, "make a REST API token for a user (shown once, stored hashed)")
    p.add_argument("name")
    _db(p)
    p = add_command(users, "password", _user_password, "reset a user's password (prints a new one-time password)")
    p.add_argument("name")
    _db(p)

    project = add_command(inner, "project", lambda a: project.print_help() or 0, "projects")
    projects = project.add_subparsers(metavar="COMMAND")
    p = add_command(projects, "create", _project_create, "create a project")
    p.add_argument("name")
    p.add_argument("--task", required=True, choices=["pairwise", "rating", "label", "ranking", "correction", "spans"])
    p.add_argument("--guidelines", help="a markdown file with the guidelines")
    p.add_argument("--overlap", type=int, default=1, help="answers per record (default 1)")
    p.add_argument("--blind", action="store_true", help="annotators never see others' answers")
    p.add_argument("--labels", help="label, spans: the labels, comma-separated (at most 9)")
    p.add_argument("--points", type=int, help="rating: points on the scale (default 5, named)")
    p.add_argument("--multi", action="store_true", help="label: several labels per record")
    p.add_argument("--suggestions", action="store_true", help="show imported judge scores as pre-annotations")
    p.add_argument(
        "--question", action="append", default=[], metavar="NAME:TASK[:SPEC]",
        help="a further question asked beside the task (repeatable): NAME:rating[:POINTS or a,b,c], "
        "NAME:label:a,b,c (one label), NAME:multilabel:a,b,c",
    )  # fmt: skip
    p.add_argument(
        "--assignment", choices=["auto", "explicit"], default="auto",
        help="auto: anyone takes the next open record; explicit: annotators get only what `assign` gives them",
    )  # fmt: skip
    _db(p)

    p = add_command(inner, "assign", _assign, "reserve records for an annotator (explicit assignment)")
    p.add_argument("project")
    p.add_argument("user")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--records", help="record ids, comma-separated, or @FILE with one id per line")
    which.add_argument("--count", type=int, help="this many records, the next in queue order")
    _db(p)
    p = add_command(inner, "unassign", _unassign, "give back the records reserved for an annotator")
    p.add_argument("project")
    p.add_argument("user")
    _db(p)

    member = add_command(inner, "member", lambda a: member.print_help() or 0, "project members")
    members = member.add_subparsers(metavar="COMMAND")
    p = add_command(members, "add", _member_add, "give a user a role in a project")
    p.add_argument("project")
    p.add_argument("user")
    p.add_argument("--role", required=True, choices=["admin", "reviewer", "annotator"])
    _db(p)

    p = add_command(inner, "import", _import, "import records: a Winnow output directory or a conversation file")
    p.add_argument("project")
    p.add_argument("path")
    p.add_argument("--format", default="chat", help="a conversation reader format (default: detected per row)")
    _db(p)

    p = add_command(inner, "agreement", _agreement, "Krippendorff's alpha, per annotator pair and per annotator")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    _db(p)

    p = add_command(inner, "export", _export, "write the answers in a trainer's format, with provenance")
    p.add_argument("project")
    p.add_argument("--format", required=True, help="winnow, trl-dpo, trl-sft, trl-kto, trl-reward, openai-*, …")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--style", help="trl-sft: messages | prompt-completion; trl-dpo: explicit | implicit")
    _db(p)

    p = add_command(inner, "serve", _serve, "run the web app (binds 127.0.0.1 unless told otherwise)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8642)
    p.add_argument("--workers", type=int, default=1)
    _db(p)


def _init(args: argparse.Namespace) -> int:
    _open(args, create=True).close()
    print(f"feedback database ready: {args.db}")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    fb = _open(args)
    account, password = fb.users.add(args.name, args.role)
    print(f"user {account.name} ({account.role}) added; one-time password: {password}")
    return 0


def _user_token(args: argparse.Namespace) -> int:
    print(_open(args).users.create_token(args.name))
    return 0


def _user_password(args: argparse.Namespace) -> int:
    print(f"new password for {args.name}: {_open(args).users.set_password(args.name)}")
    return 0


def _project_create(args: argparse.Namespace) -> int:
    from winnow.feedback.service.questions import parse_question

    guidelines = Path(args.guidelines).read_text() if args.guidelines else ""
    extra = {"multi": True} if args.multi else {}
    labels = [x.strip() for x in args.labels.split(",") if x.strip()] if args.labels else None
    questions = [parse_question(q) for q in args.question]
    p = _open(args).projects.create(
        args.name, args.task, guidelines, args.overlap, args.blind, args.suggestions, labels, args.points,
        assignment=args.assignment, questions=questions or None, **extra,
    )  # fmt: skip
    explicit = ", explicit assignment" if p.assignment == "explicit" else ""
    asked = "".join(f", {q.name} ({q.task})" for q in p.question.extras)
    print(f"project {p.name}: {p.task}{asked}, overlap {p.overlap}{', blind' if p.blind else ''}{explicit}")
    return 0


def _member_add(args: argparse.Namespace) -> int:
    _open(args).projects.add_member(args.project, args.user, args.role)
    print(f"{args.user} is {args.role} of {args.project}")
    return 0


def _assign(args: argparse.Namespace) -> int:
    records = None
    if args.records is not None:
        if args.records.startswith("@"):
            text = Path(args.records[1:]).read_text(encoding="utf-8")
            records = [line.strip() for line in text.splitlines() if line.strip()]
        else:
            records = [r.strip() for r in args.records.split(",") if r.strip()]
    n = _open(args).assign(args.project, args.user, records=records, count=args.count)
    asked = len(records) if records is not None else args.count
    print(f"{n:,} of {asked:,} records reserved for {args.user} in {args.project}")
    return 0


def _unassign(args: argparse.Namespace) -> int:
    n = _open(args).unassign(args.project, args.user)
    print(f"{n:,} reserved records of {args.user} given back to {args.project}'s queue")
    return 0


def _import(args: argparse.Namespace) -> int:
    s = _open(args).import_records(args.project, args.path, args.format)
    print(f"{s.added:,} records added to {s.project} ({s.duplicates:,} already there) in {s.seconds:.1f} s")
    return 0


def _agreement(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    r = _open(args).agreement(args.project)
    if args.json:
        print(json.dumps(dataclasses.asdict(r), indent=1))
        return 0

    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    print(f"{r.project} ({r.task}): alpha {f(r.alpha)} ({r.level}) over {r.records:,} records, {r.answers:,} answers")
    if r.judge is not None:
        print(
            f"  judge vs human consensus: alpha {f(r.judge.alpha)}, agreement {f(r.judge.agreement)} "
            f"over {r.judge.records:,} records"
        )
    for pair in r.pairs:
        print(f"  {pair.a} / {pair.b}: {pair.shared} shared, agreement {f(pair.agreement)}, alpha {f(pair.alpha)}")
    for q in r.questions:
        print(
            f"  question {q.name} ({q.task}): alpha {f(q.alpha)} ({q.level}) over {q.records:,} records, {q.answers:,} answers"
        )
        for pair in q.pairs:
            print(
                f"    {pair.a} / {pair.b}: {pair.shared} shared, agreement {f(pair.agreement)}, alpha {f(pair.alpha)}"
            )
    for a in r.annotators:
        print(
            f"  {a.user}: {a.answers} answers, {a.skips} skips ({a.skip_rate:.0%}), median {f(a.median_seconds)} s, "
            f"agrees with the others' consensus {f(a.agreement_with_consensus)}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    options = {"style": args.style} if args.style else {}
    s = _open(args).export(args.project, args.format, args.output, **options)
    left = ", ".join(f"{n:,} {why}" for why, n in sorted(s.left_out.items()))
    print(
        f"{s.records:,} answered records -> {s.rows:,} {s.format} rows: {s.output}"
        + (f"\n  left out: {left}" if left else "")
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from winnow.feedback.api.server import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"winnow feedback: listening on {args.host}, reachable from other machines", file=sys.stderr)
    serve(args.db, args.host, args.port, args.workers)
    return 0
