"""Alembic environment of the intake schema."""

from shared.db.migrate import run_env

run_env()
