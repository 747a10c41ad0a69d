"""Structured logs: one line per event, the record's extra fields as key=value pairs."""

from __future__ import annotations

import logging

# Attributes every LogRecord has; anything else was passed as ``extra=`` and is printed.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(
            f"{key}={value}" for key, value in vars(record).items() if key not in _STANDARD
        )
        return f"{line} {fields}" if fields else line


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic narrates every migration step at INFO; the CLI says what happened itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
