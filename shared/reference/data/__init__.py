"""Authored reference data (category tree, administrative regions) as plain Python literals.

Kept as Python modules rather than JSON so the data ships with the package without any
packaging configuration. Only `shared.reference` should import from here.
"""
