"""Alembic environment: runs on the connection ``winnow.feedback.store.db.migrate`` hands it."""

from alembic import context

from winnow.feedback.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand with -x url=… or sqlalchemy.url
    from sqlalchemy import create_engine

    connection = create_engine(context.config.get_main_option("sqlalchemy.url")).connect()
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
