"""`ingest run` (the daemon, in the foreground) and `ingest status` (what the daemons are doing)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from ingest.cli.context import AppContext
from ingest.cli.output import Format, print_json, print_table
from ingest.timestamps import iso_utc


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": iso_utc(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("status")(status)


def _configure_logging(log_format: LogFormat) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if log_format is LogFormat.json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per tick is noise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" each start


def run(
    ctx: typer.Context,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="Log lines on stderr as text or JSON.")
    ] = LogFormat.text,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Serve Prometheus /metrics and /healthz on this port."),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option("--metrics-host", help="Address to bind metrics to (default 127.0.0.1)."),
    ] = None,
) -> None:
    """Run the daemon in the foreground: poll due feeds until SIGTERM/SIGINT, then exit 0.

    One daemon per SQLite archive (a second one refuses to start); any number on PostgreSQL.
    """
    import asyncio

    from ingest.store.writerlock import WriterLock

    app_ctx: AppContext = ctx.obj
    settings = app_ctx.settings
    updates = {"metrics_port": metrics_port, "metrics_host": metrics_host}
    settings = settings.model_copy(update={k: v for k, v in updates.items() if v is not None})
    _configure_logging(log_format)
    lock = WriterLock(settings.db_url)
    lock.acquire()  # before opening: a refused daemon touches nothing
    try:
        from ingest.daemon import Daemon  # after the lock: a refused daemon starts nothing
        from ingest.metrics import Metrics

        daemon = Daemon(app_ctx.engine, settings, Metrics())
        asyncio.run(daemon.run())
    finally:
        lock.release()


def status(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """What the daemons are doing: feeds due, in flight, failing, gone; each node's last tick."""
    from ingest.store import nodes

    app_ctx: AppContext = ctx.obj
    engine, settings = app_ctx.reader, app_ctx.settings
    report = nodes.status_report(engine, stale_after=3 * settings.tick_interval + 60)
    counts, node_records = report["feeds"], report["nodes"]
    if format is Format.json:
        print_json(report)
        return
    print_table("schedule", list(counts), [list(counts.values())])
    print_table(
        "daemons",
        ["owner", "state", "started", "last tick", "in flight"],
        [
            (r["owner"], r["state"], r["started_at"], r["last_tick_at"] or "never", r["in_flight"])
            for r in node_records
        ],
    )
    if not node_records:
        typer.echo("no daemon running: start one with `ingest run`", err=True)
