"""Authored demo vocabulary and grievance templates (JSON package data, read by `vocab`)."""
