"""Alembic environment of the notify schema."""

from shared.db.migrate import run_env

run_env()
