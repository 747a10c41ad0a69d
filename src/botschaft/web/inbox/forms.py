"""Reading the inbox's forms: the reply form is multipart (files), the others urlencoded.

The admin app's CSRF check reads urlencoded forms and the ``X-CSRF-Token`` header; the
reply form, sent by a browser without JavaScript, carries its token as a multipart field,
so it is checked here the same way (same origin, same token, constant-time comparison).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import urlsplit

from fastapi import Request

from botschaft.domain.errors import BotschaftError
from botschaft.web.admin.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    CsrfRejected,
    FormTooLarge,
    current_user,
    read_form,
)

_SLACK = 1024 * 1024  # room for the text fields next to the files


class UnreadableForm(BotschaftError):
    code = "form_unreadable"
    status = 400


@dataclass
class UploadedFile:
    filename: str
    mime_type: str
    data: bytes


@dataclass
class ParsedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)


async def read_reply_form(request: Request, max_file_bytes: int) -> ParsedForm:
    """The reply form's fields and files, after the CSRF check; refuses oversized bodies."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        parsed = ParsedForm(await read_form(request))
    else:
        body = await request.body()
        if len(body) > max_file_bytes * 4 + _SLACK:
            raise FormTooLarge("The files together are larger than a reply may carry.")
        parsed = _multipart(content_type, body)
    await _check_token(request, parsed.fields.get(CSRF_FIELD, ""))
    return parsed


def _multipart(content_type: str, body: bytes) -> ParsedForm:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UnreadableForm("The form could not be read; please send it again.")
    parsed = ParsedForm()
    for part in message.iter_parts():
        _take(parsed, part)
    return parsed


def _take(parsed: ParsedForm, part: Message) -> None:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        return
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename()
    if filename is None:
        parsed.fields[name] = data.decode("utf-8", errors="replace")
    elif data:  # an empty file input sends a part without content
        parsed.files.append(UploadedFile(filename, part.get_content_type(), data))


async def _check_token(request: Request, sent: str) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise CsrfRejected("This form was sent from another website.")
    who = await current_user(request)
    token = request.headers.get(CSRF_HEADER) or sent
    if not token or not hmac.compare_digest(token, who.csrf_secret):
        raise CsrfRejected("The form's security token is missing or out of date.")
