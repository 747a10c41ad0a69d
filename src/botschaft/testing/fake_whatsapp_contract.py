"""What the fake WhatsApp Cloud API accepts, and how Meta words refusals and statuses.

Kept apart from the server in ``fake_whatsapp`` so the contract can be read on one page.
Sources: developers.facebook.com/documentation/business-messaging/whatsapp/messages and
…/support/error-codes.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from aiohttp import web

from botschaft.testing.fake_meta import graph_error

Json = dict[str, Any]

SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT = 4096
MAX_BUTTONS = 3
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})

# code → (HTTP status, message, error_data.details), as Meta words them. Meta answers most
# errors with 400; the adapter must not rely on the status, and neither should tests.
ERRORS: dict[int, tuple[int, str, str]] = {
    4: (400, "(#4) Application request limit reached", "Too many API calls."),
    100: (400, "(#100) Invalid parameter", "Invalid parameter."),
    190: (401, "Invalid OAuth access token - Cannot parse access token", ""),
    368: (403, "(#368) Temporarily blocked for policies violations", "Policy violation."),
    80007: (400, "(#80007) Rate limit issues", "The WABA reached its rate limit."),
    130429: (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "(#131000) Something went wrong", "Unknown error. Please retry."),
    131016: (503, "(#131016) Service unavailable", "A service is temporarily unavailable."),
    131026: (
        400,
        "(#131026) Message Undeliverable",
        "Unable to deliver message. The recipient may not be on WhatsApp or may use an old"
        " version.",
    ),
    131030: (400, "(#131030) Recipient phone number not in allowed list", "Add it first."),
    131031: (403, "(#131031) Business Account locked", "The account has been locked."),
    131047: (
        400,
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer"
        " last replied to this number.",
    ),
    131048: (400, "(#131048) Spam rate limit hit", "Too many messages were blocked or reported."),
    131049: (
        400,
        "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
        "Meta chose not to deliver this marketing message.",
    ),
    131050: (
        400,
        "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving"
        " marketing messages on WhatsApp from your business.",
        "The recipient stopped marketing messages.",
    ),
    131056: (
        400,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone"
        " number in a short period of time.",
    ),
    132000: (400, "(#132000) Number of parameters does not match", "Parameter count."),
    132001: (404, "(#132001) Template name does not exist in the translation", "No template."),
}


def refusal_reason(body: object) -> str | None:
    """Why Meta would refuse this request body with error 100, or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be 'whatsapp'."
    if not (body.get("to") or body.get("recipient")):
        return "The parameter to is required."
    kind = body.get("type", "text")
    content = body.get(kind)
    if not isinstance(content, dict):
        return f"The parameter {kind} is required for a message of type {kind!r}."
    if kind == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text:
            return "The parameter text['body'] is required."
        if len(text) > MAX_TEXT:
            return f"text['body'] is longer than {MAX_TEXT} characters."
        return None
    if kind in MEDIA_TYPES:
        return None if content.get("link") or content.get("id") else f"{kind} needs a link or id."
    if kind == "template":
        language = content.get("language")
        if not content.get("name") or not isinstance(language, dict) or not language.get("code"):
            return "A template needs a name and language.code."
        return None
    if kind == "interactive":
        return _interactive_refusal(content)
    return f"Unsupported message type {kind!r}."


def _interactive_refusal(interactive: Json) -> str | None:
    action = interactive.get("action")
    if not isinstance(action, dict):
        return "interactive['action'] is required."
    if interactive.get("type") != "button":
        return None
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return f"An interactive button message takes 1 to {MAX_BUTTONS} buttons."
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type") != "reply":
            return "Each button must be {type: reply, reply: {id, title}}."
        if not reply.get("id") or not reply.get("title"):
            return "Each reply button needs an id and a title."
    body = interactive.get("body")
    return (
        None if isinstance(body, dict) and body.get("text") else "interactive['body'] is required."
    )


def error_response(code: int, details: str | None = None) -> web.Response:
    """Meta's synchronous error answer for ``code``, with ``details`` if given."""
    status, message, default_details = ERRORS[code]
    if not (details or default_details):
        return graph_error(status, code, message)
    error_data = {"messaging_product": "whatsapp", "details": details or default_details}
    return graph_error(status, code, message, error_data=error_data)


def status_error(code: int) -> Json:
    """An item of ``statuses[].errors[]``: how Meta reports ``code`` asynchronously."""
    _, message, details = ERRORS[code]
    title = message.split(") ", 1)[-1]
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def pricing_block(model: Literal["PMP", "CBP"], at: datetime) -> Json:
    """The billing fields of a status: current per-message pricing, or legacy CBP."""
    if model == "PMP":
        return {
            "pricing": {
                "billable": True,
                "pricing_model": "PMP",
                "type": "regular",
                "category": "marketing",
            }
        }
    return {
        "conversation": {
            "id": secrets.token_hex(16),
            "expiration_timestamp": unix_seconds(at + SERVICE_WINDOW),
            "origin": {"type": "marketing"},
        },
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "marketing"},
    }


def new_wamid(recipient: str) -> str:
    """A fresh message id in Meta's ``wamid.<base64>`` form."""
    # Real wamids are base64 of a small protobuf: the recipient and a random hex message id.
    who = recipient.encode()[:64]
    raw = b"\x1c\x18" + bytes([len(who)]) + who + b"\x15\x02\x00\x12\x18\x14"
    raw += secrets.token_hex(10).upper().encode() + b"\x00"
    return "wamid." + base64.b64encode(raw).decode("ascii")


def unix_seconds(at: datetime) -> str:
    """A timestamp as Meta writes it in messages and statuses: a string of Unix seconds."""
    return str(int(at.timestamp()))
