"""Minsheng's own library: settings, the event bus, database access, identity and access,
reference data, the working-day calendar, personal-data crypto, logging and ids.

No business rule of a single service lives here."""
