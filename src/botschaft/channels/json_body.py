"""Provider JSON read safely: webhook bodies that must parse, answers that may not."""

from __future__ import annotations

import json
from typing import Any

from botschaft.channels.base import MalformedWebhook


def load_webhook(body: bytes, not_json: str) -> object:
    """The JSON value of a webhook body; ``MalformedWebhook(not_json)`` if it is not JSON.

    ``not_json`` is the message for people; an ``{error}`` in it is replaced by the parser's
    complaint. The value may be of any JSON type: the caller checks its shape.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8, bad JSON and numbers past Python's digit limit;
        # RecursionError a body nested deeper than the parser goes.
        raise MalformedWebhook(not_json.format(error=exc)) from None


def json_object(body: bytes) -> dict[str, Any] | None:
    """A provider's answer as a JSON object, or None if it is not one.

    Proxies and load balancers answer with HTML error pages, so a body that is not JSON, or
    JSON that is not an object, is an answer to judge by its HTTP status, never an exception.
    """
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
