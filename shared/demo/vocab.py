"""Loads the demo generator's authored word lists and grievance templates (package data).

Owns reading `shared/demo/data/vocab.json` and `templates.json` once per process. The files
are Minsheng's own writing: invented estates, companies and people; real district, street,
road and river names of the demo jurisdiction.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def _load(name: str) -> dict[str, Any]:
    # `data` is a package of its own so that the JSON ships in wheels too (package-data).
    text = resources.files("shared.demo.data").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def vocab() -> dict[str, Any]:
    return _load("vocab.json")


@cache
def template_data() -> dict[str, Any]:
    return _load("templates.json")
