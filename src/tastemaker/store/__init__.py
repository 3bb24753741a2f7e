"""Persistence: the content-addressed media store (and, later, the database)."""
