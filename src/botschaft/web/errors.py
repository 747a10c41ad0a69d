"""One place where our errors become HTTP answers: same code, same message, a 4xx.

The API and webhooks answer JSON; the admin app under ``/app/`` answers with a page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from botschaft.domain.errors import BotschaftError, NotFound
from botschaft.web.admin.auth import signed_in
from botschaft.web.admin.rendering import error_page


class BadRequest(BotschaftError):
    code = "bad_request"
    status = 400


def _in_app(request: Request) -> bool:
    return request.url.path == "/app" or request.url.path.startswith("/app/")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BotschaftError)
    async def _botschaft_error(request: Request, exc: BotschaftError) -> Response:
        if _in_app(request):
            await signed_in(request)
            return error_page(request, exc)
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if _in_app(request) and exc.status_code == 404:
            await signed_in(request)
            return error_page(request, NotFound("There is no such page."))
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _in_app(request):
            await signed_in(request)
            return error_page(request, BadRequest("The address or form has a wrong value."))
        return await request_validation_exception_handler(request, exc)
