"""Bearer tokens for the REST API. The token is shown once; only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.services.audit import record_audit
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


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


class TokenNameMissing(BotschaftError):
    code = "token_name_missing"
    status = 422


def create_token(ctx: Context, name: str, *, actor_id: int | None = None) -> IssuedToken:
    """A new token; ``actor_id`` names the person who made it in the audit log."""
    if not name.strip() or len(name.strip()) > 100:
        raise TokenNameMissing("An API token needs a name of up to 100 characters"
                               " (who or what uses it).")
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.db.write() as session:
        row = ApiToken(name=name.strip(), token_sha256=_digest(token),
                       created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        record_audit(session, actor_id, "api_token.created", f"api_token:{row.id}",
                     {"name": row.name}, at=row.created_at)
        return IssuedToken(row.id, row.name, token)


def revoke_token(ctx: Context, token_id: int, *, actor_id: int | None = None) -> None:
    with ctx.db.write() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"There is no API token #{token_id}.")
        if row.revoked_at is None:
            row.revoked_at = ctx.clock.now()
            record_audit(session, actor_id, "api_token.revoked", f"api_token:{row.id}",
                         {"name": row.name}, at=row.revoked_at)


def list_tokens(ctx: Context) -> list[TokenView]:
    """Every token, newest first (revoked ones too: the history stays visible)."""
    with ctx.db.read() as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
        return [TokenView(r.id, r.name, r.created_at, r.revoked_at) for r in rows]


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
