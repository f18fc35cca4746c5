"""ingest: poll feeds, pull full article text, dedupe, and keep a faithful, searchable archive."""

__version__ = "0.1.0"
