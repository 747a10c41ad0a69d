"""The application factory: every process and every test builds its app from settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from botschaft import __version__
from botschaft.services.clock import Clock
from botschaft.services.context import Context
from botschaft.settings import Settings
from botschaft.web import health
from botschaft.web.errors import install_error_handlers
from botschaft.worker.scheduler import run_scheduler


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the FastAPI app. The database must be migrated already (``serve`` does it)."""
    ctx = Context.open(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if settings.embedded_worker:
            tasks.append(asyncio.create_task(run_scheduler(ctx), name="scheduler"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            ctx.close()

    app = FastAPI(
        title="Botschaft",
        version=__version__,
        summary="Consent-first messenger marketing and customer service.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    return app
