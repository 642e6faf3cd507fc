"""Alembic environment of the identity schema."""

from shared.db.migrate import run_env

run_env()
