"""The installation's signing key: from the settings, or made once and kept in the data dir."""

from __future__ import annotations

import secrets
from pathlib import Path

from botschaft.settings import Settings

_FILE = "secret_key"


def signing_key(settings: Settings) -> bytes:
    """The key for signed cookies and links; generated on first use when none is set.

    Kept in ``<data_dir>/secret_key`` with owner-only permissions so that restarts keep
    visitors' sessions and links valid.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode("utf-8")
    path = Path(settings.data_dir) / _FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
