"""Demo data for Minsheng: realistic petitions, org units and staff for a fresh system.

Owns the project's own generator of demo cases (`DemoGenerator`), the demo organisation
(`demo_org`, `demo_staff`) and well-formed demo identities (ID numbers with a correct
GB 11643 check character, mobile numbers). Everything is generated from templates and word
lists authored for Minsheng and is deterministic for a given seed. Used to load demo data,
for benchmarks and for tests; never import it from request-handling code.
"""

from __future__ import annotations

from shared.demo.generator import (
    CHANNELS,
    DEFAULT_WINDOW,
    SOURCES,
    URGENCIES,
    DemoGenerator,
    PetitionMeta,
)
from shared.demo.identity import (
    demo_phone_numbers,
    id_check_char,
    is_valid_id_number,
    make_id_number,
)
from shared.demo.staff import ROLES, demo_org, demo_staff

__all__ = [
    "CHANNELS",
    "DEFAULT_WINDOW",
    "ROLES",
    "SOURCES",
    "URGENCIES",
    "DemoGenerator",
    "PetitionMeta",
    "demo_org",
    "demo_phone_numbers",
    "demo_staff",
    "id_check_char",
    "is_valid_id_number",
    "make_id_number",
]
