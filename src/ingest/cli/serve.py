"""`ingest serve`: the archive in a browser, as a JSON API and as Atom feeds (read-only)."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.cli.context import AppContext
from ingest.cli.output import message
from ingest.errors import UsageError

if TYPE_CHECKING:
    from aiohttp import web

SHUTDOWN_SECONDS = 3.0  # running requests get this long after SIGTERM; queries are interrupted


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (a local one; default loopback only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8080,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another Host name to answer (e.g. a reverse proxy's); repeatable.",
        ),
    ] = None,
    max_requests: Annotated[
        int, typer.Option(min=1, max=256, help="Requests worked on at once; more get 503.")
    ] = 8,
) -> None:
    """Serve the archive: web pages at /, JSON at /api/ (see /api/openapi.json), Atom feeds."""
    import asyncio

    from ingest.rawarchive import warc_folder
    from ingest.web.app import make_app

    app_ctx: AppContext = ctx.obj
    app = make_app(
        app_ctx.reader,
        host=host,
        allow_hosts=allow_host or (),
        max_requests=max_requests,
        stale_after=3 * app_ctx.settings.tick_interval + 60,
        warc_dir=warc_folder(app_ctx.settings),
    )
    asyncio.run(_serve(app, host, port))


async def _serve(app: web.Application, host: str, port: int) -> None:
    """Listen until SIGTERM or SIGINT, then stop within SHUTDOWN_SECONDS."""
    import asyncio

    from aiohttp import web

    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:  # in use, not an address of this machine, does not resolve
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        for address in runner.addresses:
            where = f"[{address[0]}]" if ":" in address[0] else address[0]
            message(f"serving http://{where}:{address[1]}/ (read-only; Ctrl-C stops)")
        await stop.wait()
    finally:
        await runner.cleanup()
