"""Alembic environment of the analytics schema."""

from shared.db.migrate import run_env

run_env()
