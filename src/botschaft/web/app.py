"""The application factory: every process and every test builds its app from settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from botschaft import __version__
from botschaft.channels.registry import Channels
from botschaft.services.clock import Clock
from botschaft.services.context import Context
from botschaft.services.intake import IntakeQueue
from botschaft.services.response_time import ResponseTimeCache
from botschaft.settings import Settings
from botschaft.storage.notifier import Notifier
from botschaft.web import (
    clicks,
    health,
    join,
    preferences,
    sandbox_api,
    sandbox_page,
    webchat,
    webhooks,
)
from botschaft.web.admin import (
    account_pages,
    audience_screens,
    business_pages,
    campaign_actions,
    campaign_screens,
    contact_pages,
    settings_pages,
    signup_screens,
    team_pages,
    token_pages,
)
from botschaft.web.api import (
    audiences,
    campaigns,
    contact_fields,
    conversations,
    response_time,
    signup_pages,
)
from botschaft.web.errors import install_error_handlers
from botschaft.web.inbox import files as inbox_files
from botschaft.web.inbox import live as inbox_live
from botschaft.web.inbox import pages as inbox_pages
from botschaft.web.inbox import settings as inbox_settings
from botschaft.worker.dispatcher import Dispatcher
from botschaft.worker.inbound_lane import InboundLane
from botschaft.worker.scheduler import run_scheduler


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the FastAPI app. The database must be migrated already (``serve`` does it)."""
    ctx = Context.open(settings, clock)
    channels = Channels.from_settings(settings, ctx.clock)
    intake = IntakeQueue(ctx)
    lane = InboundLane(ctx, channels, intake)
    notifier = Notifier(ctx.db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The inbound lane always runs with the web app: webhooks must reach the inbox even
        # when the dispatcher and scheduler run in separate worker processes.
        tasks = [
            asyncio.create_task(intake.run(), name="intake"),
            asyncio.create_task(lane.run(), name="inbound-lane"),
        ]
        if settings.embedded_worker:
            tasks.append(asyncio.create_task(run_scheduler(ctx), name="scheduler"))
            dispatcher = Dispatcher(ctx, channels, notifier=notifier)
            tasks.append(asyncio.create_task(dispatcher.run(), name="dispatcher"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await channels.close()
            notifier.close()
            ctx.close()

    app = FastAPI(
        title="Botschaft",
        version=__version__,
        summary="Consent-first messenger marketing and customer service.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.channels = channels
    app.state.inbound_lane = lane
    app.state.intake_queue = intake
    app.state.response_times = ResponseTimeCache()
    app.state.notifier = notifier
    install_error_handlers(app)
    for router in (health.router, webhooks.router, conversations.router, sandbox_api.router,
                   webchat.router, sandbox_page.router, preferences.router, signup_pages.router,
                   join.router, account_pages.router, settings_pages.router,
                   contact_pages.router, signup_screens.router, team_pages.router,
                   token_pages.router, business_pages.router, response_time.router,
                   inbox_pages.router, inbox_pages.reply_router, inbox_files.router,
                   inbox_files.public_router, inbox_live.router, inbox_settings.router,
                   audience_screens.router, campaign_screens.router, campaign_actions.router):
        app.include_router(router)
    for router in (audiences.router, campaigns.router, contact_fields.router, clicks.router):
        app.include_router(router)
    return app
