"""What every use case needs: the database, a clock and the settings, passed in together."""

from __future__ import annotations

from dataclasses import dataclass

from botschaft.services.clock import Clock, SystemClock
from botschaft.settings import Settings
from botschaft.storage.database import Database


@dataclass
class Context:
    db: Database
    settings: Settings
    clock: Clock

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None) -> Context:
        return cls(Database(settings.effective_database_url), settings, clock or SystemClock())

    def close(self) -> None:
        self.db.dispose()
