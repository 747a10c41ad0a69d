"""Dependencies of the API routes: the context, the channels, the token holder."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from botschaft.channels.registry import Channels
from botschaft.services.api_tokens import TokenHolder, Unauthorised, authenticate
from botschaft.services.context import Context

_bearer = HTTPBearer(auto_error=False, description="An API token (botschaft api-token create)")


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def channels(request: Request) -> Channels:
    found: Channels = request.app.state.channels
    return found


async def token_holder(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenHolder:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorised("Send an API token as 'Authorization: Bearer <token>'.")
    return await run_in_threadpool(authenticate, context(request), credentials.credentials)


Ctx = Annotated[Context, Depends(context)]
ChannelSet = Annotated[Channels, Depends(channels)]
Holder = Annotated[TokenHolder, Depends(token_holder)]
