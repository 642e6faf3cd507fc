"""Dependencies shared by the services' routers. They are ``async def`` although they do
not wait on anything: FastAPI runs a plain ``def`` dependency in a thread pool, a thread hop
on every request for each of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from shared.api.idempotency import validate_key
from shared.clock import Clock
from shared.db import Database
from shared.security import Keys, keys_for
from shared.settings import Settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_keys(request: Request) -> Keys:
    return keys_for(request.app.state.settings)


async def get_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="1–128 characters; a retry with the same "
            "key and body gets the first answer",
            # documented only: validate_key refuses with its own code (invalid_idempotency_key)
            json_schema_extra={"minLength": 1, "maxLength": 128},
        ),
    ] = None,
) -> str | None:
    return validate_key(idempotency_key)


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
KeysDep = Annotated[Keys, Depends(get_keys)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]
