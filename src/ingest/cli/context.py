"""What every command shares: settings and the archive, opened lazily and once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ingest.config import Settings


@dataclass
class AppContext:
    db_url: str | None = None
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from ingest.config import load_settings

            self._settings = load_settings(self.config_path, db_url=self.db_url)
        return self._settings

    @property
    def engine(self) -> Engine:
        """The archive for a command that writes: created when missing."""
        if self._engine is None:
            from ingest.store.engine import open_archive

            self._engine = open_archive(self.settings.db_url)
        return self._engine

    @property
    def reader(self) -> Engine:
        """The archive for a command that only reads: never created ("no archive at PATH"),
        opened read-only when its file or filesystem cannot be written."""
        if self._engine is None:
            from ingest.store.engine import open_archive

            self._engine = open_archive(self.settings.db_url, create=False)
        return self._engine
