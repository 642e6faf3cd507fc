"""Database access: engines per schema, the naming convention, transactions, migrations.

Only the infrastructure commits: a request dependency or a worker's unit of work opens
``engine.begin()``; service functions take the connection (``db``) and never commit.
"""

from shared.db.engine import Database, make_metadata, text_refused, transient_db_errors

__all__ = ["Database", "make_metadata", "text_refused", "transient_db_errors"]
