"""`ingest serve`: the read-only HTTP API over the archive."""

from __future__ import annotations

from typing import Annotated

import typer
from aiohttp import web

from ingest.api import make_app
from ingest.cli.output import err


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8080,
) -> None:
    """Serve the archive as JSON: /api/articles, /api/articles/ID, /api/search, /api/feeds."""
    app = make_app(ctx.obj.engine)
    web.run_app(app, host=host, port=port, print=lambda line: err.print(line, highlight=False))
