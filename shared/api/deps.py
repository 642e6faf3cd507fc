"""Dependencies shared by the services' routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from shared.api.idempotency import validate_key
from shared.clock import Clock
from shared.db import Database
from shared.security import Keys, keys_for
from shared.settings import Settings


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_keys(request: Request) -> Keys:
    return keys_for(request.app.state.settings)


def get_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1–128 characters; a retry with the same "
            "key and body gets the first answer",
        ),
    ] = None,
) -> str | None:
    return validate_key(idempotency_key)


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
KeysDep = Annotated[Keys, Depends(get_keys)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]
