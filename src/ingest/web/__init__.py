"""`ingest serve`: the archive in a browser (search, articles, feeds, status), as a read-only
JSON API with an OpenAPI description, and as Atom feeds; one aiohttp application."""
