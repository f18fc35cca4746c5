"""One typed settings object, loaded once from `config/ingest.toml` and `INGEST_*` environment.

Precedence: built-in defaults < TOML file < environment < command-line options. Every key is
documented with its default in `config/ingest.toml`; unknown keys are errors, so typos surface.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ingest import __version__
from ingest.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config/ingest.toml")
DEFAULT_DB_URL = "sqlite:///archive/ingest.db"
ENV_PREFIX = "INGEST_"
# INGEST_* variables that are not settings: the config file's path, tracebacks on errors
ENV_NOT_SETTINGS = frozenset({"INGEST_CONFIG", "INGEST_DEBUG"})


class Settings(BaseModel):
    """Every tunable of `ingest`; see config/ingest.toml for what each one means."""

    # inf/nan are refused: `host_delay = 1e309` would be an endless wait, not a setting
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    db_url: str = DEFAULT_DB_URL
    feeds_files: list[str] = Field(
        default_factory=lambda: ["config/feeds.toml", "config/feeds.opml"]
    )
    warc: bool = True  # keep raw responses as WARC files
    warc_dir: str = ""  # empty: beside the SQLite database, else archive/warc
    warc_max_bytes: int = Field(2**30, ge=2**16)  # rotate a WARC file past this size

    # HTTP client
    # Who runs this archive (an e-mail address or a URL a site owner can reach), sent in the
    # User-Agent; empty by default because only the operator knows a real one.
    contact: str = ""
    user_agent: str = ""  # empty: "ingest/VERSION (feed archiver[; CONTACT])"
    concurrency: int = Field(32, ge=1, le=1000)
    per_host_concurrency: int = Field(2, ge=1, le=100)
    host_delay: float = Field(1.0, ge=0)  # seconds between two requests to one host
    connect_timeout: float = Field(10.0, gt=0)
    request_timeout: float = Field(30.0, gt=0)  # total deadline per request, body included
    max_feed_bytes: int = Field(10 * 2**20, ge=1024)
    max_page_bytes: int = Field(5 * 2**20, ge=1024)
    max_redirects: int = Field(10, ge=0, le=50)
    redirect_confirmations: int = Field(2, ge=1)
    allow_networks: list[str] = Field(default_factory=list)
    respect_robots: bool = True
    max_cache_age: int = Field(86400, ge=0)  # cap on Cache-Control/Expires/Retry-After waits (s)

    # Pipeline
    fulltext: bool = True
    workers: int = Field(0, ge=0, le=64)  # processes for parse/extract; 0 = one per core
    extract_timeout: float = Field(30.0, gt=0)
    worker_memory_mb: int = Field(1024, ge=0)  # data memory cap per worker process; 0 = none
    fetch_log_retention_days: int = Field(30, ge=0)

    # Scheduling (the daemon)
    min_interval: int = Field(15 * 60, ge=1)  # seconds
    max_interval: int = Field(24 * 3600, ge=1)
    max_backoff: int = Field(24 * 3600, ge=1)
    max_backoff_permanent: int = Field(7 * 86400, ge=1)  # 404, not a feed: retried for days
    tick_interval: float = Field(10.0, gt=0)
    lease_seconds: int = Field(600, ge=5)
    batch_size: int = Field(50, ge=1)
    recheck_schedule: list[int] = Field(default_factory=lambda: [3600, 6 * 3600, 86400, 7 * 86400])
    retry_schedule: list[int] = Field(default_factory=lambda: [600, 3600, 6 * 3600, 86400])
    shutdown_grace: float = Field(5.0, ge=0)  # seconds for requests in flight on SIGTERM
    feeds_sync_interval: int = Field(300, ge=1)  # seconds between two reads of the feeds files
    maintenance_interval: int = Field(6 * 3600, ge=60)  # fetch-log pruning, PRAGMA optimize
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(0, ge=0, le=65535)  # 0: no metrics endpoint

    # Dedupe
    near_duplicate_similarity: float = Field(0.6, gt=0, le=1)  # verified shingle containment
    near_duplicate_min_words: int = Field(100, ge=0)

    # Search
    search_time_limit: float = Field(2.0, gt=0, le=600)  # seconds per search statement

    @model_validator(mode="before")
    @classmethod
    def _default_agent(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("user_agent"):
            contact = str(values.get("contact") or "").strip()
            suffix = f"; {contact}" if contact else ""
            values = {**values, "user_agent": f"ingest/{__version__} (feed archiver{suffix})"}
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.min_interval > self.max_interval:
            raise ValueError(
                f"min_interval ({self.min_interval}) is longer than max_interval "
                f"({self.max_interval})"
            )
        return self

    @field_validator("feeds_files", "allow_networks", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allow_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        # imported here: ingest.fetch imports this module for `Settings`
        from ingest.fetch.urlpolicy import parse_networks

        parse_networks(value)  # ValueError naming the bad entry → a one-line config error
        return value

    @field_validator("recheck_schedule", "retry_schedule", mode="before")
    @classmethod
    def _split_ints(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read the TOML file (optional unless named explicitly), then env, then `overrides`."""
    environ: Mapping[str, str] = os.environ if env is None else env
    explicit = path is not None or f"{ENV_PREFIX}CONFIG" in environ
    path = path or Path(environ.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_PATH))
    values: dict[str, Any] = {}
    if path.exists() or explicit:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"invalid config {path}: {exc}") from None
    origin = {key: str(path) for key in values}  # where each value came from, for errors
    fields = Settings.model_fields
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key in fields:
            values[key], origin[key] = value, name
        else:
            _warn_unknown(name, key)
    for key, value in overrides.items():
        if value is not None:
            values[key], origin[key] = value, "the command line"
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if not where:  # a rule between settings: name the first key its message names
            where = next((k for k in fields if k in first["msg"]), "config")
        source = origin.get(where.split(".")[0], str(path))
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where!r} in {source}: {message}") from None


def _warn_unknown(name: str, key: str) -> None:
    """A misspelt variable would be silently ignored: say so, with the nearest real key."""
    close = difflib.get_close_matches(key, Settings.model_fields, n=1)
    hint = f" (did you mean {ENV_PREFIX}{close[0].upper()}?)" if close else ""
    log.warning("unknown setting %s ignored%s", name, hint)
