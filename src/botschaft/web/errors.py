"""One place where our errors become HTTP answers: same code, same message, a 4xx."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from botschaft.domain.errors import BotschaftError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BotschaftError)
    async def _botschaft_error(request: Request, exc: BotschaftError) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status
        )
