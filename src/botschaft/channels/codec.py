"""Neutral events as JSON, so the intake can store them before anyone handles them."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, is_dataclass
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from botschaft.channels import events as ev

_KINDS: dict[str, type[Any]] = {
    "message": ev.InboundMessage,
    "status": ev.StatusUpdate,
    "preference": ev.PreferenceChange,
    "ignored": ev.IgnoredEvent,
}
_NAMES = {cls: name for name, cls in _KINDS.items()}


def kind_of(event: ev.Event) -> str:
    return _NAMES[type(event)]


def dump_event(event: ev.Event) -> str:
    return json.dumps(asdict(event), default=_plain, ensure_ascii=False, separators=(",", ":"))


def load_event(kind: str, payload: str) -> ev.Event:
    cls = _KINDS[kind]
    return _build(cls, json.loads(payload))  # type: ignore[no-any-return]


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in an event")


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    hints = get_type_hints(cls, vars(ev))
    values = {}
    for field in fields(cls):
        if field.name not in data:
            continue
        values[field.name] = _convert(hints[field.name], data[field.name])
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if get_origin(hint) in (Union, UnionType):
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        return tuple(_convert(item, v) for v in value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and is_dataclass(hint):
        return _build(hint, value)
    return value
