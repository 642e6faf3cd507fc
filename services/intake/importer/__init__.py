"""Bulk import of petition history (back-fill) from CSV and Excel files.

Owns the per-source mappings (``mappings``: ``teddy2020``, ``fuzhou``, ``nyc311``) that turn
a row into a ``NormalizedPetition``, the streaming file reader (``reader``), and the run
itself (``service.run_import``): batches of rows in one transaction each, idempotent on
``(import:<mapping>, external id)`` so a file imported twice changes nothing, a per-row
error report, and a checkpoint that lets a crashed run continue. ``cli`` offers it as
``minsheng import <file> --mapping <name>``.

Imported petitions go through ``petition.service.take_in_many`` like every channel and emit
``intake.petition.received``; they carry no phone numbers, so nobody is texted about history.
"""
