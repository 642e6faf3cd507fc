"""``minsheng``: run the system, serve one service, run one worker, and operate it.

Every command reads its configuration from the environment (``MINSHENG_*``); operational
commands find the embedded servers through ``$MINSHENG_DATA_DIR/runtime.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from shared.settings import SERVICES, get_settings


def cmd_run(args: argparse.Namespace) -> int:
    from minsheng.supervisor import Supervisor

    return Supervisor(get_settings(), demo=not args.no_demo, demo_count=args.demo_count).run()


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from minsheng.asgi import SERVICE_ENV, build

    settings = get_settings()
    workers = args.workers or settings.api_workers
    options: dict[str, Any] = {
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "access_log": False,
        "log_level": "warning",
        "lifespan": "on",
    }
    if workers > 1:
        # several processes on one socket: each builds its app from the environment
        os.environ[SERVICE_ENV] = args.service
        uvicorn.run("minsheng.asgi:app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(build(args.service, settings), **options)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import importlib

    from arq.worker import run_worker

    module = importlib.import_module(f"services.{args.service}.worker")
    run_worker(module.worker_settings())
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from shared.db.migrate import upgrade_all

    upgrade_all(get_settings())
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    import uvicorn

    if args.partner == "sms":
        from minsheng.simulators.sms_gateway import create_app

        uvicorn.run(
            create_app(), host="127.0.0.1", port=args.port, access_log=False, log_level="warning"
        )
    elif args.partner in ("hotline", "province"):
        import os
        from pathlib import Path

        from minsheng.simulators.partner import create_app as create_partner

        settings = get_settings()
        hotline = args.partner == "hotline"
        spec = settings.hotline_keys if hotline else settings.exchange_keys
        log = os.environ.get("PARTNER_SIM_LOG")
        uvicorn.run(
            create_partner("hotline" if hotline else "exchange", spec, Path(log) if log else None),
            host="127.0.0.1",
            port=args.port,
            access_log=False,
            log_level="warning",
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from minsheng.demo_load import load_demo

    return asyncio.run(load_demo(get_settings(), count=args.count, force=args.force))


def cmd_import(args: argparse.Namespace) -> int:
    from services.intake.importer.cli import main as import_main

    return import_main(args)


def cmd_deliveries(args: argparse.Namespace) -> int:
    from minsheng import deliveries

    if args.action == "failed":
        return asyncio.run(deliveries.list_failed(get_settings(), as_json=args.json))
    return asyncio.run(deliveries.replay(get_settings(), args.ids))


def cmd_admin(args: argparse.Namespace) -> int:
    from minsheng import admin

    return asyncio.run(admin.dispatch(get_settings(), args))


def cmd_deadline(args: argparse.Namespace) -> int:
    from services.casework.deadline.cli import deadline_main

    return deadline_main(get_settings(), args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minsheng", description="Minsheng (民声) case management")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "run",
        help="start the whole system (embedded PostgreSQL and Redis by default) and load demo data",
    )
    r.add_argument("--no-demo", action="store_true", help="do not load demo data")
    r.add_argument("--demo-count", type=int, default=200, help="demo petitions on first run")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("serve", help="serve one service's API (or all behind one base URL)")
    s.add_argument("service", choices=[*SERVICES, "all"])
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument(
        "--workers",
        type=int,
        help="API processes sharing the port (default MINSHENG_API_WORKERS, 1)",
    )
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("worker", help="run one service's arq worker (events, relay, jobs)")
    w.add_argument("service", choices=SERVICES)
    w.set_defaults(func=cmd_worker)

    m = sub.add_parser("migrate", help="migrate every schema to head")
    m.set_defaults(func=cmd_migrate)

    sim = sub.add_parser("simulate", help="run a partner simulator on 127.0.0.1")
    sim.add_argument("partner", choices=["sms", "hotline", "province"])
    sim.add_argument("--port", type=int, default=8025)
    sim.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="demo data")
    d.add_argument("action", choices=["load"])
    d.add_argument("--count", type=int, default=200)
    d.add_argument("--force", action="store_true", help="load petitions even if some exist")
    d.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="back-fill petition history from a CSV or xlsx file")
    from services.intake.importer.cli import add_arguments as import_arguments

    import_arguments(imp)
    imp.set_defaults(func=cmd_import)

    dl = sub.add_parser("deliveries", help="the dead-letter store of events and deliveries")
    dl.add_argument("action", choices=["failed", "replay"])
    dl.add_argument("ids", nargs="*", help="ids as listed by `failed` (service:id)")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_deliveries)

    a = sub.add_parser("admin", help="org units, staff and holidays")
    asub = a.add_subparsers(dest="admin_command", required=True)
    ou = asub.add_parser("create-org", help="create an org unit")
    ou.add_argument("--id", required=True)
    ou.add_argument("--name", required=True)
    ou.add_argument(
        "--kind",
        required=True,
        choices=[
            "petition_office",
            "department",
            "street",
            "community",
            "discipline",
            "government",
        ],
    )
    ou.add_argument("--parent")
    ou.add_argument("--regions", default="", help="comma-separated region codes")
    ou.add_argument("--duties", default="", help="comma-separated category codes")
    st = asub.add_parser("create-staff", help="create a staff account")
    st.add_argument("--username", required=True)
    st.add_argument("--name", required=True)
    st.add_argument("--org", required=True)
    st.add_argument("--roles", required=True, help="comma-separated roles")
    st.add_argument("--password", help="prompted when omitted")
    asub.add_parser("list-staff", help="list staff accounts")
    from services.casework.deadline.cli import add_deadline_arguments, add_holiday_arguments

    add_holiday_arguments(asub.add_parser("holidays", help="holiday and 调休 overrides"))
    a.set_defaults(func=cmd_admin)

    dd = sub.add_parser("deadline", help="when is this due? (explains the days counted)")
    add_deadline_arguments(dd)
    dd.set_defaults(func=cmd_deadline)

    from minsheng.analytics_cli import add_parser as add_analytics

    add_analytics(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
