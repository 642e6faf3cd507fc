"""Identity and access (architecture §2.5, §2.6), schema ``identity``.

Owns staff accounts, org units (the 属地管理 hierarchy as materialised paths), roles, login
with lockout and optional TOTP, revocable staff sessions with idle expiry, the short-lived
JWT access tokens every service accepts, the :class:`~shared.identity.principal.Principal`
that endpoints receive, and the scope helpers every query uses (out of scope answers 404).

Modules: ``models`` (tables), ``roles``, ``passwords``, ``tokens``, ``principal``, ``scope``,
``service`` (rules; never commits), ``deps`` (FastAPI dependencies), ``schemas`` and
``router`` (``/api/v1/auth`` and ``/api/v1/admin``).
"""
