"""Who is calling: the :class:`Principal` every endpoint receives from ``deps``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.identity.roles import UNMASK_ROLES


@dataclass(frozen=True)
class Principal:
    """A staff member (with roles, org unit and session), a citizen (``subject`` is the
    pseudonymous person key) or a partner system (``subject`` is its key id)."""

    kind: Literal["staff", "citizen", "partner"]
    subject: str
    roles: frozenset[str] = frozenset()
    org_unit_id: str | None = None
    org_path: str | None = None
    region_codes: tuple[str, ...] = ()
    session_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"

    def has_role(self, *roles: str) -> bool:
        """Whether this is a staff member holding at least one of ``roles``."""
        return self.is_staff and not self.roles.isdisjoint(roles)

    def can_unmask(self) -> bool:
        """Whether responses may show this caller personal data unmasked."""
        return self.is_staff and not self.roles.isdisjoint(UNMASK_ROLES)
