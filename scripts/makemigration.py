"""Developer tool: autogenerate an Alembic revision for one schema against a throwaway
embedded PostgreSQL migrated to head.  Usage: python scripts/makemigration.py <schema> <slug>"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def main() -> None:
    schema, slug = sys.argv[1], sys.argv[2]
    tmp = Path(tempfile.mkdtemp(prefix="minsheng-mig-"))
    from minsheng.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp / "pg")
    pg.start()
    try:
        os.environ["MINSHENG_DATABASE_URL"] = pg.url()
        from alembic import command

        from shared.db.migrate import SCHEMAS, alembic_config
        from shared.settings import get_settings

        get_settings.cache_clear()
        for name in SCHEMAS:
            versions = (
                Path(alembic_config(name).get_main_option("script_location") or "") / "versions"
            )
            if name != schema and versions.exists() and any(versions.glob("*.py")):
                command.upgrade(alembic_config(name), "head")
        cfg = alembic_config(schema)
        versions = Path(cfg.get_main_option("script_location") or "") / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        if any(versions.glob("*.py")):
            command.upgrade(cfg, "head")
        stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M")
        command.revision(cfg, message=slug, autogenerate=True, rev_id=f"{stamp}_{schema}")
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
