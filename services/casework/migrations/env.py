"""Alembic environment of the casework schema."""

from shared.db.migrate import run_env

run_env()
