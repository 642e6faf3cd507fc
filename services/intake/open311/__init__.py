"""Open311 GeoReport v2 under ``/open311/v2`` (integrations §4): the standard's six methods and
the discovery file over our category table and the intake petition store. ``router.router``
is the router to mount."""
