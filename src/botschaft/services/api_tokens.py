"""Bearer tokens for the REST API. The token is shown once; only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.context import Context
from botschaft.storage.models import ApiToken

PREFIX = "bsk_"


class Unauthorised(BotschaftError):
    code = "unauthorised"
    status = 401


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str  # shown once, never stored


@dataclass(frozen=True)
class TokenHolder:
    id: int
    name: str


def create_token(ctx: Context, name: str) -> IssuedToken:
    if not name.strip():
        raise BotschaftError("An API token needs a name (who or what uses it).")
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.db.write() as session:
        row = ApiToken(name=name.strip(), token_sha256=_digest(token),
                       created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        return IssuedToken(row.id, row.name, token)


def revoke_token(ctx: Context, token_id: int) -> None:
    with ctx.db.write() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"There is no API token #{token_id}.")
        if row.revoked_at is None:
            row.revoked_at = ctx.clock.now()


def authenticate(ctx: Context, token: str) -> TokenHolder:
    """The holder of a valid, unrevoked token, or ``Unauthorised``."""
    with ctx.db.read() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorised("The API token is unknown or revoked.")
    return TokenHolder(row.id, row.name)


def _digest(token: str) -> str:
    # Tokens are long random strings, so a plain hash is enough; no password hashing needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
