"""The deadline engine (domain §2): the legal clocks of a case, counted in natural or working
days on the official holiday schedule, layered policies, extensions and pauses as recorded
events, and the sweep that warns before and at the deadline.

Modules: ``calendar`` (working days: overrides > chinesecalendar > weekends), ``engine``
(pure counting with an explanation), ``policy`` (clock kinds, statutory defaults, layers),
``clocks`` (the clocks of cases in the database), ``sweep`` (warnings and misses, once
each), ``holidays`` (the admin-maintained override table), ``router`` and ``cli``.
"""
