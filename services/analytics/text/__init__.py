"""Text analytics over petitions: repeat petitions (同人 + 同事), dispute screening (矛盾纠纷排查)
and hotspots (热点).

Pure algorithms over plain :class:`~services.analytics.text.records.Petition` records, so the
same code runs on the analytics read model's rows, on a CSV and in tests. Nothing here reads
or writes a database; the read model owns persistence.
"""
