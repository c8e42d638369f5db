"""``winnow feedback``: the human half of the data engine — a multi-user web app where teams rate,
rank, compare and correct model outputs, on SQLite or PostgreSQL (docs/feedback.md).

Layers: ``api/`` (FastAPI routes, dependencies, schemas, templates) → ``service/`` (the rules: no web
imports) → ``store/`` (SQLAlchemy 2 models, Alembic migrations). The Python API is the service layer:

    from winnow.feedback.service import Feedback
    fb = Feedback.open("sqlite:///feedback.db")
    fb.projects.create("helpful", task="pairwise", guidelines="Prefer the more helpful answer.", overlap=3)
"""
